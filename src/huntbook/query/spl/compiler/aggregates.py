"""``AGGREGATES``: stats functions (spl.md §4 stats) -> SQL aggregate expressions.

Values count as strings for count/dc/values/list/mode (``1`` and ``1.0`` are distinct); min/max
are numeric when the values are numbers; avg/sum/stdev/perc ignore non-numeric values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from huntbook.errors import UnsupportedSplError, did_you_mean
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.expr import ExprCompiler
from huntbook.query.spl.compiler.state import State
from huntbook.query.spl.compiler.values import (
    BOOL,
    INT,
    LIST,
    NULL,
    NUM,
    NUMERIC,
    TEXT,
    Val,
    all_values,
    as_num,
    as_text,
    col,
    fn,
    lit,
    non_null,
    num_to_text,
    typed_null,
)


@dataclass(frozen=True)
class AggInput:
    """What an aggregate sees: the argument value and, when ordered, the row-number column."""

    value: Val | None  # None for a bare count
    rownum: str | None
    time: exp.Expr | None


Builder = Callable[[AggInput, ast.Agg], Val]


@dataclass(frozen=True)
class Aggregate:
    build: Builder
    ordered: bool = False  # needs the current row order (first, last, list)
    note: str = ""


def _text_values(value: Val) -> tuple[exp.Expr, bool]:
    """The value as text (lists stay lists); True when it is a list."""
    if value.kind == LIST:
        return value.expr, True
    return as_text(value), False


def _count(inp: AggInput, agg: ast.Agg) -> Val:
    if inp.value is None:
        return Val(exp.Count(this=exp.Star()), INT)
    if inp.value.kind == BOOL:
        flag = exp.Case(ifs=[exp.If(this=inp.value.expr, true=lit(1))])
        return Val(exp.Count(this=flag), INT)
    if inp.value.kind == NULL:
        return Val(lit(0), INT)
    return Val(exp.Count(this=inp.value.expr), INT)


def _all_values(inp: AggInput) -> exp.Expr:
    """Every non-null value of the group as one list (multivalue fields flattened)."""
    assert inp.value is not None
    return all_values(*_text_values(inp.value))


def _dc(inp: AggInput, agg: ast.Agg) -> Val:
    assert inp.value is not None
    if inp.value.kind == LIST:
        return Val(exp.ArraySize(this=exp.ArrayDistinct(this=_all_values(inp))), INT)
    return Val(exp.Count(this=exp.Distinct(expressions=[as_text(inp.value)])), INT)


def _values(inp: AggInput, agg: ast.Agg) -> Val:
    """Distinct values, sorted lexicographically (byte order)."""
    distinct = exp.ArrayDistinct(this=_all_values(inp))
    return Val(_null_if_empty(exp.ArraySort(this=distinct)), LIST)


def _null_if_empty(lst: exp.Expr) -> exp.Expr:
    empty = exp.EQ(this=exp.ArraySize(this=lst), expression=lit(0))
    return exp.Case(ifs=[exp.If(this=empty, true=typed_null(LIST))], default=lst.copy())


def _list(inp: AggInput, agg: ast.Agg) -> Val:
    """Values in current row order, at most 100 (Splunk's list() cap)."""
    assert inp.value is not None and inp.rownum is not None
    text, is_list = _text_values(inp.value)
    order = exp.Order(this=text, expressions=[exp.Ordered(this=col(inp.rownum), desc=False)])
    collected = non_null(exp.ArrayAgg(this=order), text)
    flat = exp.Flatten(this=collected) if is_list else collected
    return Val(_null_if_empty(fn("list_slice", flat, lit(1), lit(100))), LIST)


def _minmax(cls: type[exp.AggFunc]) -> Builder:
    def build(inp: AggInput, agg: ast.Agg) -> Val:
        assert inp.value is not None
        v = inp.value
        if v.kind in NUMERIC:
            return Val(cls(this=v.expr), v.kind)
        text = as_text(v)
        numeric = cls(this=as_num(Val(text, TEXT)))
        return Val(
            exp.Coalesce(this=num_to_text(numeric), expressions=[cls(this=text.copy())]), TEXT
        )

    return build


def _numeric(make: Callable[[exp.Expr], exp.Expr]) -> Builder:
    def build(inp: AggInput, agg: ast.Agg) -> Val:
        assert inp.value is not None
        return Val(make(as_num(inp.value)), NUM)

    return build


def _range(inp: AggInput, agg: ast.Agg) -> Val:
    assert inp.value is not None
    n = as_num(inp.value)
    return Val(exp.Sub(this=exp.Max(this=n), expression=exp.Min(this=n.copy())), NUM)


def _perc(inp: AggInput, agg: ast.Agg) -> Val:
    assert inp.value is not None
    fraction = (agg.param if agg.param is not None else 50.0) / 100.0
    return Val(fn("quantile_cont", as_num(inp.value), lit(fraction)), NUM)


def _mode(inp: AggInput, agg: ast.Agg) -> Val:
    assert inp.value is not None
    return Val(exp.Anonymous(this="MODE", expressions=[as_text(inp.value)]), TEXT)


def _by_key(pick_max: bool, key_of: Callable[[AggInput], exp.Expr]) -> Builder:
    """earliest/latest (by _time) and first/last (by row order), skipping null values."""

    def build(inp: AggInput, agg: ast.Agg) -> Val:
        assert inp.value is not None
        v = inp.value
        value = v.expr if v.kind in (*NUMERIC, LIST) else as_text(v)
        cls = exp.ArgMax if pick_max else exp.ArgMin
        kind = v.kind if v.kind in (*NUMERIC, LIST) else TEXT
        return Val(non_null(cls(this=value, expression=key_of(inp)), value), kind)

    return build


def _time_key(inp: AggInput) -> exp.Expr:
    return inp.time.copy() if inp.time is not None else lit(0)


def _row_key(inp: AggInput) -> exp.Expr:
    assert inp.rownum is not None
    return col(inp.rownum)


def _time_extreme(cls: type[exp.AggFunc]) -> Builder:
    return lambda inp, agg: Val(cls(this=_time_key(inp)), NUM)


A = Aggregate
AGGREGATES: dict[str, Aggregate] = {
    "count": A(_count),
    "c": A(_count),
    "dc": A(_dc),
    "distinct_count": A(_dc),
    "estdc": A(_dc, note="exact distinct count"),
    "values": A(_values, note="no 100-value limit; sorted byte order"),
    "list": A(_list, ordered=True, note="first 100 values in row order"),
    "min": A(_minmax(exp.Min)),
    "max": A(_minmax(exp.Max)),
    "avg": A(_numeric(lambda n: exp.Avg(this=n))),
    "mean": A(_numeric(lambda n: exp.Avg(this=n))),
    "sum": A(_numeric(lambda n: exp.Sum(this=n))),
    "sumsq": A(_numeric(lambda n: exp.Sum(this=exp.Mul(this=n, expression=n.copy())))),
    "range": A(_range),
    "stdev": A(_numeric(lambda n: exp.Stddev(this=n))),
    "stdevp": A(_numeric(lambda n: exp.StddevPop(this=n))),
    "var": A(_numeric(lambda n: exp.Variance(this=n))),
    "varp": A(_numeric(lambda n: exp.VariancePop(this=n))),
    "median": A(_perc, note="linear interpolation (quantile_cont)"),
    "perc": A(
        _perc, note="percN/pN/exact_percN/upperpercN: linear interpolation, not Splunk's estimate"
    ),
    "mode": A(_mode, note="ties broken arbitrarily"),
    "earliest": A(_by_key(False, _time_key)),
    "latest": A(_by_key(True, _time_key)),
    "earliest_time": A(_time_extreme(exp.Min)),
    "latest_time": A(_time_extreme(exp.Max)),
    "first": A(_by_key(False, _row_key), ordered=True),
    "last": A(_by_key(True, _row_key), ordered=True),
}


def aggregate_input(agg: ast.Agg, state: State, rownum: str | None) -> AggInput:
    """Resolve an aggregate's argument: a field, ``eval(...)``, or nothing (count)."""
    if agg.arg is None:
        if agg.func not in ("count", "c", "earliest_time", "latest_time"):
            raise state.ctx.error(f"{agg.func}() needs a field", agg.pos)
        value = None
    elif isinstance(agg.arg, str):
        value = state.get(agg.arg)
    else:
        value = ExprCompiler(state).compile(agg.arg)
    time = state.get("_time")
    return AggInput(value, rownum, time.expr if time.kind != NULL else None)


def lookup(agg: ast.Agg, state: State) -> Aggregate:
    spec = AGGREGATES.get(agg.func)
    if spec is None:
        hint = did_you_mean(agg.func, AGGREGATES)
        raise UnsupportedSplError(
            f"unsupported stats function {agg.func}().{hint}", state.ctx.text, agg.pos
        )
    return spec


def build(agg: ast.Agg, state: State, rownum: str | None) -> Val:
    return lookup(agg, state).build(aggregate_input(agg, state, rownum), agg)
