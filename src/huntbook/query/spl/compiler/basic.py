"""Streaming and ordering commands: search, where, eval, table, fields, rename, sort, reverse, head,
tail, dedup, fillnull (spl.md §1, §2, §4)."""

from __future__ import annotations

import fnmatch

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler.expr import ExprCompiler
from huntbook.query.spl.compiler.search import predicate
from huntbook.query.spl.compiler.state import Field, State, alias, flip, ordered
from huntbook.query.spl.compiler.values import (
    BOOL,
    LIST,
    NULL,
    NUMERIC,
    TEXT,
    Val,
    as_bool,
    as_list,
    as_text,
    col,
    first_of,
    is_null,
    lit,
    not_null,
    try_double,
    typed_null,
)


def compile_search(cmd: ast.Search, state: State) -> State:
    if cmd.expr is None:
        return state
    return state.then(state.select_from(exp.Star()).where(predicate(cmd.expr, state), copy=False))


def compile_where(cmd: ast.Where, state: State) -> State:
    value = ExprCompiler(state).compile(cmd.expr)
    return state.then(state.select_from(exp.Star()).where(as_bool(value), copy=False))


def assign(state: State, name: str, value: Val, pos: int = 0) -> State:
    """Add (or overwrite) one field with a computed value, as a new CTE."""
    if value.kind == BOOL:
        raise state.ctx.error(
            f"the value of {name!r} cannot be a boolean; wrap the test in if(...)", pos
        )
    kind = TEXT if value.kind == NULL else value.kind
    internal = state.fresh_sql(name)
    select = state.select_from(exp.Star(), alias(value.expr, internal))
    fields = dict(state.fields)
    fields[name] = Field(name, internal, kind)
    hidden = state.hidden_fields - {name}
    return state.then(select, fields=fields, added=[internal], hidden_fields=hidden)


def assign_many(state: State, values: list[tuple[str, Val]]) -> State:
    """Several independent new values in one CTE (they must not depend on each other)."""
    taken: set[str] = set()
    projections: list[exp.Expr] = [exp.Star()]
    fields = dict(state.fields)
    for name, value in values:
        internal = state.fresh_sql(name, taken)
        taken.add(internal.lower())
        projections.append(alias(value.expr, internal))
        fields[name] = Field(name, internal, TEXT if value.kind == NULL else value.kind)
    hidden = state.hidden_fields - {n for n, _ in values}
    return state.then(
        state.select_from(*projections), fields=fields, added=list(taken), hidden_fields=hidden
    )


def compile_eval(cmd: ast.Eval, state: State) -> State:
    for name, expr in cmd.assignments:
        state = assign(state, name, ExprCompiler(state).compile(expr), cmd.pos)
    return state


def expand(patterns: tuple[str, ...] | list[str], names: list[str]) -> list[str]:
    """Field names matching SPL wildcards (``*``), case-sensitively, in pattern order."""
    out: list[str] = []
    for pattern in patterns:
        if "*" in pattern:
            out.extend(n for n in names if fnmatch.fnmatchcase(n, pattern) and n not in out)
        elif pattern not in out:
            out.append(pattern)
    return out


def _wildcard_candidates(state: State) -> list[str]:
    return [f.name for f in state.visible() if f.name != "_cd"]


def compile_table(cmd: ast.Table, state: State) -> State:
    names = expand(cmd.fields, _wildcard_candidates(state))
    missing = [n for n in names if not state.has(n)]
    if missing:
        state = assign_many(state, [(n, Val(typed_null(TEXT), NULL)) for n in missing])
    fields = {n: state.fields[n] for n in names}
    return state.with_fields(fields)


def compile_fields(cmd: ast.Fields, state: State) -> State:
    candidates = _wildcard_candidates(state)
    chosen = expand(cmd.fields, candidates)
    if cmd.remove:
        fields = {n: f for n, f in state.fields.items() if n not in chosen}
        return state.with_fields(fields, state.hidden_fields & set(fields))
    keep = [n for n in chosen if state.has(n)]
    for internal in ("_time", "_raw"):  # fields + keeps _time and _raw unless removed with fields -
        if state.has(internal) and internal not in keep:
            keep.append(internal)
    return state.with_fields({n: state.fields[n] for n in keep})


def compile_rename(cmd: ast.Rename, state: State) -> State:
    for old, new in cmd.pairs:
        state = _keep_targets(state, old, new)
        fields = _rename_one(dict(state.fields), old, new)
        state = state.with_fields(fields, state.hidden_fields & set(fields))
    return state


def _keep_targets(state: State, old: str, new: str) -> State:
    """A wildcard rename renames the fields an event has: on a row without a matched source
    field, a target field of the same name keeps its value (``rename X.* as *`` after spath)."""
    if "*" not in old:
        return state
    prefix, _, suffix = old.partition("*")
    new_prefix, _, new_suffix = new.partition("*")
    merged: list[tuple[str, Val]] = []
    for name in [n for n in state.fields if fnmatch.fnmatchcase(n, old)]:
        middle = name[len(prefix) : len(name) - len(suffix) if suffix else None]
        target = new_prefix + middle + new_suffix
        if target != name and state.has(target):
            merged.append((name, _coalesced(state.get(name), state.get(target))))
    return assign_many(state, merged) if merged else state


def _coalesced(first: Val, second: Val) -> Val:
    if first.kind == second.kind:
        return Val(exp.Coalesce(this=first.expr, expressions=[second.expr]), first.kind)
    if LIST in (first.kind, second.kind):
        return Val(exp.Coalesce(this=as_list(first), expressions=[as_list(second)]), LIST)
    return Val(exp.Coalesce(this=as_text(first), expressions=[as_text(second)]), TEXT)


def _rename_one(fields: dict[str, Field], old: str, new: str) -> dict[str, Field]:
    if "*" in old:
        prefix, _, suffix = old.partition("*")
        new_prefix, _, new_suffix = new.partition("*")
        for name in [n for n in fields if fnmatch.fnmatchcase(n, old)]:
            middle = name[len(prefix) : len(name) - len(suffix) if suffix else None]
            fields = _rename_one(fields, name, new_prefix + middle + new_suffix)
        return fields
    source = fields.get(old)
    out: dict[str, Field] = {}
    for name, f in fields.items():
        if name == new and name != old:
            continue  # the target is replaced (or nulled when the source is missing)
        if name == old:
            out[new] = Field(new, f.sql, f.kind)
        else:
            out[name] = f
    if source is None:
        out.pop(new, None)
    return out


def sort_terms(key: ast.SortKey, state: State) -> list[exp.Ordered]:
    """ORDER BY terms for one sort key; missing values always last (spl.md §4 sort)."""
    v = state.get(key.field)
    if v.kind == NULL:
        return []
    value = first_of(v.expr) if v.kind == LIST else v.expr
    if v.kind in NUMERIC or key.mode == "str":
        return [ordered(value, key.desc)]
    if key.mode == "num":
        return [ordered(try_double(value), key.desc)]
    # auto: numbers (and strings that start with one) by that number, then the rest as text.
    leading = exp.RegexpExtract(this=value.copy(), expression=lit(_LEADING_NUMBER), group=lit(0))
    number = try_double(exp.Nullif(this=leading, expression=lit("")))
    return [
        ordered(is_null(value.copy()), False),
        ordered(number, key.desc),
        ordered(value.copy(), key.desc),
    ]


_LEADING_NUMBER = r"^-?[0-9]+(\.[0-9]+)?"


def compile_sort(cmd: ast.Sort, state: State) -> State:
    terms = [t for key in cmd.keys for t in sort_terms(key, state)]
    if cmd.reverse_all:
        terms = [flip(t) for t in terms]
    order = (*terms, *state.order)
    if not cmd.limit:
        return _reordered(state, order)
    select = state.select_from(exp.Star()).order_by(*[o.copy() for o in order], copy=False)
    return state.then(select.limit(cmd.limit, copy=False), order=order)


def _reordered(state: State, order: tuple[exp.Ordered, ...]) -> State:
    from dataclasses import replace

    return replace(state, order=order)


def compile_reverse(cmd: ast.Reverse, state: State) -> State:
    return _reordered(state, tuple(flip(o) for o in state.order))


def _limited(state: State, order: tuple[exp.Ordered, ...], count: int) -> State:
    select = state.select_from(exp.Star()).order_by(*[o.copy() for o in order], copy=False)
    return state.then(select.limit(count, copy=False), order=order)


def compile_head(cmd: ast.Head, state: State) -> State:
    return _limited(state, state.order, cmd.count)


def compile_tail(cmd: ast.Tail, state: State) -> State:
    """The last N rows, returned in reverse order (spl.md §4 head/tail)."""
    return _limited(state, tuple(flip(o) for o in state.order), cmd.count)


def compile_dedup(cmd: ast.Dedup, state: State) -> State:
    """Keep the first N rows per value combination in current order; drop rows missing a field."""
    values = [state.get(f) for f in cmd.fields]
    keys = [v.expr for v in values]
    if cmd.consecutive:
        state = _dedup_consecutive(state, keys)
    else:
        rn = state.ctx.hidden("rn")
        select = state.select_from(
            exp.Star(), alias(state.row_number([k.copy() for k in keys]), rn)
        )
        state = state.then(select, added=[rn])
        state = state.then(
            state.select_from(exp.Star()).where(exp.LTE(this=col(rn), expression=lit(cmd.count)))
        )
    if not cmd.keepempty:
        present = exp.and_(*(not_null(k.copy()) for k in keys), copy=False)
        state = state.then(state.select_from(exp.Star()).where(present))
    if cmd.sortby:
        terms = [t for key in cmd.sortby for t in sort_terms(key, state)]
        state = _reordered(state, (*terms, *state.order))
    return state


def _dedup_consecutive(state: State, keys: list[exp.Expr]) -> State:
    changed_col = state.ctx.hidden("chg")
    window_order = exp.Order(expressions=state.order_by())
    changes = [
        exp.NullSafeNEQ(
            this=k.copy(),
            expression=exp.Window(this=exp.Lag(this=k.copy()), order=window_order.copy()),
        )
        for k in keys
    ]
    first = exp.EQ(
        this=exp.Window(this=exp.RowNumber(), order=window_order.copy()), expression=lit(1)
    )
    flag = exp.or_(first, *changes, copy=False)
    state = state.then(state.select_from(exp.Star(), alias(flag, changed_col)), added=[changed_col])
    return state.then(state.select_from(exp.Star()).where(col(changed_col)))


def compile_fillnull(cmd: ast.FillNull, state: State) -> State:
    names = list(cmd.fields) or [f.name for f in state.visible() if f.name not in ("_cd",)]
    values: list[tuple[str, Val]] = []
    number = _as_number(cmd.value)
    for name in names:
        v = state.get(name)
        if v.kind in NUMERIC and number is not None:
            values.append((name, Val(exp.Coalesce(this=v.expr, expressions=[lit(number)]), v.kind)))
        elif v.kind == LIST:
            fill = exp.Array(expressions=[lit(cmd.value)])
            values.append((name, Val(exp.Coalesce(this=v.expr, expressions=[fill]), LIST)))
        else:
            values.append(
                (name, Val(exp.Coalesce(this=as_text(v), expressions=[lit(cmd.value)]), TEXT))
            )
    return assign_many(state, values) if values else state


def _as_number(text: str) -> float | int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number
