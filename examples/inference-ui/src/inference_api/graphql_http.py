"""GraphQL over HTTP: parse ``{query, variables, operationName}``, execute, shape errors."""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from graphql import ExecutionResult, GraphQLError, parse, specified_rules, validate
from graphql import execute as execute_document

from inference_api.errors import ApiError
from inference_api.graphql_limits import MAX_TOKENS, QueryLimitsRule
from inference_api.keys import Principal
from inference_api.resolvers import CLIENT_ERRORS, Context, Root
from inference_api.schema import SCHEMA

ROOT = Root()
RULES = (*specified_rules, QueryLimitsRule)


def parse_body(raw: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    """``(query, variables, operation_name)``; ApiError(400) for anything malformed."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400, 'Request body must be JSON: {"query": ..., "variables": {...}}'
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object with a 'query' string")
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ApiError(400, "Missing 'query': the body needs a GraphQL query string")
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise ApiError(400, "'variables' must be a JSON object")
    operation = body.get("operationName")
    if operation is not None and not isinstance(operation, str):
        raise ApiError(400, "'operationName' must be a string")
    return query, variables, operation


def _format(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, CLIENT_ERRORS):
        # A bug or a store failure: log it, give the client no internals.
        text = "".join(traceback.format_exception(type(original), original, original.__traceback__))
        print(f"GraphQL resolver failed at {error.path}: {text}", file=sys.stderr)
        error = GraphQLError("Internal server error", error.nodes, path=error.path)
    return dict(error.formatted)


async def _run(
    query: str, variables: dict[str, Any] | None, operation: str | None, context: Context
) -> ExecutionResult:
    """Parse (bounded), validate (with the limits of graphql_limits), then execute."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return ExecutionResult(data=None, errors=[error])
    errors = validate(SCHEMA, document, RULES)
    if errors:
        return ExecutionResult(data=None, errors=errors)
    result = execute_document(
        SCHEMA,
        document,
        root_value=ROOT,
        context_value=context,
        variable_values=variables,
        operation_name=operation,
    )
    return await result if not isinstance(result, ExecutionResult) else result


async def execute(raw_body: bytes, env: Any, principal: Principal) -> dict[str, Any]:
    """The GraphQL response document (always answered with HTTP 200)."""
    query, variables, operation = parse_body(raw_body)
    result = await _run(query, variables, operation, Context(env=env, principal=principal))
    document: dict[str, Any] = {"data": result.data}
    if result.errors:
        document["errors"] = [_format(e) for e in result.errors]
    return document
