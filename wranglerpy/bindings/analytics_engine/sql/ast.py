"""The syntax tree of an Analytics Engine query (immutable, so equal trees compare equal)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Literal:
    value: int | float | str


@dataclass(frozen=True)
class Name:
    """An identifier: a column, or an alias defined in the SELECT list."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Column:
    """A resolved column of the dataset table."""

    name: str


@dataclass(frozen=True)
class Interval:
    amount: float
    unit: str  # SECOND, MINUTE, HOUR, DAY, WEEK (upper case)


@dataclass(frozen=True)
class Star:
    pass


@dataclass(frozen=True)
class Call:
    name: str  # as written
    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "NOT"
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / % = != < <= > >= AND OR
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList:
    expr: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    expr: Expr
    pattern: Expr
    negated: bool


@dataclass(frozen=True)
class Between:
    expr: Expr
    low: Expr
    high: Expr
    negated: bool


Expr = Literal | Name | Column | Interval | Star | Call | Unary | Binary | InList | Like | Between


@dataclass(frozen=True)
class SelectItem:
    expr: Expr
    alias: str | None


@dataclass(frozen=True)
class OrderItem:
    expr: Expr
    descending: bool


@dataclass(frozen=True)
class Select:
    items: tuple[SelectItem, ...]
    table: str
    where: Expr | None = None
    group_by: tuple[Expr, ...] = ()
    having: Expr | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int = 0
    format: str | None = None
