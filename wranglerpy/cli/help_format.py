"""Help metavars in click's words (``PATH``, ``TEXT``, ``INTEGER``), not Python's types.

typer's plain help labels a value by its annotation (``<list[Path]>``, ``<str>``), which reads
as Python internals to a user; options that name a metavar themselves keep it.
"""

from __future__ import annotations

import pathlib
from typing import Any, get_args

_NAMES: dict[Any, str] = {
    str: "TEXT",
    int: "INTEGER",
    float: "FLOAT",
    pathlib.Path: "PATH",
}


def _label(annotation: Any) -> str | None:
    args = [a for a in get_args(annotation) if a is not type(None)]
    if annotation in _NAMES:
        return _NAMES[annotation]
    for arg in args:  # list[Path], Path | None, ...
        label = _label(arg)
        if label:
            return label
    return None


def tidy_metavars(command: Any) -> None:
    """Give every option and argument of ``command`` (and its subcommands) a click metavar.

    Duck-typed: typer ships its own copy of click, whose classes are not ``click``'s.
    """
    for param in command.params:
        descriptor = getattr(param, "type_descriptor", None)
        if param.metavar is not None and param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None  # BUCKET/KEY, not BUCKET/KEY <str>
            continue
        if param.metavar is not None or descriptor is None or getattr(param, "is_flag", False):
            continue
        label = _label(descriptor.annotation)
        if label is None:
            continue
        if param.param_type_name == "argument":
            # click shows an argument by its name alone (VERSION_ID); typer adds "<str>".
            param.metavar = (param.name or label).upper()
            param.display_type_rich = lambda ctx: None
        else:
            param.metavar = label
    for sub in (getattr(command, "commands", None) or {}).values():
        tidy_metavars(sub)
