"""addtotals and fieldsummary (issue 11): sums across a row's fields, statistics per field.

Both read fields as Splunk does: a value counts as a number when it reads as one (``"25"`` does,
``"x"`` does not); a multivalue field is read by its first value for a sum and value by value for
fieldsummary. Fields whose names begin with ``_`` take part only when named.
"""

from __future__ import annotations

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler.basic import assign_many, expand
from huntbook.query.spl.compiler.sources import appended
from huntbook.query.spl.compiler.state import (
    Field,
    State,
    alias,
    aliased_table,
    columns_equal,
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
    fn,
    is_null,
    lit,
    not_null,
    try_double,
)


def _summed_fields(state: State, patterns: tuple[str, ...], exclude: set[str]) -> list[str]:
    """The fields a command works on: ``patterns`` (wildcards) or every field not starting
    with ``_``, less ``exclude``."""
    candidates = [f.name for f in state.visible() if not f.name.startswith("_")]
    names = expand(patterns, candidates) if patterns else candidates
    return [n for n in names if n not in exclude]


def _row_total(state: State, names: list[str]) -> exp.Expr:
    """The sum of the numbers among ``names``; null when none of them holds a number."""
    numbers = [as_num(state.get(n)) for n in names if state.get(n).kind != NULL]
    if not numbers:
        return exp.Null()
    total: exp.Expr = exp.Coalesce(this=numbers[0].copy(), expressions=[lit(0)])
    for n in numbers[1:]:
        total = exp.Add(this=total, expression=exp.Coalesce(this=n.copy(), expressions=[lit(0)]))
    none = exp.and_(*(is_null(n.copy()) for n in numbers), copy=False)
    return exp.Case(ifs=[exp.If(this=none, true=exp.Null())], default=total)


def compile_addtotals(cmd: ast.AddTotals, state: State) -> State:
    """``row=t``: ``fieldname`` = the row's sum; ``col=t``: a last row of column sums, with
    ``labelfield`` = ``label`` when a label field is named."""
    names = _summed_fields(state, cmd.fields, {cmd.fieldname, cmd.labelfield or ""})
    if cmd.row:
        state = assign_many(state, [(cmd.fieldname, Val(_row_total(state, names), NUM))])
    if not cmd.col:
        return state
    summed = [*names, cmd.fieldname] if cmd.row else names
    taken: set[str] = set()
    fields: dict[str, Field] = {}
    projections: list[exp.Expr] = []
    for name in summed:
        internal = reserve_name(name, taken)
        value = state.get(name)
        kind = value.kind if value.kind in (INT, NUM) else NUM  # a number column stays one
        projections.append(alias(cast(exp.Sum(this=as_num(value)), kind), internal))
        fields[name] = Field(name, internal, kind)
    if cmd.labelfield is not None:
        internal = reserve_name(cmd.labelfield, taken)
        projections.append(alias(lit(cmd.label), internal))
        fields[cmd.labelfield] = Field(cmd.labelfield, internal, TEXT)
    totals = state.then(
        state.select_from(*projections), fields=fields, order=(), physical=frozenset(taken)
    )
    return appended(state, totals)


# fieldsummary's columns, in Splunk's order, with their kinds.
SUMMARY_COLUMNS: dict[str, str] = {
    "field": TEXT,
    "count": INT,
    "distinct_count": INT,
    "is_exact": INT,
    "max": NUM,
    "mean": NUM,
    "min": NUM,
    "numeric_count": INT,
    "stdev": NUM,
    "values": TEXT,
}
_ROW, _NAME, _VALUE, _COUNT, _RANK = "__row", "__f", "__v", "__c", "__r"


def _values_of(state: State, name: str) -> exp.Select:
    """``(row, field name, value)`` per value of ``name`` (a multivalue field value by value)."""
    v = state.get(name)
    value = exp.Explode(this=v.expr) if v.kind == LIST else as_text(v)
    return state.select_from(alias(col(_ROW), _ROW), alias(lit(name), _NAME), alias(value, _VALUE))


def _values_json(maxvals: int) -> exp.Expr:
    """``[{"value":"x","count":3},...]``, most common first (ties by value), ``maxvals`` at most."""
    item = _concat(
        lit('{"value":'), fn("to_json", col(_VALUE)), lit(',"count":'), _text(col(_COUNT)), lit("}")
    )
    order = exp.Order(
        this=item, expressions=[ordered(col(_COUNT), True), ordered(col(_VALUE), False)]
    )
    joined: exp.Expr = exp.GroupConcat(this=order, separator=lit(","))
    if maxvals:
        kept = exp.Where(this=exp.LTE(this=col(_RANK), expression=lit(maxvals)))
        joined = exp.Filter(this=joined, expression=kept)
    return _concat(lit("["), exp.Coalesce(this=joined, expressions=[lit("")]), lit("]"))


def _concat(*parts: exp.Expr) -> exp.Expr:
    joined = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=part, safe=False)
    return joined


def _text(e: exp.Expr) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build("VARCHAR"))


def compile_fieldsummary(cmd: ast.FieldSummary, state: State) -> State:
    """A row per field holding a value: Splunk's fieldsummary columns (``SUMMARY_COLUMNS``),
    fields in name order. Distinct counts are always exact (``is_exact`` says whether Splunk's
    would be: at most ``maxvals`` distinct values)."""
    state.ctx.refuse_on_spark("fieldsummary")
    names = sorted(_summed_fields(state, cmd.fields, set()))
    if not names:
        empty = state.select_from(*(alias(exp.Null(), c) for c in SUMMARY_COLUMNS))
        return _summary_state(state, empty.where(exp.false()))
    numbered = state.then(
        state.select_from(exp.Star(), alias(exp.Window(this=exp.RowNumber()), _ROW)),
        added=[_ROW],
    )
    union: exp.Expr = _values_of(numbered, names[0])
    for name in names[1:]:
        union = exp.union(union, _values_of(numbered, name), distinct=False)
    ctx = state.ctx
    values = ctx.add_stage(
        exp.select(exp.Star()).from_(exp.Subquery(this=union)).where(not_null(col(_VALUE)))
    )
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col(_NAME)],
        order=exp.Order(
            expressions=[ordered(exp.Count(this=exp.Star()), True), ordered(col(_VALUE), False)]
        ),
    )
    counted = ctx.add_stage(
        exp.select(
            col(_NAME), col(_VALUE), alias(exp.Count(this=exp.Star()), _COUNT), alias(rank, _RANK)
        )
        .from_(values)
        .group_by(col(_NAME), col(_VALUE))
    )
    listed = ctx.add_stage(
        exp.select(col(_NAME), alias(_values_json(cmd.maxvals), "values"))
        .from_(counted)
        .group_by(col(_NAME))
    )
    number = try_double(col(_VALUE))
    stats = ctx.add_stage(
        exp.select(
            col(_NAME),
            alias(exp.Count(this=exp.Distinct(expressions=[col(_ROW)])), "count"),
            alias(exp.Count(this=exp.Distinct(expressions=[col(_VALUE)])), "distinct_count"),
            alias(_is_exact(cmd.maxvals), "is_exact"),
            alias(exp.Max(this=number), "max"),
            alias(exp.Avg(this=number.copy()), "mean"),
            alias(exp.Min(this=number.copy()), "min"),
            alias(exp.Count(this=number.copy()), "numeric_count"),
            alias(exp.Stddev(this=number.copy()), "stdev"),
        )
        .from_(values)
        .group_by(col(_NAME))
    )
    columns = [
        alias(exp.column(_NAME, table="__s"), "field"),
        *(exp.column(c, table="__s") for c in list(SUMMARY_COLUMNS)[1:-1]),
        exp.column("values", table="__l"),
    ]
    joined = (
        exp.select(*columns)
        .from_(aliased_table(stats, "__s"))
        .join(aliased_table(listed, "__l"), on=columns_equal("__s", "__l", [_NAME]))
    )
    return _summary_state(state, joined)


def _is_exact(maxvals: int) -> exp.Expr:
    if not maxvals:
        return lit(1)
    within = exp.LTE(
        this=exp.Count(this=exp.Distinct(expressions=[col(_VALUE)])), expression=lit(maxvals)
    )
    return exp.Case(ifs=[exp.If(this=within, true=lit(1))], default=lit(0))


def _summary_state(state: State, select: exp.Select) -> State:
    fields = {name: Field(name, name, kind) for name, kind in SUMMARY_COLUMNS.items()}
    return state.then(
        select,
        fields=fields,
        order=(ordered(col("field"), False),),
        physical=frozenset(SUMMARY_COLUMNS),
        hidden_fields=frozenset(),
    )
