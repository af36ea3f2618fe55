"""A recursive-descent parser for the SELECT subset of the Analytics Engine SQL API.

Anything outside the subset stops with a :class:`QueryError` that names the construct and
where it is, so a query is either answered as Cloudflare would or refused.
"""

from __future__ import annotations

from wranglerpy.bindings.analytics_engine.sql import ast as a
from wranglerpy.bindings.analytics_engine.sql.tokens import QueryError, Token, tokenize, where

INTERVAL_UNITS = {"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}
# Words that start a clause: never taken as an implicit alias.
CLAUSE_WORDS = {
    "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FORMAT", "AS", "AND",
    "OR", "NOT", "IN", "LIKE", "BETWEEN", "ASC", "DESC", "BY", "SETTINGS", "UNION", "JOIN",
    "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "ARRAY", "PREWHERE", "SAMPLE", "FINAL", "WINDOW",
    "WITH", "INTO", "ON", "USING", "QUALIFY", "IS", "ILIKE", "NULLS", "COLLATE", "GLOBAL", "ANY",
    "ALL", "EXCEPT", "INTERSECT", "OVER",
}  # fmt: skip
# Constructs we recognise only to refuse them clearly.
UNSUPPORTED_AFTER_FROM = {
    "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "ARRAY", "PREWHERE", "SAMPLE", "FINAL",
    "UNION", "WINDOW", "SETTINGS", "EXCEPT", "INTERSECT", "INTO", "QUALIFY", "GLOBAL", "ANY",
    "ALL", "USING",
}  # fmt: skip


# How deeply parentheses and unary operators may nest. The parser and the translator recurse
# once per level, so a bound keeps a hostile query from exhausting Python's stack;
# ClickHouse has the same kind of guard (``max_parser_depth``).
MAX_DEPTH = 64


def parse(text: str) -> a.Select:
    parser = Parser(text)
    parser.check_depth()
    try:
        return parser.query()
    except RecursionError:
        raise QueryError(f"Maximum parse depth ({MAX_DEPTH}) exceeded.") from None


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- helpers ---------------------------------------------------------------------------

    def check_depth(self) -> None:
        """Refuse a query nested deeper than MAX_DEPTH before recursing into it."""
        depth = 0
        for tok in self.tokens:
            if tok.kind == "op" and tok.value == "(":
                depth += 1
            elif tok.kind == "op" and tok.value == ")":
                depth = max(depth - 1, 0)
            if depth > MAX_DEPTH:
                raise QueryError(
                    f"Maximum parse depth ({MAX_DEPTH}) exceeded at "
                    f"{where(self.text, tok.pos)}: the query nests too deeply."
                )

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def accept_word(self, *words: str) -> bool:
        if self.tok.is_word(*words):
            self.advance()
            return True
        return False

    def accept_op(self, *ops: str) -> str | None:
        if self.tok.kind == "op" and self.tok.value in ops:
            return self.advance().value
        return None

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise self.error(f"Expected {word}")

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            raise self.error(f"Expected {op!r}")

    def error(self, message: str, tok: Token | None = None) -> QueryError:
        tok = tok or self.tok
        found = "the end of the query" if tok.kind == "eof" else repr(tok.value)
        return QueryError(f"{message} at {where(self.text, tok.pos)} (found {found}).")

    def unsupported(self, what: str, tok: Token | None = None) -> QueryError:
        tok = tok or self.tok
        return QueryError(
            f"Unsupported SQL: {what} (at {where(self.text, tok.pos)}). The local Analytics "
            "Engine answers SELECT ... FROM <dataset> [WHERE] [GROUP BY] [HAVING] [ORDER BY] "
            "[LIMIT] [FORMAT]."
        )

    # -- statement -------------------------------------------------------------------------

    def query(self) -> a.Select:
        if self.tok.is_word("WITH"):
            raise self.unsupported("WITH (common table expressions)")
        if self.tok.is_word("SHOW", "DESCRIBE", "DESC", "INSERT", "CREATE", "DROP", "ALTER"):
            raise self.unsupported(f"{self.tok.value.upper()} statements (only SELECT is answered)")
        self.expect_word("SELECT")
        if self.tok.is_word("DISTINCT"):
            raise self.unsupported("SELECT DISTINCT (use GROUP BY)")
        items = [self.select_item()]
        while self.accept_op(","):
            items.append(self.select_item())
        self.expect_word("FROM")
        table = self.table()
        self.check_unsupported()
        where_ = self.expr() if self.accept_word("WHERE") else None
        group: list[a.Expr] = []
        if self.accept_word("GROUP"):
            self.expect_word("BY")
            group.append(self.expr())
            while self.accept_op(","):
                group.append(self.expr())
            if self.tok.is_word("WITH"):
                raise self.unsupported("GROUP BY ... WITH ROLLUP/CUBE/TOTALS")
        having = self.expr() if self.accept_word("HAVING") else None
        order: list[a.OrderItem] = []
        if self.accept_word("ORDER"):
            self.expect_word("BY")
            order.append(self.order_item())
            while self.accept_op(","):
                order.append(self.order_item())
        limit, offset = self.limit()
        fmt = None
        if self.accept_word("FORMAT"):
            if self.tok.kind != "ident":
                raise self.error("Expected a format name after FORMAT")
            fmt = self.advance().value
        self.accept_op(";")
        if self.tok.kind != "eof":
            self.check_unsupported()
            raise self.error("Unexpected text after the query")
        return a.Select(
            tuple(items), table, where_, tuple(group), having, tuple(order), limit, offset, fmt
        )

    def check_unsupported(self) -> None:
        tok = self.tok
        if tok.kind == "ident" and tok.value.upper() in UNSUPPORTED_AFTER_FROM:
            raise self.unsupported(tok.value.upper())
        if tok.kind == "op" and tok.value == ",":
            raise self.unsupported("several tables in FROM (joins)")

    def table(self) -> str:
        tok = self.tok
        if tok.kind == "op" and tok.value == "(":
            raise self.unsupported("subqueries in FROM")
        if tok.kind not in ("ident", "qident", "str"):
            raise self.error("Expected a dataset name after FROM")
        self.advance()
        if self.tok.kind == "op" and self.tok.value == ".":
            raise self.unsupported("database-qualified table names")
        if self.tok.kind == "op" and self.tok.value == "(":
            raise self.unsupported("table functions in FROM")
        if self.accept_word("AS") or (
            self.tok.kind == "ident" and self.tok.value.upper() not in CLAUSE_WORDS
        ):
            raise self.unsupported("table aliases")
        return tok.value

    def select_item(self) -> a.SelectItem:
        if self.tok.kind == "op" and self.tok.value == "*":
            self.advance()
            return a.SelectItem(a.Star(), None)
        expr = self.expr()
        alias = None
        if self.accept_word("AS"):
            if self.tok.kind not in ("ident", "qident"):
                raise self.error("Expected an alias after AS")
            alias = self.advance().value
        elif self.tok.kind == "qident" or (
            self.tok.kind == "ident" and self.tok.value.upper() not in CLAUSE_WORDS
        ):
            alias = self.advance().value
        return a.SelectItem(expr, alias)

    def order_item(self) -> a.OrderItem:
        expr = self.expr()
        descending = False
        if self.accept_word("DESC", "DESCENDING"):
            descending = True
        else:
            self.accept_word("ASC", "ASCENDING")
        if self.tok.is_word("NULLS", "COLLATE", "WITH"):
            raise self.unsupported(f"ORDER BY ... {self.tok.value.upper()}")
        return a.OrderItem(expr, descending)

    def limit(self) -> tuple[int | None, int]:
        if not self.accept_word("LIMIT"):
            if self.tok.is_word("OFFSET"):
                raise self.unsupported("OFFSET without LIMIT")
            return None, 0
        first = self.integer()
        if self.accept_op(","):  # LIMIT offset, count
            return self.integer(), first
        if self.tok.is_word("BY"):
            raise self.unsupported("LIMIT ... BY")
        if self.accept_word("OFFSET"):
            return first, self.integer()
        return first, 0

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "num" or not tok.value.isdigit():
            raise self.error("Expected a non-negative integer")
        self.advance()
        return int(tok.value)

    # -- expressions (lowest precedence first) ---------------------------------------------

    def expr(self) -> a.Expr:
        return self.or_()

    def or_(self) -> a.Expr:
        left = self.and_()
        while self.accept_word("OR"):
            left = a.Binary("OR", left, self.and_())
        return left

    def and_(self) -> a.Expr:
        left = self.not_()
        while self.accept_word("AND"):
            left = a.Binary("AND", left, self.not_())
        return left

    def not_(self) -> a.Expr:
        if self.accept_word("NOT"):
            return a.Unary("NOT", self.not_())
        return self.comparison()

    def comparison(self) -> a.Expr:
        left = self.additive()
        while True:
            op = self.accept_op("=", "==", "!=", "<>", "<", "<=", ">", ">=")
            if op is not None:
                op = {"==": "=", "<>": "!="}.get(op, op)
                left = a.Binary(op, left, self.additive())
                continue
            negated = False
            if self.tok.is_word("NOT") and self.peek().is_word("IN", "LIKE", "BETWEEN", "ILIKE"):
                self.advance()
                negated = True
            if self.tok.is_word("ILIKE"):
                raise self.unsupported("ILIKE")
            if self.tok.is_word("IS"):
                raise self.unsupported("IS [NOT] NULL (Analytics Engine columns are never NULL)")
            if self.accept_word("IN"):
                left = a.InList(left, self.in_items(), negated)
            elif self.accept_word("LIKE"):
                left = a.Like(left, self.additive(), negated)
            elif self.accept_word("BETWEEN"):
                low = self.additive()
                self.expect_word("AND")
                left = a.Between(left, low, self.additive(), negated)
            else:
                return left

    def in_items(self) -> tuple[a.Expr, ...]:
        self.expect_op("(")
        if self.tok.is_word("SELECT"):
            raise self.unsupported("subqueries in IN")
        items = [self.expr()]
        while self.accept_op(","):
            items.append(self.expr())
        self.expect_op(")")
        return tuple(items)

    def additive(self) -> a.Expr:
        left = self.multiplicative()
        while True:
            if self.tok.kind == "op" and self.tok.value == "||":
                raise self.unsupported("the || operator (use concat)")
            op = self.accept_op("+", "-")
            if op is None:
                return left
            left = a.Binary(op, left, self.multiplicative())

    def multiplicative(self) -> a.Expr:
        left = self.unary()
        while (op := self.accept_op("*", "/", "%")) is not None:
            left = a.Binary(op, left, self.unary())
        return left

    def unary(self) -> a.Expr:
        if self.accept_op("-"):
            operand = self.unary()
            if isinstance(operand, a.Literal) and not isinstance(operand.value, str):
                return a.Literal(-operand.value)
            return a.Unary("-", operand)
        if self.accept_op("+"):
            return self.unary()
        return self.primary()

    def primary(self) -> a.Expr:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            text = tok.value
            if text.isdigit():
                return a.Literal(int(text))
            try:
                return a.Literal(float(text))
            except ValueError:
                raise self.error("Malformed number", tok) from None
        if tok.kind == "str":
            self.advance()
            return a.Literal(tok.value)
        if tok.kind == "op" and tok.value == "(":
            self.advance()
            if self.tok.is_word("SELECT"):
                raise self.unsupported("subqueries")
            inner = self.expr()
            if self.tok.kind == "op" and self.tok.value == ",":
                raise self.unsupported("tuples")
            self.expect_op(")")
            return inner
        if tok.kind == "op" and tok.value == "[":
            raise self.unsupported("array literals")
        if tok.kind == "qident":
            self.advance()
            return a.Name(tok.value, tok.pos)
        if tok.kind != "ident":
            raise self.error("Expected an expression")
        word = tok.value.upper()
        if word == "INTERVAL":
            return self.interval()
        if word in ("CASE", "CAST", "EXISTS", "SELECT", "NULL", "TRUE", "FALSE", "LAMBDA"):
            raise self.unsupported(word)
        self.advance()
        if self.tok.kind == "op" and self.tok.value == "(":
            return self.call(tok)
        if self.tok.kind == "op" and self.tok.value == ".":
            raise self.unsupported("qualified column names")
        return a.Name(tok.value, tok.pos)

    def call(self, name: Token) -> a.Call:
        self.expect_op("(")
        if self.tok.is_word("DISTINCT"):
            raise self.unsupported(f"{name.value}(DISTINCT ...)")
        args: list[a.Expr] = []
        if self.tok.kind == "op" and self.tok.value == "*":
            self.advance()
            args.append(a.Star())
        elif not (self.tok.kind == "op" and self.tok.value == ")"):
            args.append(self.expr())
            while self.accept_op(","):
                args.append(self.expr())
        self.expect_op(")")
        if self.tok.kind == "op" and self.tok.value == "(":
            if name.value.lower() != "quantileweighted" or len(args) != 1:
                raise self.unsupported(f"parametric aggregate syntax {name.value}(...)(...)")
            # ClickHouse's quantileWeighted(level)(x, weight) is the 3-argument form.
            second = self.call(name)
            return a.Call(name.value, (args[0], *second.args), name.pos)
        if self.tok.is_word("OVER"):
            raise self.unsupported("window functions (OVER)")
        return a.Call(name.value, tuple(args), name.pos)

    def interval(self) -> a.Interval:
        start = self.advance()
        tok = self.tok
        amount_text = tok.value.strip() if tok.kind in ("num", "str") else ""
        unit: str | None = None
        if tok.kind == "str" and " " in amount_text:  # INTERVAL '1 DAY'
            amount_text, unit = amount_text.split(None, 1)
        try:
            amount = float(amount_text)
        except ValueError:
            raise self.error("Expected a number after INTERVAL", tok) from None
        self.advance()
        if unit is None:
            if self.tok.kind != "ident":
                raise self.error("Expected a unit (SECOND, MINUTE, HOUR, DAY, ...) after INTERVAL")
            unit = self.advance().value
        unit = unit.upper().rstrip("S") if unit.upper() != "SECONDS" else "SECOND"
        if unit not in INTERVAL_UNITS:
            raise QueryError(
                f"Unknown INTERVAL unit {unit!r} at {where(self.text, start.pos)}; "
                "use SECOND, MINUTE, HOUR, DAY or WEEK."
            )
        return a.Interval(amount, unit)
