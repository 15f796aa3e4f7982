"""Where rows come from: the events table, makeresults, inputlookup/lookup (CSV), join, append."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from sqlglot import exp

from huntbook.errors import QueryError, QueryLimitError
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.lookups import (
    check_fields,
    find_lookup,
    lookup_header,
    output_path,
    read_csv,
)
from huntbook.query.spl.compiler.runtime import LookupWrite
from huntbook.query.spl.compiler.search import predicate
from huntbook.query.spl.compiler.searchtime import field_aliases
from huntbook.query.spl.compiler.state import (
    Context,
    Field,
    State,
    alias,
    aliased_table,
    ordered,
)
from huntbook.query.spl.compiler.values import (
    INT,
    LIST,
    NULL,
    NUM,
    STORE_KINDS,
    TEXT,
    Val,
    as_list,
    as_text,
    col,
    lit,
    typed_null,
)

EVENTS = "events"


def events_state(
    ctx: Context, schema: dict[str, str], columns: dict[str, str] | None = None
) -> State:
    """The events view as the pipeline's starting point, newest first (_time DESC, _cd DESC).

    ``columns`` maps a field to its column in ``events`` when they differ (a store can only keep
    ``User`` and ``user`` apart under two case-distinct column names, since DuckDB folds case).
    """
    fields, names = _store_fields(tuple(schema.items()), tuple((columns or {}).items()))
    fields = dict(fields)  # the pipeline's own copy; the cached one stays as built
    order = []
    if "_time" in fields:
        order.append(ordered(col("_time"), True))
    if "_cd" in fields:
        order.append(ordered(col("_cd"), True))
    hidden = frozenset({"_cd"} & set(fields))
    return _with_aliases(State(ctx, EVENTS, fields, tuple(order), names, hidden))


def _with_aliases(state: State) -> State:
    """Search-time field aliases (mappings/search.yaml): hidden fields (``table *`` leaves them
    out) that read the aliased field, or coalesce their own column with it when the store has both.
    """
    fields = dict(state.fields)
    stored = set(fields)
    both: list[tuple[str, Val]] = []
    for name, target in field_aliases().items():
        if target not in fields:
            continue
        if name in fields:
            value = exp.Coalesce(
                this=as_text(state.get(name)), expressions=[as_text(state.get(target))]
            )
            both.append((name, Val(value, TEXT)))
        else:
            fields[name] = fields[target]._replace(name=name)
    hidden = state.hidden_fields | (set(fields) - stored)
    state = replace(state, fields=fields, hidden_fields=hidden)
    if not both:
        return state
    from huntbook.query.spl.compiler.basic import assign_many

    return replace(assign_many(state, both), hidden_fields=hidden)


@lru_cache(maxsize=8)
def _store_fields(
    schema: tuple[tuple[str, str], ...], columns: tuple[tuple[str, str], ...]
) -> tuple[dict[str, Field], frozenset[str]]:
    """The store's fields and the names they reserve, built once per store schema.

    Field names are reserved as well as column names: a store that maps ``user`` to ``user~1`` may
    still have a ``User`` column, which DuckDB would confuse with a new ``user``.
    """
    physical = dict(columns)
    fields = {
        name: Field(name, physical.get(name, name), STORE_KINDS.get(kind, TEXT))
        for name, kind in schema
    }
    names = frozenset(n.lower() for f in fields.values() for n in (f.sql, f.name))
    return fields, names


MAKERESULTS_MAX = 50_000  # Splunk's limits.conf [searchresults] maxresultrows default


def compile_makeresults(cmd: ast.MakeResults, state: State) -> State:
    """``| makeresults count=N``: N rows with only ``_time`` = the search time.

    Raises:
        QueryLimitError: ``count`` over ``MAKERESULTS_MAX`` (an error, not fewer rows).
    """
    ctx = state.ctx
    if cmd.count > MAKERESULTS_MAX:
        raise QueryLimitError(
            f"makeresults count={cmd.count:,} is over the limit of {MAKERESULTS_MAX:,} results "
            "(as Splunk's limits.conf [searchresults] maxresultrows)"
        )
    series = exp.Unnest(expressions=[exp.GenerateSeries(start=lit(1), end=lit(cmd.count))])
    select = exp.Select(expressions=[alias(lit(ctx.now), "_time"), alias(series, "__n")])
    fields = {"_time": Field("_time", "_time", NUM)}
    name = ctx.add_stage(select)
    return State(ctx, name, fields, (ordered(col("__n"), False),), frozenset({"_time", "__n"}))


def _lookup_relation(ctx: Context, table: str, pos: int) -> tuple[str, list[str]]:
    path = find_lookup(ctx, table, pos)
    header = lookup_header(ctx, table, path, pos)
    rn = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.Ordered(this=lit(1))]))
    select = exp.Select(expressions=[exp.Star(), alias(rn, "__row")]).from_(
        exp.Table(this=read_csv(path, header))
    )
    return ctx.add_stage(select), header


def compile_inputlookup(cmd: ast.InputLookup, state: State) -> State:
    if cmd.append:
        raise QueryError("inputlookup append=true is not supported")
    name, header = _lookup_relation(state.ctx, cmd.table, cmd.pos)
    fields = {h: Field(h, h, TEXT) for h in header}
    out = State(
        state.ctx,
        name,
        fields,
        (ordered(col("__row"), False),),
        frozenset(h.lower() for h in [*header, "__row"]),
    )
    if cmd.where is not None:
        out = out.then(out.select_from(exp.Star()).where(predicate(cmd.where, out)))
    return out


def compile_outputlookup(cmd: ast.OutputLookup, state: State) -> State:
    """The results at this point written to a CSV file in the store's lookups folder before the
    search runs (``LookupWrite``, with pyarrow), then passed on unchanged. Every column is text:
    numbers as Splunk prints them, a multivalue's values one per line."""
    ctx = state.ctx
    ctx.refuse_on_spark("outputlookup")
    path = output_path(ctx, cmd.table)
    columns = [alias(_csv_text(state.get(f.name)), f.name) for f in state.visible()]
    rows = state.select_from(*columns)
    if state.order:
        rows = rows.order_by(*state.order_by(), copy=False)
    if cmd.max is not None:
        rows = rows.limit(lit(cmd.max), copy=False)
    with_ = ctx.with_clause()
    if with_ is not None:
        rows.set("with_", with_)
    ctx.writes.append(LookupWrite(rows, path, cmd.append, cmd.create_empty, cmd.override_if_empty))
    return state


def _csv_text(v: Val) -> exp.Expr:
    if v.kind == LIST:
        return exp.ArrayToString(this=v.expr, expression=lit("\n"))
    return as_text(v)


def compile_lookup(cmd: ast.Lookup, state: State) -> State:
    """Case-sensitive match on the key fields; OUTPUT overwrites, OUTPUTNEW fills only missing.

    Several matching rows: the first row of the file wins (Splunk would make a multivalue).
    """
    ctx = state.ctx
    rel, header = _lookup_relation(ctx, cmd.table, cmd.pos)
    key_names = [k for k, _ in cmd.keys]
    check_fields(ctx, cmd.table, header, [*key_names, *(o for o, _ in cmd.outputs)], cmd.pos)
    outputs = list(cmd.outputs) or [(h, h) for h in header if h not in key_names]
    first = exp.Window(
        this=exp.RowNumber(),
        partition_by=[exp.column(k, quoted=True) for k in key_names],
        order=exp.Order(expressions=[exp.Ordered(this=col("__row"))]),
    )
    dedup = exp.Select(expressions=[exp.Star(), alias(first, "__pick")]).from_(rel)
    picked = ctx.add_stage(
        exp.Select(expressions=[exp.Star()])
        .from_(ctx.add_stage(dedup))
        .where(exp.EQ(this=col("__pick"), expression=lit(1)))
    )
    condition = exp.and_(
        *(
            exp.EQ(
                this=as_text(_qualified(state, event_field)),
                expression=exp.column(lookup_field, table="__lk", quoted=True),
            )
            for lookup_field, event_field in cmd.keys
        ),
        copy=False,
    )
    taken: set[str] = set()
    projections: list[exp.Expr] = [exp.Column(this=exp.Star(), table=exp.to_identifier("__ev"))]
    fields = dict(state.fields)
    added: list[str] = []
    for lookup_field, event_field in outputs:
        value: exp.Expr = exp.column(lookup_field, table="__lk", quoted=True)
        if cmd.outputnew and state.has(event_field):
            value = exp.Coalesce(this=as_text(_qualified(state, event_field)), expressions=[value])
        internal = state.fresh_sql(event_field, taken)
        taken.add(internal.lower())
        projections.append(alias(value, internal))
        fields[event_field] = Field(event_field, internal, TEXT)
        added.append(internal)
    select = _events_joined(projections, state, (picked, "__lk"), condition, "left")
    return state.then(select, fields=fields, added=added)


def _qualified(state: State, name: str, table: str = "__ev") -> Val:
    v = state.get(name)
    if not state.has(name):
        return v
    return Val(exp.column(state.fields[name].sql, table=table, quoted=True), v.kind)


def compile_join(cmd: ast.Join, state: State) -> State:
    """Join on equal (case-sensitive) values; max=1 keeps the subsearch's first row per key."""
    from huntbook.query.spl.compiler import compile_commands

    sub = compile_commands(cmd.subsearch, state.ctx, _base(state))
    keys = list(cmd.fields) or [n for n in sub.fields if state.has(n)]
    rn = state.ctx.hidden("rn")
    numbered = sub.then(
        sub.select_from(exp.Star(), alias(sub.row_number([as_text(sub.get(k)) for k in keys]), rn)),
        added=[rn],
    )
    if cmd.max > 0:
        numbered = numbered.then(
            numbered.select_from(exp.Star()).where(exp.LTE(this=col(rn), expression=lit(cmd.max)))
        )
    condition = (
        exp.and_(
            *(
                exp.EQ(
                    this=as_text(_qualified(state, k)),
                    expression=as_text(_qualified(numbered, k, "__sub")),
                )
                for k in keys
            ),
            copy=False,
        )
        if keys
        else exp.true()
    )
    taken: set[str] = set()
    projections: list[exp.Expr] = [exp.Column(this=exp.Star(), table=exp.to_identifier("__ev"))]
    fields = dict(state.fields)
    added: list[str] = []
    for f in numbered.visible():
        if f.name in keys or (state.has(f.name) and not cmd.overwrite):
            continue
        value: exp.Expr = exp.column(f.sql, table="__sub", quoted=True)
        kind = f.kind
        if state.has(f.name):
            old = _qualified(state, f.name)
            if old.kind != kind:
                value, kind = (
                    exp.Coalesce(this=as_text(Val(value, kind)), expressions=[as_text(old)]),
                    TEXT,
                )
            else:
                value = exp.Coalesce(this=value, expressions=[old.expr])
        internal = state.fresh_sql(f.name, taken)
        taken.add(internal.lower())
        projections.append(alias(value, internal))
        fields[f.name] = Field(f.name, internal, kind)
        added.append(internal)
    join_type = "left" if cmd.type == "left" else "inner"
    select = _events_joined(projections, state, (numbered.source, "__sub"), condition, join_type)
    return state.then(select, fields=fields, added=added)


def _events_joined(
    projections: list[exp.Expr],
    state: State,
    other: tuple[str, str],
    on: exp.Expr,
    join_type: str,
) -> exp.Select:
    """``SELECT projections FROM <current rows> AS __ev <join_type> JOIN other[0] AS other[1]``."""
    return (
        exp.Select(expressions=projections)
        .from_(aliased_table(state.source, "__ev"))
        .join(aliased_table(*other), on=on, join_type=join_type, copy=False)
    )


def compile_append(cmd: ast.Append, state: State) -> State:
    """Subsearch rows after the current rows; fields are the union (missing ones null)."""
    from huntbook.query.spl.compiler import compile_commands

    return appended(state, compile_commands(cmd.subsearch, state.ctx, _base(state)))


def compile_appendpipe(cmd: ast.AppendPipe, state: State) -> State:
    """Splunk's appendpipe: the subpipeline runs on the current results, its rows appended."""
    from huntbook.query.spl.compiler import compile_commands

    return appended(state, compile_commands(cmd.subpipeline, state.ctx, state))


def appended(state: State, sub: State) -> State:
    """``state``'s rows, then ``sub``'s; fields are the union (missing ones null)."""
    names = list(
        dict.fromkeys([*[f.name for f in state.visible()], *[f.name for f in sub.visible()]])
    )
    kinds = {}
    for n in names:
        a, b = state.fields.get(n), sub.fields.get(n)
        ka, kb = (a.kind if a else None), (b.kind if b else None)
        kinds[n] = (
            ka if kb in (None, ka) else (kb if ka is None else (LIST if LIST in (ka, kb) else TEXT))
        )
    rn = "__arow"
    part = "__part"
    internal: dict[str, str] = {}
    for n in names:
        candidate, k = n, 2
        while candidate.lower() in {i.lower() for i in internal.values()}:
            candidate, k = f"{n}__{k}", k + 1
        internal[n] = candidate

    def side(s: State, index: int) -> exp.Select:
        cols: list[exp.Expr] = []
        for n in names:
            cols.append(alias(_converted(s.get(n), kinds[n] or TEXT), internal[n]))
        cols += [alias(lit(index), part), alias(s.row_number(), rn)]
        return s.select_from(*cols)

    union = exp.union(side(state, 0), side(sub, 1), distinct=False)
    name = state.ctx.add_stage(union)
    fields = {n: Field(n, internal[n], kinds[n] or TEXT) for n in names}
    order = (ordered(col(part), False), ordered(col(rn), False))
    physical = frozenset(i.lower() for i in [*internal.values(), part, rn])
    return State(state.ctx, name, fields, order, physical)


def _converted(v: Val, kind: str) -> exp.Expr:
    """A value brought to the kind of the unioned column (absent fields are typed nulls)."""
    if v.kind == kind:
        return v.expr
    if v.kind == NULL:
        return typed_null(kind)
    if kind == LIST:
        return as_list(v)
    return as_text(v)


def _base(state: State) -> State:
    base = state.ctx.base
    assert base is not None
    return base


__all__ = [
    "INT",
    "compile_append",
    "compile_appendpipe",
    "compile_inputlookup",
    "compile_join",
    "compile_lookup",
    "compile_makeresults",
    "events_state",
]
