"""Limits on what one GraphQL document may ask, checked before anything runs.

A query is refused at validation (nothing executes, no store is touched) when it nests deeper
than ``MAX_DEPTH``, uses more than ``MAX_ALIASES`` aliases, selects more than ``MAX_COST``
fields in all (fragments counted where they are spread), or runs more than
``MAX_MUTATIONS`` mutation fields in one operation. ``MAX_TOKENS`` bounds the parser itself,
so a 20,000-alias document is refused before it is even parsed in full.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
)

MAX_TOKENS = 2_000
MAX_DEPTH = 15  # the standard introspection query needs 14
MAX_ALIASES = 20
MAX_COST = 300  # the standard introspection query selects 220
MAX_MUTATIONS = 5


class _Walk:
    """Depth, field count and alias count of one operation, fragments expanded."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.depth = 0
        self.cost = 0
        self.aliases = 0

    def selection_set(
        self, node: SelectionSetNode | None, depth: int, seen: frozenset[str]
    ) -> None:
        if node is None:
            return
        for selection in node.selections:
            if self.cost > MAX_COST or self.depth > MAX_DEPTH:
                return  # already over: stop walking early
            if isinstance(selection, FieldNode):
                self.cost += 1
                self.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    self.depth = max(self.depth, depth + 1)
                self.selection_set(selection.selection_set, depth + 1, seen)
            elif isinstance(selection, InlineFragmentNode):
                self.selection_set(selection.selection_set, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # cycles are another rule's job
                    self.selection_set(fragment.selection_set, depth, seen | {name})


class QueryLimitsRule(ASTValidationRule):
    """graphql-core validation rule applying the limits above to each operation."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        document = context.document
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        walk = _Walk(self.fragments)
        walk.selection_set(node.selection_set, 0, frozenset())
        if walk.depth > MAX_DEPTH:
            self.report(f"Query is nested too deeply: at most {MAX_DEPTH} levels", node)
        if walk.aliases > MAX_ALIASES:
            self.report(f"Query uses too many aliases: at most {MAX_ALIASES}", node)
        if walk.cost > MAX_COST:
            self.report(f"Query selects too many fields: at most {MAX_COST}", node)
        if node.operation == OperationType.MUTATION:
            mutations = sum(isinstance(s, FieldNode) for s in node.selection_set.selections)
            if mutations > MAX_MUTATIONS:
                self.report(
                    f"Too many mutations in one request: {mutations} (at most {MAX_MUTATIONS})",
                    node,
                )

    def report(self, message: str, node: OperationDefinitionNode) -> None:
        self.report_error(GraphQLError(message, node))
