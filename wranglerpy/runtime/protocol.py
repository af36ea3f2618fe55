"""Names shared by the caller and the target of a service binding."""

from __future__ import annotations

# Carries the target's registry token: marks a request as a binding call (for RPC and tail).
BINDING_TOKEN_HEADER = "x-wranglerpy-binding"
# One id for a request and every binding call it makes, so tails of both workers line up.
TRACE_HEADER = "x-wranglerpy-trace"
# The caller's worker name, shown in the target's tail.
CALLER_HEADER = "x-wranglerpy-caller"
# Which WorkerEntrypoint class of the target answers (the binding's `entrypoint`).
ENTRYPOINT_HEADER = "x-wranglerpy-entrypoint"
RPC_PATH_PREFIX = "/__wranglerpy/rpc/"
INTERNAL_HEADERS = frozenset({BINDING_TOKEN_HEADER, CALLER_HEADER, ENTRYPOINT_HEADER})
