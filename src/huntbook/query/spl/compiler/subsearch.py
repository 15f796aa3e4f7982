"""A ``[subsearch]`` in a search clause (Splunk Search Manual, "Change the format of subsearch
results"): its results become ``(a="v1" AND b="v2") OR (a="v3") ...`` (the format command's
output) and are matched as search terms.

Compiled as ``EXISTS`` over the subsearch's rows: a row matches an event when each of its fields
holding a value matches the event's field as ``field="value"`` would (case-insensitive, ``*``
a wildcard, a multivalue row field any of its values, a multivalue event field any of its
values). Fields beginning with ``_`` are left out, as format leaves them out; no rows (format's
``NOT ()``) match no event. The subsearch passes on at most ``SUBSEARCH_MAXOUT`` results, as
Splunk's ``maxout``; where Splunk drops the rest silently, huntbook warns (``RowCheck``).
"""

from __future__ import annotations

from sqlglot import exp

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.runtime import SUBSEARCH_MAXOUT, RowCheck
from huntbook.query.spl.compiler.state import State, alias
from huntbook.query.spl.compiler.values import (
    LIST,
    NULL,
    Val,
    any_element,
    as_text,
    col,
    is_null,
    lit,
    not_null,
)

_RAW_FIELDS = ("search", "query")  # format writes their values as search text
_ROW_VALUE, _EVENT_VALUE = "__sv", "__ev"


def subsearch_filter(node: ast.SubsearchFilter, state: State) -> exp.Expr:
    """The predicate for ``node`` over ``state``'s events."""
    from huntbook.query.spl.compiler import compile_commands

    ctx = state.ctx
    assert ctx.base is not None
    sub = compile_commands(node.pipeline, ctx, ctx.base)
    names = [f.name for f in sub.visible() if not f.name.startswith("_")]
    raw = [n for n in names if n in _RAW_FIELDS]
    if raw:
        raise UnsupportedSplError(
            f"a subsearch returning a field named {raw[0]!r} (format writes its values as "
            "search text) is not supported as a search filter",
            ctx.text,
            node.pos,
        )
    ctx.refuse_on_spark("a [subsearch] used as a search filter")
    ctx.checks.append(_maxout_check(sub))
    if not names:
        return exp.false()  # format writes nothing for rows without fields: no event matches
    taken = set(state.physical)
    columns: dict[str, str] = {}
    for name in names:
        columns[name] = state.fresh_sql(f"__sub_{name}", taken)
        taken.add(columns[name].lower())
    rows = sub.select_from(*(_row_value(sub.get(n), columns[n]) for n in names))
    if sub.order:
        rows = rows.order_by(*sub.order_by(), copy=False)
    stage = ctx.add_stage(rows.limit(lit(SUBSEARCH_MAXOUT), copy=False))
    present = exp.or_(*(not_null(col(columns[n])) for n in names), copy=False)
    each = [_field_matches(state.get(n), col(columns[n]), sub.get(n).kind) for n in names]
    match = exp.and_(present, *each, copy=False)
    return exp.Exists(this=exp.select(lit(1)).from_(stage).where(match, copy=False))


def _row_value(v: Val, name: str) -> exp.Expr:
    return alias(v.expr if v.kind == LIST else as_text(v), name)


def _maxout_check(sub: State) -> RowCheck:
    counted = sub.select_from(lit(1)).limit(lit(SUBSEARCH_MAXOUT + 1))
    with_ = sub.ctx.with_clause()
    if with_ is not None:
        counted.set("with_", with_)
    select = exp.select(exp.Count(this=exp.Star())).from_(exp.Subquery(this=counted, alias="__n"))
    return RowCheck(
        select,
        SUBSEARCH_MAXOUT,
        f"a subsearch used as a search filter returned more than {SUBSEARCH_MAXOUT:,} results; "
        f"only the first {SUBSEARCH_MAXOUT:,} were used (Splunk's subsearch maxout, which "
        "Splunk applies without a word)",
    )


def _field_matches(event: Val, row: exp.Expr, row_kind: str) -> exp.Expr:
    """The row's value (null: no condition) matches the event's field as ``field="value"``."""
    if row_kind == LIST:
        one = any_element(row.copy(), _event_matches(event, col(_ROW_VALUE)), _ROW_VALUE)
    else:
        one = _event_matches(event, row.copy())
    return exp.or_(is_null(row), one, copy=False)


def _event_matches(event: Val, value: exp.Expr) -> exp.Expr:
    if event.kind == NULL:
        return exp.false()
    if event.kind == LIST:
        return any_element(event.expr, _text_matches(col(_EVENT_VALUE), value), _EVENT_VALUE)
    return _text_matches(as_text(event), value)


def _text_matches(text: exp.Expr, value: exp.Expr) -> exp.Expr:
    """Case-insensitive whole-value match, ``*`` in ``value`` a wildcard (a LIKE built at run
    time: LIKE's own ``%``, ``_`` and ``\\`` escaped first)."""
    pattern: exp.Expr = exp.Lower(this=value)
    for old, new in (("\\", "\\\\"), ("%", "\\%"), ("_", "\\_"), ("*", "%")):
        pattern = exp.Anonymous(this="REPLACE", expressions=[pattern, lit(old), lit(new)])
    like = exp.Like(this=exp.Lower(this=text), expression=pattern)
    return exp.Escape(this=like, expression=lit("\\"))
