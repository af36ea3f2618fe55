"""Turns a parsed query into one SQLite statement over the dataset's ``points`` table.

User text never reaches the SQL: columns come from a fixed list, functions from a fixed
table, and every literal becomes a numbered parameter. Types follow ClickHouse's closely
enough to refuse what Analytics Engine refuses (comparing a String with a number, an
ungrouped column beside an aggregate) instead of answering something else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wranglerpy.bindings.analytics_engine.sql import ast as a
from wranglerpy.bindings.analytics_engine.sql.tokens import QueryError

BLOBS = [f"blob{i}" for i in range(1, 21)]
DOUBLES = [f"double{i}" for i in range(1, 21)]
COLUMNS: dict[str, str] = {
    "dataset": "String",
    "timestamp": "DateTime",
    "_sample_interval": "UInt32",
    "index1": "String",
    **{b: "String" for b in BLOBS},
    **{d: "Float64" for d in DOUBLES},
}
STORED = [c for c in COLUMNS if c != "dataset"]
INTEGERS = {"UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64"}
NUMERIC = INTEGERS | {"Float64"}
UNIT_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 7 * 86400}
AGGREGATES = {"count", "sum", "avg", "min", "max", "quantileweighted"}
SCALARS = {"intdiv", "tostartofinterval", "now", "todatetime", "tounixtimestamp"}
# Monday 1970-01-05: ClickHouse's weeks start on Mondays.
WEEK_ORIGIN = 4 * 86400
COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
FUNCTION_NAMES = {
    "+": "plus", "-": "minus", "*": "multiply", "/": "divide", "%": "modulo", "=": "equals",
    "!=": "notEquals", "<": "less", "<=": "lessOrEquals", ">": "greater",
    ">=": "greaterOrEquals", "AND": "and", "OR": "or",
}  # fmt: skip


@dataclass
class Typed:
    sql: str
    type: str


@dataclass
class Compiled:
    sql: str
    params: list[Any]
    columns: list[tuple[str, str]]  # (name, ClickHouse type)
    limit: int | None
    offset: int
    format: str | None
    table: str


def int_type(value: int) -> str:
    if value >= 0:
        for bits in (8, 16, 32):
            if value < 2**bits:
                return f"UInt{bits}"
        return "UInt64"
    for bits in (8, 16, 32):
        if value >= -(2 ** (bits - 1)):
            return f"Int{bits}"
    return "Int64"


def parse_datetime(text: str) -> float:
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise QueryError(
            f"Cannot parse {text!r} as a DateTime (use 'YYYY-MM-DD hh:mm:ss')."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)  # Analytics Engine works in UTC
    return value.timestamp()


def name_of(expr: a.Expr) -> str:
    """The column name ClickHouse gives an unaliased expression (its normalised text)."""
    if isinstance(expr, (a.Column, a.Name)):
        return expr.name
    if isinstance(expr, a.Literal):
        return f"'{expr.value}'" if isinstance(expr.value, str) else repr(expr.value)
    if isinstance(expr, a.Star):
        return "*"
    if isinstance(expr, a.Interval):
        amount = int(expr.amount) if expr.amount.is_integer() else expr.amount
        return f"toInterval{expr.unit.title()}({amount})"
    if isinstance(expr, a.Call):
        args = "" if expr.args == (a.Star(),) else ", ".join(name_of(x) for x in expr.args)
        return f"{expr.name}({args})"
    if isinstance(expr, a.Unary):
        return f"{'negate' if expr.op == '-' else 'not'}({name_of(expr.operand)})"
    if isinstance(expr, a.Binary):
        return f"{FUNCTION_NAMES[expr.op]}({name_of(expr.left)}, {name_of(expr.right)})"
    if isinstance(expr, a.InList):
        items = ", ".join(name_of(x) for x in expr.items)
        return f"{'notIn' if expr.negated else 'in'}({name_of(expr.expr)}, ({items}))"
    if isinstance(expr, a.Like):
        return f"{'notLike' if expr.negated else 'like'}({name_of(expr.expr)}, {name_of(expr.pattern)})"
    assert isinstance(expr, a.Between)
    inner = f"{name_of(expr.expr)}, {name_of(expr.low)}, {name_of(expr.high)}"
    return f"{'notBetween' if expr.negated else 'between'}({inner})"


def children(expr: a.Expr) -> Iterator[a.Expr]:
    if isinstance(expr, a.Call):
        yield from expr.args
    elif isinstance(expr, a.Unary):
        yield expr.operand
    elif isinstance(expr, a.Binary):
        yield from (expr.left, expr.right)
    elif isinstance(expr, a.InList):
        yield expr.expr
        yield from expr.items
    elif isinstance(expr, a.Like):
        yield from (expr.expr, expr.pattern)
    elif isinstance(expr, a.Between):
        yield from (expr.expr, expr.low, expr.high)


def is_aggregate(expr: a.Expr) -> bool:
    return isinstance(expr, a.Call) and expr.name.lower() in AGGREGATES


def has_aggregate(expr: a.Expr) -> bool:
    return is_aggregate(expr) or any(has_aggregate(c) for c in children(expr))


@dataclass
class Translator:
    query: a.Select
    dataset: str
    now: float
    params: list[Any] = field(default_factory=list)
    _slots: dict[tuple[type, Any], int] = field(default_factory=dict)

    # -- names -----------------------------------------------------------------------------

    def resolve(
        self, expr: a.Expr, aliases: dict[str, a.Expr], busy: frozenset[str] = frozenset()
    ) -> a.Expr:
        """Replace names by columns or by the expression their alias stands for."""
        if isinstance(expr, a.Name):
            if expr.name in aliases and expr.name not in busy:
                return self.resolve(aliases[expr.name], aliases, busy | {expr.name})
            if expr.name in COLUMNS:
                return a.Column(expr.name)
            known = ", ".join(
                ["blob1..blob20", "double1..double20", "index1", "timestamp", "_sample_interval"]
            )
            raise QueryError(f"Unknown column or alias {expr.name!r} (columns: {known}).")
        rebuild: Callable[[a.Expr], a.Expr] = lambda e: self.resolve(e, aliases, busy)  # noqa: E731
        if isinstance(expr, a.Call):
            return a.Call(expr.name, tuple(rebuild(x) for x in expr.args), expr.pos)
        if isinstance(expr, a.Unary):
            return a.Unary(expr.op, rebuild(expr.operand))
        if isinstance(expr, a.Binary):
            return a.Binary(expr.op, rebuild(expr.left), rebuild(expr.right))
        if isinstance(expr, a.InList):
            return a.InList(rebuild(expr.expr), tuple(rebuild(x) for x in expr.items), expr.negated)
        if isinstance(expr, a.Like):
            return a.Like(rebuild(expr.expr), rebuild(expr.pattern), expr.negated)
        if isinstance(expr, a.Between):
            return a.Between(
                rebuild(expr.expr), rebuild(expr.low), rebuild(expr.high), expr.negated
            )
        return expr

    # -- the statement ---------------------------------------------------------------------

    def compile(self) -> Compiled:
        q = self.query
        items: list[tuple[a.Expr, str]] = []
        for item in q.items:
            if isinstance(item.expr, a.Star):
                items += [(a.Name(c), c) for c in COLUMNS]
            else:
                items.append((item.expr, item.alias or name_of(item.expr)))
        aliases = {i.alias: i.expr for i in q.items if i.alias}
        names = [n for _, n in items]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise QueryError(
                f"Duplicate output column {dupes[0]!r}: give the expressions different AS aliases."
            )

        def positional(expr: a.Expr, clause: str) -> a.Expr:
            if isinstance(expr, a.Literal) and isinstance(expr.value, int):
                if not 1 <= expr.value <= len(items):
                    raise QueryError(
                        f"{clause} position {expr.value} is out of range (1..{len(items)})."
                    )
                return items[expr.value - 1][0]
            return expr

        select = [self.resolve(e, aliases) for e, _ in items]
        where = None if q.where is None else self.resolve(q.where, aliases)
        group = [self.resolve(positional(g, "GROUP BY"), aliases) for g in q.group_by]
        having = None if q.having is None else self.resolve(q.having, aliases)
        order = [
            (self.resolve(positional(o.expr, "ORDER BY"), aliases), o.descending)
            for o in q.order_by
        ]

        if where is not None and has_aggregate(where):
            raise QueryError("Aggregate functions are not allowed in WHERE (use HAVING).")
        for g in group:
            if has_aggregate(g):
                raise QueryError(f"Aggregate functions are not allowed in GROUP BY ({name_of(g)}).")
        aggregated = (
            bool(group)
            or any(has_aggregate(e) for e in [*select, *(o for o, _ in order)])
            or having is not None
        )
        for expr in [*select, *(o for o, _ in order), *([having] if having is not None else [])]:
            self.check_grouped(expr, group, aggregated, inside=False)

        select_sql = [self.expr(e) for e in select]
        columns = [(n, t.type) for (_, n), t in zip(items, select_sql, strict=True)]
        sql = "SELECT " + ", ".join(t.sql for t in select_sql) + " FROM points"
        if where is not None:
            sql += " WHERE " + self.condition(where, "WHERE")
        if group:
            sql += " GROUP BY " + ", ".join(self.by_position(g, select) for g in group)
        if having is not None:
            sql += " HAVING " + self.condition(having, "HAVING")
        if order:
            sql += " ORDER BY " + ", ".join(
                self.by_position(o, select) + (" DESC" if desc else " ASC") for o, desc in order
            )
        return Compiled(sql, self.params, columns, q.limit, q.offset, q.format, q.table)

    def by_position(self, expr: a.Expr, select: list[a.Expr]) -> str:
        # The select list's own column when it is the same expression: SQLite then groups and
        # sorts by exactly what it outputs.
        for index, item in enumerate(select, 1):
            if item == expr:
                return str(index)
        typed = self.expr(expr)
        if typed.type == "Interval":
            raise QueryError("Cannot group or sort by an INTERVAL.")
        return typed.sql

    def condition(self, expr: a.Expr, clause: str) -> str:
        typed = self.expr(expr)
        if typed.type not in NUMERIC:
            raise QueryError(f"{clause} needs a condition, got a {typed.type} ({name_of(expr)}).")
        return typed.sql

    def check_grouped(
        self, expr: a.Expr, group: list[a.Expr], aggregated: bool, inside: bool
    ) -> None:
        if not inside and expr in group:
            return
        if is_aggregate(expr):
            if inside:
                raise QueryError(
                    f"Aggregate function {name_of(expr)} is found inside another aggregate function."
                )
            for arg in children(expr):
                self.check_grouped(arg, group, aggregated, inside=True)
            return
        if isinstance(expr, a.Column) and aggregated and not inside:
            raise QueryError(
                f"Column {expr.name} is not under an aggregate function and not in GROUP BY."
            )
        for child in children(expr):
            self.check_grouped(child, group, aggregated, inside)

    # -- expressions -----------------------------------------------------------------------

    def param(self, value: Any) -> str:
        slot = self._slots.get((type(value), value))
        if slot is None:
            self.params.append(value)
            slot = self._slots[(type(value), value)] = len(self.params)
        return f"?{slot}"

    def expr(self, expr: a.Expr) -> Typed:
        if isinstance(expr, a.Literal):
            value = expr.value
            kind = (
                "String"
                if isinstance(value, str)
                else "Float64"
                if isinstance(value, float)
                else int_type(value)
            )
            return Typed(self.param(value), kind)
        if isinstance(expr, a.Column):
            if expr.name == "dataset":
                return Typed(self.param(self.dataset), "String")
            return Typed(f'"{expr.name}"', COLUMNS[expr.name])
        if isinstance(expr, a.Interval):
            return Typed("", "Interval")
        if isinstance(expr, a.Star):
            raise QueryError("* is only allowed alone in SELECT or in count(*).")
        if isinstance(expr, a.Unary):
            inner = self.expr(expr.operand)
            self.need(inner, NUMERIC, expr.op, expr.operand)
            if expr.op == "NOT":
                return Typed(f"(NOT {inner.sql})", "UInt8")
            return Typed(f"(-{inner.sql})", "Float64" if inner.type == "Float64" else "Int64")
        if isinstance(expr, a.Binary):
            return self.binary(expr)
        if isinstance(expr, a.InList):
            left = self.expr(expr.expr)
            items = [self.comparable(left, x, "IN") for x in expr.items]
            op = "NOT IN" if expr.negated else "IN"
            return Typed(f"({left.sql} {op} ({', '.join(items)}))", "UInt8")
        if isinstance(expr, a.Like):
            left, pattern = self.expr(expr.expr), self.expr(expr.pattern)
            self.need(left, {"String"}, "LIKE", expr.expr)
            self.need(pattern, {"String"}, "LIKE", expr.pattern)
            sql = f"ae_like({left.sql}, {pattern.sql})"
            return Typed(f"(NOT {sql})" if expr.negated else sql, "UInt8")
        if isinstance(expr, a.Between):
            left = self.expr(expr.expr)
            low = self.comparable(left, expr.low, "BETWEEN")
            high = self.comparable(left, expr.high, "BETWEEN")
            op = "NOT BETWEEN" if expr.negated else "BETWEEN"
            return Typed(f"({left.sql} {op} {low} AND {high})", "UInt8")
        if isinstance(expr, a.Call):
            from wranglerpy.bindings.analytics_engine.sql.calls import call

            return call(self, expr)
        raise QueryError(f"Unknown name {name_of(expr)!r}.")

    def need(self, typed: Typed, allowed: set[str], what: str, expr: a.Expr) -> None:
        if typed.type not in allowed:
            raise QueryError(f"Illegal type {typed.type} of {name_of(expr)} for {what}.")

    def comparable(self, left: Typed, right_expr: a.Expr, op: str) -> str:
        """SQL for ``right_expr`` compared with ``left`` (a DateTime takes a date string)."""
        if (
            left.type == "DateTime"
            and isinstance(right_expr, a.Literal)
            and isinstance(right_expr.value, str)
        ):
            return self.param(parse_datetime(right_expr.value))
        right = self.expr(right_expr)
        groups = [{"String"}, NUMERIC | {"DateTime"}]
        if not any(left.type in g and right.type in g for g in groups):
            raise QueryError(
                f"Cannot compare {left.type} with {right.type} ({op} {name_of(right_expr)})."
            )
        return right.sql

    def binary(self, expr: a.Binary) -> Typed:
        if expr.op in ("AND", "OR"):
            left, right = self.expr(expr.left), self.expr(expr.right)
            self.need(left, NUMERIC, expr.op, expr.left)
            self.need(right, NUMERIC, expr.op, expr.right)
            return Typed(f"({left.sql} {expr.op} {right.sql})", "UInt8")
        if expr.op in COMPARISONS:
            left_expr, right_expr, op = expr.left, expr.right, expr.op
            if isinstance(left_expr, a.Literal) and isinstance(left_expr.value, str):
                # 'date' < timestamp: compare from the typed side
                left_expr, right_expr = right_expr, left_expr
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            left = self.expr(left_expr)
            if left.type == "Interval":
                raise QueryError("An INTERVAL can only be added to or subtracted from a DateTime.")
            right_sql = self.comparable(left, right_expr, op)
            return Typed(f"({left.sql} {op} {right_sql})", "UInt8")
        left, right = self.expr(expr.left), self.expr(expr.right)
        if "Interval" in (left.type, right.type):
            return self.date_arithmetic(expr, left, right)
        if left.type == "DateTime" and right.type in NUMERIC and expr.op in "+-":
            return Typed(f"({left.sql} {expr.op} {right.sql})", "DateTime")
        self.need(left, NUMERIC, expr.op, expr.left)
        self.need(right, NUMERIC, expr.op, expr.right)
        if expr.op == "/":
            return Typed(f"ae_div({left.sql}, {right.sql})", "Float64")
        if expr.op == "%":
            kind = "Float64" if "Float64" in (left.type, right.type) else "Int64"
            return Typed(f"ae_mod({left.sql}, {right.sql})", kind)
        if "Float64" in (left.type, right.type):
            kind = "Float64"
        elif expr.op == "-" or left.type.startswith("Int") or right.type.startswith("Int"):
            kind = "Int64"
        else:
            kind = "UInt64"
        return Typed(f"({left.sql} {expr.op} {right.sql})", kind)

    def date_arithmetic(self, expr: a.Binary, left: Typed, right: Typed) -> Typed:
        interval, other = (expr.right, left) if right.type == "Interval" else (expr.left, right)
        if (
            other.type != "DateTime"
            or expr.op not in "+-"
            or (expr.op == "-" and left.type == "Interval")
        ):
            raise QueryError("An INTERVAL can only be added to or subtracted from a DateTime.")
        assert isinstance(interval, a.Interval)
        return Typed(
            f"({other.sql} {expr.op} {self.param(self.interval_seconds(interval))})", "DateTime"
        )

    @staticmethod
    def interval_seconds(interval: a.Interval) -> float:
        if interval.unit not in UNIT_SECONDS:
            raise QueryError(
                f"INTERVAL ... {interval.unit} is not supported locally (calendar units vary in "
                "length); use SECOND, MINUTE, HOUR, DAY or WEEK."
            )
        seconds = interval.amount * UNIT_SECONDS[interval.unit]
        return int(seconds) if float(seconds).is_integer() else seconds
