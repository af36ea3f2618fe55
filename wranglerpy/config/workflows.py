"""``[[workflows]]``: which class runs a workflow and which binding starts it.

Name rules follow workers-sdk packages/workflows-shared/src/lib/validators.ts
(``^[a-zA-Z0-9_][a-zA-Z0-9-_]*$``, at most 64 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wranglerpy.config.fields import Reader, join

_NAME = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9-_]*$")
MAX_NAME_LENGTH = 64
_KEYS = ("name", "binding", "class_name", "script_name", "limits", "remote", "experimental_remote")


@dataclass(frozen=True)
class Workflow:
    """``env.<binding>`` creates instances of workflow ``name``, run by ``class_name`` in
    ``script_name`` (this worker when not set)."""

    name: str
    binding: str
    class_name: str
    script_name: str | None = None
    step_limit: int | None = None


def parse_workflows(r: Reader, t: dict[str, Any], path: str) -> tuple[Workflow, ...]:
    out = []
    for where, item in r.table_list(t, "workflows", path):
        r.unknown_keys(item, _KEYS, where)
        name = r.required_string(item, "name", where)
        if len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
            raise r.error(
                join(where, "name"),
                f'invalid workflow name "{name}": use letters, digits, "-" and "_" '
                f'(not starting with "-"), at most {MAX_NAME_LENGTH} characters',
            )
        class_name = r.required_string(item, "class_name", where)
        if not class_name.isidentifier():
            raise r.error(join(where, "class_name"), f'"{class_name}" is not a Python class name')
        limits = r.table(item, "limits", where) or {}
        steps = r.integer(limits, "steps", join(where, "limits"))
        out.append(
            Workflow(
                name=name,
                binding=r.identifier(item, "binding", where),
                class_name=class_name,
                script_name=r.string(item, "script_name", where),
                step_limit=steps,
            )
        )
    return tuple(out)
