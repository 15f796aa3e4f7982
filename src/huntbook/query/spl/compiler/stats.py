"""Aggregating commands: stats, eventstats, streamstats, top, rare, tstats, metadata (spl.md §4)."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.compiler import aggregates
from huntbook.query.spl.compiler.basic import assign_many
from huntbook.query.spl.compiler.search import equals, predicate
from huntbook.query.spl.compiler.state import (
    Field,
    State,
    alias,
    aliased_table,
    ordered,
    reserve_name,
)
from huntbook.query.spl.compiler.values import (
    INT,
    LIST,
    NULL,
    NUM,
    TEXT,
    Val,
    as_num,
    as_text,
    cast,
    col,
    lit,
    not_null,
)


def with_rownum(state: State, aggs: tuple[ast.Agg, ...]) -> tuple[State, str | None]:
    """Add a row-number column in current order when an aggregate depends on order."""
    if not any(aggregates.lookup(a, state).ordered for a in aggs):
        return state, None
    rn = state.ctx.hidden("rn")
    return state.then(state.select_from(exp.Star(), alias(state.row_number(), rn)), added=[rn]), rn


def expand_by(state: State, by: tuple[str, ...]) -> State:
    """A multivalue BY field counts each value as its own group (as Splunk's stats does)."""
    for name in by:
        if state.get(name).kind == LIST:
            from huntbook.query.spl.compiler.extract import compile_mvexpand

            state = compile_mvexpand(ast.MvExpand(name), state)
    return state


def grouped(state: State, aggs: tuple[ast.Agg, ...], by: tuple[str, ...]) -> State:
    """``stats aggs BY by``: a row per BY tuple (rows missing a BY field dropped), BY ascending."""
    state = expand_by(state, by)
    state, rn = with_rownum(state, aggs)
    taken: set[str] = set()
    fields: dict[str, Field] = {}
    projections: list[exp.Expr] = []
    group: list[exp.Expr] = []
    for name in by:
        v = state.get(name)
        internal = reserve_name(name, taken)
        projections.append(alias(v.expr, internal))
        group.append(v.expr.copy())
        fields[name] = Field(name, internal, TEXT if v.kind == NULL else v.kind)
    for agg in aggs:
        value = aggregates.build(agg, state, rn)
        internal = reserve_name(agg.alias, taken)
        projections.append(alias(value.expr, internal))
        fields.pop(agg.alias, None)
        fields[agg.alias] = Field(agg.alias, internal, TEXT if value.kind == NULL else value.kind)
    select = state.select_from(*projections)
    if group:
        present = exp.and_(*(not_null(g.copy()) for g in group), copy=False)
        select = select.where(present, copy=False).group_by(*group, copy=False)
    order = tuple(ordered(col(fields[n].sql), False) for n in by)
    return state.then(
        select, fields=fields, order=order, physical=frozenset(taken), hidden_fields=frozenset()
    )


def compile_stats(cmd: ast.Stats, state: State) -> State:
    return grouped(state, cmd.aggs, cmd.by)


def compile_tstats(cmd: ast.TStats, state: State) -> State:
    """``tstats count [from datamodel=M.D] where ... by ... [span=]`` over the events, or over a
    CIM dataset's rows (huntbook.query.datamodels)."""
    if cmd.datamodel is not None:
        from huntbook.query.datamodels import dataset_state

        state = dataset_state(state, cmd.datamodel, cmd.pos)
    if cmd.where is not None:
        state = state.then(
            state.select_from(exp.Star()).where(predicate(cmd.where, state), copy=False)
        )
    if cmd.span is not None:
        from huntbook.query.spl.compiler.charts import compile_bin

        state = compile_bin(ast.Bin("_time", cmd.span, pos=cmd.pos), state)
    if cmd.fillnull is not None:
        filled = [
            (
                n,
                Val(
                    exp.Coalesce(this=as_text(state.get(n)), expressions=[lit(cmd.fillnull)]), TEXT
                ),
            )
            for n in cmd.by
            if n != "_time"
        ]
        state = assign_many(state, filled)
    return grouped(state, cmd.aggs, cmd.by)


def compile_datamodel(cmd: ast.DataModel, state: State) -> State:
    """``| datamodel M D search``: the dataset's rows; ``flat`` drops the dataset prefix."""
    from huntbook.query.datamodels import dataset_state

    rows = dataset_state(state, cmd.spec, cmd.pos)
    if not cmd.flat:
        return rows
    flat = (f._replace(name=f.name.rpartition(".")[2]) for f in rows.fields.values())
    return rows.with_fields({f.name: f for f in flat})


def compile_eventstats(cmd: ast.EventStats, state: State) -> State:
    """Stats per group joined back onto every row of the group (rows are kept)."""
    if any(state.get(b).kind == LIST for b in cmd.by):
        raise UnsupportedSplError(
            "eventstats BY a multivalue field is not supported", state.ctx.text, cmd.pos
        )
    stats = grouped(state, cmd.aggs, cmd.by)
    left, right = exp.to_identifier("__l"), exp.to_identifier("__g")
    taken: set[str] = set()
    projections: list[exp.Expr] = [exp.Column(this=exp.Star(), table=left)]
    fields = dict(state.fields)
    added: list[str] = []
    for agg in cmd.aggs:
        f = stats.fields[agg.alias]
        internal = state.fresh_sql(agg.alias, taken)
        taken.add(internal.lower())
        projections.append(alias(exp.column(f.sql, table=right.this, quoted=True), internal))
        fields[agg.alias] = Field(agg.alias, internal, f.kind)
        added.append(internal)
    condition = (
        exp.and_(
            *(
                exp.EQ(
                    this=exp.column(state.fields[b].sql, table="__l", quoted=True)
                    if state.has(b)
                    else lit(None),
                    expression=exp.column(stats.fields[b].sql, table="__g", quoted=True),
                )
                for b in cmd.by
            ),
            copy=False,
        )
        if cmd.by
        else exp.true()
    )
    select = exp.Select(expressions=projections).from_(aliased_table(state.source, left))
    select = select.join(
        aliased_table(stats.source, right),
        on=condition,
        join_type="left",
        copy=False,
    )
    return state.then(
        select, fields=fields, added=added, hidden_fields=state.hidden_fields - set(fields)
    )


Over = Callable[[exp.Expr], exp.Expr]  # an aggregate -> the aggregate over the running frame
StreamFunc = Callable[[Val | None, Over], Val]


def _num_window(make: Callable[[exp.Expr], exp.Expr]) -> StreamFunc:
    return lambda v, over: Val(over(make(as_num(_present(v)))), NUM)


def _present(v: Val | None) -> Val:
    assert v is not None  # aggregate_input refused a missing argument already
    return v


def _stream_range(v: Val | None, over: Over) -> Val:
    n = as_num(_present(v))
    return Val(exp.Sub(this=over(exp.Max(this=n)), expression=over(exp.Min(this=n.copy()))), NUM)


def _edge_value(cls: type[exp.Func]) -> StreamFunc:
    """first()/last(): the first/last value in the window, events without the field skipped."""

    def make(v: Val | None, over: Over) -> Val:
        value = _present(v)
        kind = value.kind if value.kind in (INT, NUM, LIST) else TEXT
        inner = value.expr if kind != TEXT else as_text(value)
        return Val(over(exp.IgnoreNulls(this=cls(this=inner))), kind)

    return make


def _stream_count(v: Val | None, over: Over) -> Val:
    return Val(over(exp.Count(this=exp.Star() if v is None else v.expr)), INT)


# streamstats functions: each builds its aggregate over the running frame (``over``).
_STREAM_FUNCS: dict[str, StreamFunc] = {
    "count": _stream_count,
    "sum": _num_window(lambda n: exp.Sum(this=n)),
    "avg": _num_window(lambda n: exp.Avg(this=n)),
    "mean": _num_window(lambda n: exp.Avg(this=n)),
    "min": _num_window(lambda n: exp.Min(this=n)),
    "max": _num_window(lambda n: exp.Max(this=n)),
    "range": _stream_range,
    "stdev": _num_window(lambda n: exp.Stddev(this=n)),
    "var": _num_window(lambda n: exp.Variance(this=n)),
    "first": _edge_value(exp.FirstValue),
    "last": _edge_value(exp.LastValue),
}


def compile_streamstats(cmd: ast.StreamStats, state: State) -> State:
    """Running aggregates in current row order (``_STREAM_FUNCS``), window=/current=."""
    partition = [state.get(b).expr for b in cmd.by]
    spec = _frame(cmd)

    def over(agg: exp.Expr) -> exp.Expr:
        return exp.Window(
            this=agg,
            partition_by=[p.copy() for p in partition] or None,
            order=exp.Order(expressions=state.order_by()),
            spec=spec.copy(),
        )

    values: list[tuple[str, Val]] = []
    for agg in cmd.aggs:
        make = _STREAM_FUNCS.get(agg.func)
        if make is None:
            raise UnsupportedSplError(
                f"streamstats supports {', '.join(_STREAM_FUNCS)}; not {agg.func}()",
                state.ctx.text,
                agg.pos,
            )
        arg = None if agg.arg is None else aggregates.aggregate_input(agg, state, None).value
        values.append((agg.alias, make(arg, over)))
    return assign_many(state, values)


def _frame(cmd: ast.StreamStats) -> exp.WindowSpec:
    end = ("CURRENT ROW", None) if cmd.current else ("1", "PRECEDING")
    if cmd.window > 0:
        back = cmd.window - 1 if cmd.current else cmd.window
        start: tuple[str, str | None] = (str(back), "PRECEDING")
    else:
        start = ("UNBOUNDED", "PRECEDING")
    return exp.WindowSpec(
        kind="ROWS", start=start[0], start_side=start[1], end=end[0], end_side=end[1]
    )


PERCENT_DECIMALS = 6  # top/rare's percent as Splunk prints it (spl.md §4 top: 33.333333)


def compile_top(cmd: ast.Top, state: State) -> State:
    """Most (or least, for rare) common value combinations with count and percent."""
    count_alias = "__count"
    counted = grouped(state, (ast.Agg("count", None, count_alias),), (*cmd.by, *cmd.fields))
    count_col = col(counted.fields[count_alias].sql)
    by_cols = [col(counted.fields[b].sql) for b in cmd.by]
    total = exp.Window(
        this=exp.Sum(this=count_col.copy()), partition_by=[b.copy() for b in by_cols] or None
    )
    share = exp.Div(
        this=exp.Mul(this=cast(count_col.copy(), NUM), expression=lit(100)), expression=total
    )
    percent = exp.Round(this=share, decimals=lit(PERCENT_DECIMALS))
    rank_order = [ordered(count_col.copy(), not cmd.rare)] + [
        ordered(col(counted.fields[f].sql), False) for f in cmd.fields
    ]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[b.copy() for b in by_cols] or None,
        order=exp.Order(expressions=rank_order),
    )
    rn, pct = "__rank", "__pct"
    step = counted.then(
        counted.select_from(exp.Star(), alias(rank, rn), alias(percent, pct)), added=[rn, pct]
    )
    if cmd.limit > 0:
        step = step.then(
            step.select_from(exp.Star()).where(exp.LTE(this=col(rn), expression=lit(cmd.limit)))
        )
    fields = {n: counted.fields[n] for n in (*cmd.by, *cmd.fields)}
    if cmd.showcount:
        fields[cmd.countfield] = Field(cmd.countfield, counted.fields[count_alias].sql, INT)
    if cmd.showperc:
        fields[cmd.percentfield] = Field(cmd.percentfield, pct, NUM)
    from dataclasses import replace

    order = (*(ordered(b.copy(), False) for b in by_cols), ordered(col(rn), False))
    return replace(step, fields=fields, order=order)


_METADATA_KEYS = {"sourcetypes": "sourcetype", "hosts": "host", "sources": "source"}


def compile_metadata(cmd: ast.Metadata, state: State) -> State:
    """``| metadata type=...``: computed exactly from the events.

    Columns are Splunk's alphabetical statistics order: firstTime, lastTime, recentTime, <key>,
    totalCount, type. Times are whole epoch seconds; recentTime (Splunk's index time) is lastTime.
    """
    key = _METADATA_KEYS[cmd.type]
    if cmd.indexes:
        index = state.get("index")
        tests = (
            [equals(index, ast.SearchValue(i)) for i in cmd.indexes]
            if index.kind != NULL
            else [exp.false()]
        )
        state = state.then(state.select_from(exp.Star()).where(exp.or_(*tests, copy=False)))
    stats = grouped(
        state,
        (
            ast.Agg("earliest_time", None, "firstTime"),
            ast.Agg("latest_time", None, "lastTime"),
            ast.Agg("count", None, "totalCount"),
        ),
        (key,),
    )
    values = {
        "firstTime": Val(cast(exp.Floor(this=col(stats.fields["firstTime"].sql)), INT), INT),
        "lastTime": Val(cast(exp.Floor(this=col(stats.fields["lastTime"].sql)), INT), INT),
    }
    values["recentTime"] = Val(values["lastTime"].expr.copy(), INT)
    values["type"] = Val(lit(cmd.type), TEXT)
    out = assign_many(stats, list(values.items()))
    order = ("firstTime", "lastTime", "recentTime", key, "totalCount", "type")
    from dataclasses import replace

    return replace(out, fields={n: out.fields[n] for n in order})


__all__ = [
    "compile_eventstats",
    "compile_metadata",
    "compile_stats",
    "compile_streamstats",
    "compile_top",
    "compile_tstats",
]
