"""Typed SQL values: SPL is dynamically typed, SQL is not, so every compiled expression carries a
kind.

Kinds: ``text`` (VARCHAR), ``int`` (BIGINT), ``num`` (DOUBLE), ``list`` (VARCHAR[], a multivalue
field), ``bool`` (a predicate; never stored in a field), ``null`` (a field absent from the data).
Conversions follow SPL: numbers print without a trailing ``.0``; a scalar used as a list is a
one-element list; a list used as a scalar gives its first value (spl.md §2.4, documented guess).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

TEXT, INT, NUM, LIST, BOOL, NULL = "text", "int", "num", "list", "bool", "null"
NUMERIC = (INT, NUM)
STORE_KINDS = {"double": NUM, "bigint": INT, "text": TEXT, "list": LIST}
_SQL_TYPES = {TEXT: "VARCHAR", INT: "BIGINT", NUM: "DOUBLE", LIST: "VARCHAR[]", BOOL: "BOOLEAN"}


@dataclass(frozen=True)
class Val:
    """A compiled expression and its kind."""

    expr: exp.Expr
    kind: str


_TYPES: dict[str, exp.DataType] = {}


def data_type(text: str) -> exp.DataType:
    """A parsed SQL type, cached: ``DataType.build`` parses text, too slow to repeat per node."""
    built = _TYPES.get(text)
    if built is None:
        built = _TYPES[text] = exp.DataType.build(text, dialect="duckdb")
    return built.copy()


def sql_type(kind: str) -> exp.DataType:
    return data_type(_SQL_TYPES.get(kind, "VARCHAR"))


def typed_null(kind: str) -> exp.Expr:
    return exp.Cast(this=exp.Null(), to=sql_type(kind))


def null_val(kind: str = NULL) -> Val:
    return Val(typed_null(TEXT if kind == NULL else kind), kind)


def lit(value: str | float | int | bool | None) -> exp.Expr:
    """A SQL literal for a Python value (the only way query text reaches SQL)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float):
        # DuckDB reads 1.5 as DECIMAL, whose arithmetic overflows; SPL numbers are doubles.
        return exp.Cast(this=exp.Literal.number(repr(value)), to=data_type("DOUBLE"))
    if isinstance(value, int):
        if value < 0:
            return exp.Neg(this=exp.Literal.number(repr(-value)))
        return exp.Literal.number(repr(value))
    return exp.Literal.string(value)


def col(name: str) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=name, quoted=True))


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """A SQL function by its DuckDB name, as the typed sqlglot node (so Spark renders it too)."""
    return exp.func(name, *args, dialect="duckdb", copy=False)


def try_double(e: exp.Expr) -> exp.Expr:
    return exp.TryCast(this=e, to=data_type("DOUBLE"))


def cast(e: exp.Expr, kind: str) -> exp.Expr:
    return exp.Cast(this=e, to=sql_type(kind))


def num_to_text(e: exp.Expr) -> exp.Expr:
    """Render a DOUBLE the way Splunk prints numbers: ``3`` not ``3.0``."""
    whole = exp.and_(
        exp.EQ(this=e, expression=exp.Floor(this=e.copy())),
        exp.LT(this=exp.Abs(this=e.copy()), expression=lit(1e15)),
    )
    as_int = cast(cast(e.copy(), INT), TEXT)
    return exp.Case(ifs=[exp.If(this=whole, true=as_int)], default=cast(e.copy(), TEXT))


def as_text(v: Val) -> exp.Expr:
    if v.kind == TEXT:
        return v.expr
    if v.kind == INT:
        return cast(v.expr, TEXT)
    if v.kind == NUM:
        return num_to_text(v.expr)
    if v.kind == LIST:
        return first_of(v.expr)
    if v.kind == BOOL:
        return exp.Case(ifs=[exp.If(this=v.expr, true=lit("True"))], default=lit("False"))
    return typed_null(TEXT)


def first_of(e: exp.Expr) -> exp.Expr:
    """First value of a list (SQL is 1-based in DuckDB; sqlglot shifts it for Spark)."""
    return exp.Bracket(this=e, expressions=[lit(1)], offset=1, safe=True)


def as_num(v: Val) -> exp.Expr:
    if v.kind in NUMERIC:
        return v.expr
    if v.kind == TEXT:
        return try_double(v.expr)
    if v.kind == LIST:
        return try_double(first_of(v.expr))
    if v.kind == BOOL:
        return exp.Case(ifs=[exp.If(this=v.expr, true=lit(1))], default=lit(0))
    return typed_null(NUM)


def as_list(v: Val) -> exp.Expr:
    if v.kind == LIST:
        return v.expr
    if v.kind == NULL:
        return typed_null(LIST)
    text = as_text(v)
    return exp.Case(
        ifs=[exp.If(this=exp.Is(this=text, expression=exp.Null()), true=typed_null(LIST))],
        default=exp.Array(expressions=[text.copy()]),
    )


def as_bool(v: Val) -> exp.Expr:
    """Predicates stay predicates; any other value counts as true when present (``where x``)."""
    if v.kind == BOOL:
        return v.expr
    if v.kind == NULL:
        return exp.false()
    return exp.Not(this=exp.Is(this=v.expr, expression=exp.Null()))


def is_null(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=e, expression=exp.Null())


def not_null(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=is_null(e))


def non_null(aggregate: exp.Expr, value: exp.Expr) -> exp.Expr:
    """``aggregate`` over the group's rows where ``value`` is not null (``FILTER (WHERE ...)``)."""
    return exp.Filter(this=aggregate, expression=exp.Where(this=not_null(value.copy())))


def all_values(text: exp.Expr, flatten: bool) -> exp.Expr:
    """Every non-null value of ``text`` in the group as one list (a multivalue field's lists
    flattened, with ``flatten``)."""
    collected = non_null(exp.ArrayAgg(this=text), text)
    return exp.Flatten(this=collected) if flatten else collected


def sorted_distinct(text: exp.Expr) -> exp.Expr:
    """The group's distinct non-null values of the scalar ``text``, sorted (byte order); NULL
    when it has none. One aggregate (``DISTINCT ... ORDER BY``), not ``all_values`` then distinct
    and sorted: faster on large groups, but DuckDB's cost grows faster than the number of
    DISTINCT aggregates in a query (transaction.DISTINCT_AGGREGATES). Spark gets the list form
    (query/spark.py)."""
    distinct = exp.Distinct(expressions=[text])
    order = exp.Order(this=distinct, expressions=[exp.Ordered(this=text.copy())])
    return non_null(exp.ArrayAgg(this=order), text)


def any_element(lst: exp.Expr, pred_of_var: exp.Expr, var: str) -> exp.Expr:
    """TRUE when some element satisfies the predicate (``var`` is the lambda variable)."""
    lam = exp.Lambda(this=pred_of_var, expressions=[exp.to_identifier(var)])
    filtered = exp.ArrayFilter(this=lst, expression=lam)
    return exp.GT(this=exp.ArraySize(this=filtered), expression=lit(0))


def null_safe_not(pred: exp.Expr) -> exp.Expr:
    """NOT that reads an unknown (NULL) predicate as false first, as SPL's NOT (spl.md §1.6)."""
    return exp.Not(this=exp.Coalesce(this=pred, expressions=[exp.false()]))
