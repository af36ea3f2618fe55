"""Function calls of the Analytics Engine SQL subset: aggregates and the scalar helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wranglerpy.bindings.analytics_engine.sql import ast as a
from wranglerpy.bindings.analytics_engine.sql.tokens import QueryError
from wranglerpy.bindings.analytics_engine.sql.translate import (
    NUMERIC,
    WEEK_ORIGIN,
    Typed,
    name_of,
    parse_datetime,
)

if TYPE_CHECKING:
    from wranglerpy.bindings.analytics_engine.sql.translate import Translator

SUPPORTED = (
    "count, sum, avg, min, max, quantileWeighted, intDiv, toStartOfInterval, now, "
    "toDateTime, toUnixTimestamp"
)
# What min()/max()/sum() give over no rows in ClickHouse (SQLite would give NULL).
EMPTY_DEFAULTS = {"String": "''", "DateTime": "0"}


def _arity(expr: a.Call, *counts: int) -> None:
    if len(expr.args) not in counts:
        want = " or ".join(str(c) for c in counts)
        raise QueryError(
            f"Function {expr.name} takes {want} argument(s), got {len(expr.args)} ({name_of(expr)})."
        )


def call(t: Translator, expr: a.Call) -> Typed:
    name = expr.name.lower()
    if name == "count":
        if expr.args in ((), (a.Star(),)):
            return Typed("COUNT(*)", "UInt64")
        _arity(expr, 1)
        return Typed(f"COUNT({t.expr(expr.args[0]).sql})", "UInt64")
    if name in ("sum", "avg", "min", "max"):
        _arity(expr, 1)
        arg = t.expr(expr.args[0])
        if name in ("sum", "avg"):
            t.need(arg, NUMERIC, f"{expr.name}()", expr.args[0])
        elif arg.type == "Interval":
            t.need(arg, NUMERIC, f"{expr.name}()", expr.args[0])
        if name == "avg":
            return Typed(f"AVG({arg.sql})", "Float64")
        if name == "sum":
            kind = (
                "Float64"
                if arg.type == "Float64"
                else "Int64"
                if arg.type.startswith("Int")
                else "UInt64"
            )
            return Typed(f"COALESCE(SUM({arg.sql}), 0)", kind)
        default = EMPTY_DEFAULTS.get(arg.type, "0")
        return Typed(f"COALESCE({name.upper()}({arg.sql}), {default})", arg.type)
    if name == "quantileweighted":
        _arity(expr, 2, 3)
        if len(expr.args) == 2:  # no level: the median, as in ClickHouse
            expr = a.Call(expr.name, (a.Literal(0.5), *expr.args), expr.pos)
        level = expr.args[0]
        if not (
            isinstance(level, a.Literal)
            and not isinstance(level.value, str)
            and 0 <= level.value <= 1
        ):
            raise QueryError(
                f"The level of quantileWeighted must be a number from 0 to 1 ({name_of(expr)})."
            )
        value, weight = t.expr(expr.args[1]), t.expr(expr.args[2])
        t.need(value, NUMERIC, "quantileWeighted()", expr.args[1])
        t.need(weight, NUMERIC, "quantileWeighted() weight", expr.args[2])
        return Typed(
            f"ae_quantile_weighted({t.param(float(level.value))}, {value.sql}, {weight.sql})",
            "Float64",
        )
    if name == "intdiv":
        _arity(expr, 2)
        left, right = t.expr(expr.args[0]), t.expr(expr.args[1])
        t.need(left, NUMERIC, "intDiv()", expr.args[0])
        t.need(right, NUMERIC, "intDiv()", expr.args[1])
        signed = any(x.type in ("Float64",) or x.type.startswith("Int") for x in (left, right))
        return Typed(f"ae_intdiv({left.sql}, {right.sql})", "Int64" if signed else "UInt64")
    if name == "tostartofinterval":
        _arity(expr, 2)
        when, interval = t.expr(expr.args[0]), expr.args[1]
        t.need(when, {"DateTime"}, "toStartOfInterval()", expr.args[0])
        if not isinstance(interval, a.Interval):
            raise QueryError(
                f"The second argument of toStartOfInterval must be an INTERVAL ({name_of(expr)})."
            )
        step = t.interval_seconds(interval)
        if step <= 0 or not float(step).is_integer():
            raise QueryError(
                f"toStartOfInterval needs a whole, positive interval ({name_of(expr)})."
            )
        origin = WEEK_ORIGIN if interval.unit == "WEEK" else 0
        o, s = t.param(origin), t.param(int(step))
        # Integer division floors for timestamps after 1970, which all stored points are.
        return Typed(f"(((CAST({when.sql} AS INTEGER) - {o}) / {s}) * {s} + {o})", "DateTime")
    if name == "now":
        _arity(expr, 0)
        return Typed(t.param(t.now), "DateTime")
    if name == "todatetime":
        _arity(expr, 1)
        source = expr.args[0]
        if isinstance(source, a.Literal) and isinstance(source.value, str):
            return Typed(t.param(parse_datetime(source.value)), "DateTime")
        inner = t.expr(source)
        t.need(inner, NUMERIC | {"DateTime"}, "toDateTime()", source)
        return Typed(f"CAST({inner.sql} AS INTEGER)", "DateTime")
    if name == "tounixtimestamp":
        _arity(expr, 1)
        inner = t.expr(expr.args[0])
        t.need(inner, {"DateTime"}, "toUnixTimestamp()", expr.args[0])
        return Typed(f"CAST({inner.sql} AS INTEGER)", "UInt32")
    raise QueryError(f"Unsupported function {expr.name}() (supported here: {SUPPORTED}).")
