"""Tables for people, JSON for programs: one way every command prints rows.

On a terminal a table is as wide as the terminal and wraps long cells instead of cutting them;
piped or redirected, the same rows come out as JSON (one array per table), so ``| jq`` works
and nothing is lost to an 80-column default.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def is_terminal() -> bool:
    return sys.stdout.isatty()


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    right_aligned: Sequence[str] = (),
) -> None:
    """Print ``rows`` under ``columns``: a table on a terminal, else a JSON array of objects."""
    if not is_terminal():
        objects = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(objects if title is None else {title: objects}, default=str))
        sys.stdout.write("\n")
        return
    table = Table(title=title, title_justify="left", highlight=False)
    for column in columns:
        table.add_column(
            Text(column), justify="right" if column in right_aligned else "left", overflow="fold"
        )
    for row in rows:  # Text: cells are data, never rich markup ("[ai.models]" stays literal)
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    Console(highlight=False).print(table)
