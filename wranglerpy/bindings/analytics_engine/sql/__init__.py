"""The Analytics Engine SQL API's common subset, answered from the local SQLite store.

tokens.py (lexer) -> parser.py (recursive descent into ast.py) -> translate.py/calls.py (typed
translation to one parameterised SQLite statement) -> run.py (execution with the ClickHouse
functions of functions.py, results in the SQL API's JSON shape).
"""

from wranglerpy.bindings.analytics_engine.sql.run import QueryResult, run_query
from wranglerpy.bindings.analytics_engine.sql.tokens import QueryError

__all__ = ["QueryError", "QueryResult", "run_query"]
