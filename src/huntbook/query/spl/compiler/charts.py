"""bin/bucket, timechart and chart.

Time spans align to the epoch (UTC). Without ``span=`` the span is picked from the data's range
like Splunk's automatic binning (the smallest "nice" span giving at most ``bins`` buckets, 100 by
default). ``BY`` columns need the data's values, so timechart/chart ``BY`` use DuckDB's PIVOT
and the output columns are known only at run time (on Spark, ``huntbook.query.spark`` reads the
series first and makes one column each).
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from huntbook.engines.grid import GridCheck
from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.basic import assign
from huntbook.query.spl.compiler.state import Field, State, alias, aliased_table, ordered
from huntbook.query.spl.compiler.stats import grouped
from huntbook.query.spl.compiler.values import (
    INT,
    NULL,
    NUM,
    TEXT,
    Val,
    as_num,
    as_text,
    cast,
    col,
    lit,
)

_NICE_SPANS = (
    1,
    5,
    10,
    30,
    60,
    300,
    600,
    1800,
    3600,
    10800,
    43200,
    86400,
    604800,
    2592000,
    31536000,
)
_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "w": 604800,
}


def span_seconds(text: str, state: State, pos: int) -> float:
    value = text.strip().lower()
    digits = len(value) - len(value.lstrip("0123456789."))
    number, unit = value[:digits] or "1", value[digits:]
    if unit and unit not in _UNITS and unit.rstrip("s") not in _UNITS:
        raise UnsupportedSplError(f"unsupported span unit {unit!r}", state.ctx.text, pos)
    factor = _UNITS.get(unit, _UNITS.get(unit.rstrip("s"), 1)) if unit else 1
    return float(number) * factor


def _auto_span(value: exp.Expr, bins: int) -> exp.Expr:
    """The smallest nice span that covers the data's range in at most ``bins`` buckets."""
    lo = exp.Window(this=exp.Min(this=value.copy()))
    hi = exp.Window(this=exp.Max(this=value.copy()))
    width = exp.Div(this=exp.Sub(this=hi, expression=lo), expression=lit(bins))
    ifs = [
        exp.If(this=exp.LTE(this=width.copy(), expression=lit(s)), true=lit(s)) for s in _NICE_SPANS
    ]
    return exp.Case(ifs=ifs, default=lit(_NICE_SPANS[-1]))


def _floor_to(value: exp.Expr, span: exp.Expr) -> exp.Expr:
    return exp.Mul(
        this=exp.Floor(this=exp.Div(this=value, expression=span)), expression=span.copy()
    )


def binned(state: State, field: str, span: str | None, bins: int | None, pos: int) -> exp.Expr:
    value = as_num(state.get(field))
    size: exp.Expr = lit(span_seconds(span, state, pos)) if span else _auto_span(value, bins or 100)
    return _floor_to(value.copy(), size)


def compile_bin(cmd: ast.Bin, state: State) -> State:
    """Floor to the span; non-time fields become ranges like ``10-20`` as Splunk shows them."""
    if state.get(cmd.field).kind == NULL:
        return state
    lower = binned(state, cmd.field, cmd.span, cmd.bins, cmd.pos)
    if cmd.field == "_time":
        return assign(state, cmd.alias or cmd.field, Val(lower, NUM), cmd.pos)
    width = lit(span_seconds(cmd.span, state, cmd.pos)) if cmd.span else None
    if width is None:
        return assign(state, cmd.alias or cmd.field, Val(lower, NUM), cmd.pos)
    lo_text = as_text(Val(lower, NUM))
    hi_text = as_text(Val(exp.Add(this=lower.copy(), expression=width), NUM))
    text = exp.DPipe(
        this=exp.DPipe(this=lo_text, expression=lit("-"), safe=False),
        expression=hi_text,
        safe=False,
    )
    return assign(state, cmd.alias or cmd.field, Val(text, TEXT), cmd.pos)


def compile_timechart(cmd: ast.Timechart, state: State) -> State:
    """Bucket _time, aggregate per bucket (and series), fill empty buckets (0 for counts).

    The bucket series is generated once and the counts are joined to it; with the run's row
    limit the series stops after that many buckets (rows are in time order), so ``--limit``
    limits the work. A given ``span=`` gets a size check before the search runs (query/grid.py).
    """
    value = as_num(state.get("_time"))
    size = lit(span_seconds(cmd.span, state, cmd.pos)) if cmd.span else _auto_span(value, 100)
    internal = state.fresh_sql("_time")
    select = state.select_from(
        exp.Star(),
        alias(size.copy(), "__span"),
        alias(_floor_to(value.copy(), size.copy()), internal),
    )
    fields = dict(state.fields)
    fields["_time"] = Field("_time", internal, NUM)
    binned_state = state.then(select, fields=fields, added=["__span", internal])
    first = cast(exp.Min(this=col(internal)), INT)
    step = cast(exp.Max(this=col("__span")), INT)
    last: exp.Expr = cast(exp.Max(this=col(internal)), INT)
    limit = state.ctx.row_limit
    if limit is not None:
        reach = exp.Mul(this=step.copy(), expression=lit(limit - 1))
        last = exp.Least(this=last, expressions=[exp.Add(this=first.copy(), expression=reach)])
    series = exp.GenerateSeries(start=first, end=last, step=step)
    buckets = exp.Select(expressions=[alias(exp.Explode(this=series), "__key")]).from_(
        binned_state.source
    )
    if cmd.span:
        _size_check(cmd, binned_state, internal, limit)
    return _series(
        binned_state, cmd.aggs, "_time", cmd.by, cmd.limit, cmd.useother, cmd.pos, buckets
    )


def _size_check(cmd: ast.Timechart, state: State, internal: str, limit: int | None) -> None:
    """Register the query counting this chart's buckets, series and events (a ``GridCheck``)."""
    span = cast(exp.Max(this=col("__span")), INT)
    width = exp.Paren(
        this=exp.Sub(
            this=cast(exp.Max(this=col(internal)), INT),
            expression=cast(exp.Min(this=col(internal)), INT),
        )
    )
    buckets: exp.Expr = exp.Add(this=exp.IntDiv(this=width, expression=span), expression=lit(1))
    if limit is not None:
        buckets = exp.Least(this=buckets, expressions=[lit(limit)])
    series: exp.Expr = lit(1)
    if cmd.by is not None and state.get(cmd.by).kind != NULL:
        series = exp.Count(this=exp.Distinct(expressions=[as_text(state.get(cmd.by))]))
        if cmd.limit > 0:
            series = exp.Least(this=series, expressions=[lit(cmd.limit + int(cmd.useother))])
    check = exp.Select(
        expressions=[
            alias(buckets, "buckets"),
            alias(series, "series"),
            alias(exp.Count(this=exp.Star()), "events"),
        ]
    ).from_(state.source)
    check.set("with_", state.ctx.with_clause())
    state.ctx.grids.append(GridCheck(check, f"timechart span={cmd.span}"))


def compile_chart(cmd: ast.Chart, state: State) -> State:
    if cmd.over is None:
        return grouped(state, cmd.aggs, ())
    return _series(state, cmd.aggs, cmd.over, cmd.by, cmd.limit, cmd.useother, cmd.pos, None)


_ADDITIVE = ("count", "c", "sum", "dc", "distinct_count")


def _series(
    state: State,
    aggs: tuple[ast.Agg, ...],
    over: str,
    split: str | None,
    limit: int,
    useother: bool,
    pos: int,
    buckets: exp.Select | None,
) -> State:
    if split is not None and len(aggs) != 1:
        raise UnsupportedSplError("chart/timechart BY supports one aggregate", state.ctx.text, pos)
    if split is not None and state.get(split).kind == NULL:
        split = None
    if split is not None:
        # Missing split values form the NULL series, as Splunk draws them.
        filled = exp.Coalesce(this=as_text(state.get(split)), expressions=[lit("NULL")])
        state = assign(state, split, Val(filled, TEXT), pos)
    by = (over,) if split is None else (over, split)
    stats = grouped(state, aggs, by)
    if split is not None and limit > 0:
        stats = _top_series(
            stats,
            stats.fields[split].sql,
            stats.fields[aggs[0].alias],
            limit,
            useother and aggs[0].func in _ADDITIVE,
        )
    stats = _dense(stats, aggs, over, split, buckets)
    if split is None:
        return stats
    return _pivot(stats, aggs[0], over, split)


def _dense(
    stats: State,
    aggs: tuple[ast.Agg, ...],
    over: str,
    split: str | None,
    buckets: exp.Select | None,
) -> State:
    """Every (over value, series) pair gets a row; an empty cell counts 0 (Splunk's chart)."""
    over_col = stats.fields[over].sql
    if buckets is None:
        buckets = (
            exp.Select(expressions=[alias(col(over_col), "__key")]).from_(stats.source).distinct()
        )
    keys_name = stats.ctx.add_stage(buckets)
    source = aliased_table(keys_name, "__b")
    select = exp.Select(
        expressions=[alias(exp.column("__key", table="__b", quoted=True), over_col)]
    ).from_(source)
    condition: list[exp.Expr] = [
        exp.EQ(
            this=exp.column(over_col, table="__st", quoted=True),
            expression=exp.column("__key", table="__b", quoted=True),
        )
    ]
    if split is not None:
        split_col = stats.fields[split].sql
        series = stats.ctx.add_stage(
            exp.Select(expressions=[col(split_col)]).from_(stats.source).distinct()
        )
        select = select.join(
            aliased_table(series, "__v"),
            join_type="cross",
            copy=False,
        )
        select = select.select(
            alias(exp.column(split_col, table="__v", quoted=True), split_col), copy=False
        )
        condition.append(
            exp.EQ(
                this=exp.column(split_col, table="__st", quoted=True),
                expression=exp.column(split_col, table="__v", quoted=True),
            )
        )
    for agg in aggs:
        f = stats.fields[agg.alias]
        value: exp.Expr = exp.column(f.sql, table="__st", quoted=True)
        if agg.func in _ADDITIVE:
            value = exp.Coalesce(this=value, expressions=[lit(0)])
        select = select.select(alias(value, f.sql), copy=False)
    select = select.join(
        aliased_table(stats.source, "__st"),
        on=exp.and_(*condition, copy=False),
        join_type="left",
        copy=False,
    )
    return stats.then(select)


def _pivot(stats: State, agg: ast.Agg, over: str, split: str) -> State:
    value_col = stats.fields[agg.alias].sql
    pivot = exp.Pivot(
        this=exp.Table(this=exp.to_identifier(stats.source)),
        expressions=[col(stats.fields[split].sql)],
        using=[
            exp.Sum(this=col(value_col)) if agg.func in _ADDITIVE else exp.Max(this=col(value_col))
        ],
        group=exp.Group(expressions=[col(stats.fields[over].sql)]),
    )
    name = stats.ctx.add_stage(exp.Select(expressions=[exp.Star()]).from_(exp.Subquery(this=pivot)))
    first = stats.fields[over]
    return replace(
        stats,
        source=name,
        fields={first.name: Field(first.name, first.sql, first.kind)},
        order=(ordered(col(first.sql), False),),
        dynamic=True,
    )


def _top_series(stats: State, split_col: str, value: Field, limit: int, other: bool) -> State:
    """Keep the ``limit`` largest series (by the sum of their values as numbers: ``max(x)`` of a
    text field is text); the rest become OTHER (or are dropped)."""
    value_col = value.sql
    number = as_num(Val(col(value_col), value.kind))
    total = exp.Window(this=exp.Sum(this=number), partition_by=[col(split_col)])
    ranked = stats.then(stats.select_from(exp.Star(), alias(total, "__total")), added=["__total"])
    rank = exp.Window(
        this=exp.DenseRank(),
        order=exp.Order(
            expressions=[ordered(col("__total"), True), ordered(col(split_col), False)]
        ),
    )
    ranked = ranked.then(ranked.select_from(exp.Star(), alias(rank, "__srank")), added=["__srank"])
    keep = exp.LTE(this=col("__srank"), expression=lit(limit))
    if not other:
        return ranked.then(ranked.select_from(exp.Star()).where(keep))
    renamed = exp.Case(ifs=[exp.If(this=keep, true=col(split_col))], default=lit("OTHER"))
    group = [
        c
        for n, f in stats.fields.items()
        if f.sql not in (split_col, value_col)
        for c in [col(f.sql)]
    ]
    select = ranked.select_from(
        *[alias(g.copy(), g.name) for g in group],
        alias(renamed, split_col),
        alias(exp.Sum(this=col(value_col)), value_col),
    ).group_by(*[g.copy() for g in group], renamed.copy(), copy=False)
    return ranked.then(
        select,
        physical=frozenset(n.lower() for n in [*(g.name for g in group), split_col, value_col]),
    )


__all__ = ["cast", "compile_bin", "compile_chart", "compile_timechart"]
