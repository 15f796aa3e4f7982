"""Search-language predicates (spl.md §1): case-insensitive whole-value matches with ``*``
wildcards,
``!=`` versus ``NOT`` with missing fields, multivalue any-match, numeric ``<``/``>``, bare terms
on _raw.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler.searchtime import equivalent_names
from huntbook.query.spl.compiler.state import State
from huntbook.query.spl.compiler.timeutil import parse_time
from huntbook.query.spl.compiler.values import (
    INT,
    LIST,
    NULL,
    NUM,
    NUMERIC,
    Val,
    as_text,
    col,
    lit,
    not_null,
    null_safe_not,
    try_double,
)

_VAR = "__v"
# Splunk's default segmenters (spl.md §1.3): major breakers, then minor breakers.
_MAJOR = r"\s\[\]<>(){}|!;,'\"*&?+"
_MINOR = r"/:=@.\-$#%\\_"
_CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")


def predicate(node: ast.SearchExpr, state: State) -> exp.Expr:
    """A boolean SQL expression for a search expression over ``state``'s fields."""
    handler: Callable[[Any, State], exp.Expr] = _HANDLERS[type(node)]
    return handler(node, state)


def _and(node: ast.SAnd, state: State) -> exp.Expr:
    return exp.and_(*(predicate(i, state) for i in node.items), copy=False)


def _or(node: ast.SOr, state: State) -> exp.Expr:
    return exp.or_(*(predicate(i, state) for i in node.items), copy=False)


def _not(node: ast.SNot, state: State) -> exp.Expr:
    return null_safe_not(predicate(node.item, state))


def _in_list(node: ast.InList, state: State) -> exp.Expr:
    return exp.or_(*(compare(node.field, "=", v, state) for v in node.values), copy=False)


def _compare(node: ast.Compare, state: State) -> exp.Expr:
    return compare(node.field, node.op, node.value, state)


def _time_bound(node: ast.TimeBound, state: State) -> exp.Expr:
    t = state.get("_time")
    if t.kind == NULL:
        return exp.false()
    bound = parse_time(node.value, state.ctx.now, state.ctx.text, node.pos)
    lower = node.kind in ("earliest", "starttime")
    cmp = exp.GTE if lower else exp.LT
    return cmp(this=t.expr, expression=lit(bound))


def compare(field: str, op: str, value: ast.SearchValue, state: State) -> exp.Expr:
    """``field op value`` with search semantics; a missing field never matches (not even ``!=``).

    ``source=``/``sourcetype=`` naming one generation of Splunk's Windows add-on match the names of
    every generation (normalize/mappings/search.yaml).
    """
    meaning = None
    if op in ("=", "!=") and not value.case_sensitive:
        meaning = equivalent_names(field, value.text)
    if meaning is None:
        return _compare_field(field, op, value, state)
    any_of = exp.or_(
        *(
            exp.and_(
                *(
                    exp.or_(*(_compare_field(f, "=", replace(value, text=t), state) for t in texts))
                    for f, texts in conjunction
                ),
                copy=False,
            )
            for conjunction in meaning
        ),
        copy=False,
    )
    if op == "=":
        return any_of
    present = _compare_field(field, "=", ast.SearchValue("*"), state)
    return exp.and_(present, null_safe_not(any_of), copy=False)


def _compare_field(field: str, op: str, value: ast.SearchValue, state: State) -> exp.Expr:
    v = state.get(field)
    if v.kind == NULL:
        return _raw_key_value(field, op, value, state)
    if v.kind == LIST:
        return _list_compare(v, op, value)
    return _scalar_compare(v, op, value)


def _raw_key_value(field: str, op: str, value: ast.SearchValue, state: State) -> exp.Expr:
    """A field the store lacks: look for ``field=value`` in _raw, like Splunk's automatic
    key-value extraction (KV_MODE=auto). Approximation: only ``=``, value up to a space, comma,
    semicolon or quote; field name case-sensitive, value case-insensitive."""
    raw = state.get("_raw")
    if op != "=" or raw.kind == NULL or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", field):
        return exp.false()
    if value.text == "*":
        body = r"[^\s,;\"]+"
    else:
        body = "".join(r"[^\s,;\"]*" if ch == "*" else _re_escape(ch) for ch in value.text)
        body = f"(?i:{body})" if not value.case_sensitive else body
    regex = rf"(?:^|[\s,;])(?:{re_escape_text(field)})=\"?{body}(?:\"|$|[\s,;])"
    return exp.RegexpLike(this=raw.expr, expression=lit(regex))


def re_escape_text(text: str) -> str:
    return "".join(_re_escape(ch) for ch in text)


def _list_compare(v: Val, op: str, value: ast.SearchValue) -> exp.Expr:
    """Multivalue: true when any value matches; ``!=`` when any value differs (spl.md §1.7)."""
    elem = Val(col(_VAR), "text")
    if op == "!=":
        inner = null_safe_not(_scalar_compare(elem, "=", value))
        return exp.and_(not_null(v.expr), _any(v.expr, inner), copy=False)
    return _any(v.expr, _scalar_compare(elem, op, value))


def _any(lst: exp.Expr, pred: exp.Expr) -> exp.Expr:
    from huntbook.query.spl.compiler.values import any_element

    return any_element(lst, pred, _VAR)


def _scalar_compare(v: Val, op: str, value: ast.SearchValue) -> exp.Expr:
    if op == "=":
        return equals(v, value)
    if op == "!=":
        return exp.and_(not_null(v.expr), null_safe_not(equals(v, value)), copy=False)
    return _ordering(v, op, value)


def equals(v: Val, value: ast.SearchValue) -> exp.Expr:
    """Whole-value, case-insensitive match; ``*`` is a wildcard and ``field=*`` means present."""
    if value.text == "*":
        return not_null(v.expr)
    if v.kind in NUMERIC and _number(value.text) is not None:
        return exp.EQ(this=v.expr, expression=lit(_number(value.text)))
    cidr = _CIDR.match(value.text)
    if cidr:
        return cidr_predicate(as_text(v), value.text)
    text, pattern = as_text(v), value.text
    if not value.case_sensitive:
        text, pattern = folded(text, pattern)
    if "*" in pattern:
        return like(text, pattern)
    return exp.EQ(this=text, expression=lit(pattern))


def folded(text: exp.Expr, pattern: str) -> tuple[exp.Expr, str]:
    """``text`` and ``pattern`` for a case-insensitive match: both lowercased, unless no character
    of ``pattern`` has a case. An ASCII digit, punctuation mark or space is no other character's
    lowercase (checked over every code point in tests/query/spl/test_case_folding.py), so
    ``x = '4624'`` is exactly ``lower(x) = '4624'`` (and ``LIKE`` alike), without lowercasing
    every row; DuckDB can then also test it in the Parquet scan."""
    if all(ch.isascii() and not ch.isalpha() for ch in pattern):
        return text, pattern
    return exp.Lower(this=text), pattern.lower()


def like(text: exp.Expr, pattern: str) -> exp.Expr:
    """``*`` wildcards as SQL LIKE, escaping LIKE's own ``%``, ``_`` and the escape character."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like_pattern = escaped.replace("*", "%")
    return exp.Escape(this=exp.Like(this=text, expression=lit(like_pattern)), expression=lit("\\"))


def _ordering(v: Val, op: str, value: ast.SearchValue) -> exp.Expr:
    """``< <= > >=``: numeric when both sides are numbers, otherwise lexicographic (spl.md §1.4)."""
    cls = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
    number = _number(value.text)
    if v.kind in NUMERIC:
        if number is not None:
            return cls(this=v.expr, expression=lit(number))
        return cls(this=as_text(v), expression=lit(value.text))
    text_cmp = cls(this=v.expr, expression=lit(value.text))
    if number is None:
        return text_cmp
    numeric = try_double(v.expr)
    return exp.Case(
        ifs=[exp.If(this=not_null(numeric), true=cls(this=numeric.copy(), expression=lit(number)))],
        default=text_cmp,
    )


def _number(text: str) -> float | int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return (
        int(number)
        if number.is_integer() and "." not in text and "e" not in text.lower()
        else number
    )


def cidr_predicate(ip: exp.Expr, cidr: str) -> exp.Expr:
    """IPv4 subnet test done arithmetically, so it needs no extension in DuckDB or Spark."""
    m = _CIDR.match(cidr)
    if not m:
        return exp.false()
    octets = [int(g) for g in m.groups()[:4]]
    bits = min(int(m.group(5)), 32)
    network = sum(o << (8 * (3 - i)) for i, o in enumerate(octets))
    size = 1 << (32 - bits)
    number = ipv4_number(ip)
    return exp.and_(
        exp.GTE(this=number, expression=lit(network - network % size)),
        exp.LT(this=number.copy(), expression=lit(network - network % size + size)),
        copy=False,
    )


def ipv4_number(ip: exp.Expr) -> exp.Expr:
    """``a.b.c.d`` -> a*2^24 + b*2^16 + c*2^8 + d; NULL unless the text is a dotted quad."""
    pattern = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"
    total: exp.Expr | None = None
    for i in range(4):
        part = exp.RegexpExtract(this=ip.copy(), expression=lit(pattern), group=lit(i + 1))
        term = exp.Mul(
            this=try_double(exp.Nullif(this=part, expression=lit(""))),
            expression=lit(256 ** (3 - i)),
        )
        total = term if total is None else exp.Add(this=total, expression=term)
    assert total is not None
    return total


def _term(node: ast.Term, state: State) -> exp.Expr:
    """A bare word or phrase against _raw, as whole tokens between breakers (spl.md §1.3).

    Approximation: Splunk matches indexed segments; here the term must appear in _raw with a
    breaker (or the text edge) on both sides, case-insensitively unless CASE(); ``*`` matches any
    run of non-major-breaker characters.
    """
    value = node.value
    if not value.quoted and not value.text.strip("*"):
        return exp.true()  # a bare * matches every event
    raw = state.get("_raw")
    if raw.kind == NULL:
        return exp.false()
    boundary = f"[{_MAJOR}]" if value.term else f"[{_MAJOR}{_MINOR}]"
    body = "".join(f"[^{_MAJOR}]*" if ch == "*" else _re_escape(ch) for ch in value.text)
    flags = "" if value.case_sensitive else "(?i)"
    regex = f"{flags}(?:^|{boundary}){body}(?:$|{boundary})"
    matcher = exp.RegexpLike(this=raw.expr, expression=lit(regex))
    literal = max(value.text.split("*"), key=len)
    if not literal:
        return matcher
    # A cheap substring test first, so the regular expression runs only on candidate rows.
    prefilter = like(*folded(raw.expr.copy(), f"*{literal}*"))
    return exp.and_(prefilter, matcher, copy=False)


def _re_escape(ch: str) -> str:
    """Escape for RE2 and Java regex alike (Python's re.escape escapes characters RE2 rejects)."""
    return "\\" + ch if ch in _REGEX_SPECIAL else ch


_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")


def _subsearch(node: ast.SubsearchFilter, state: State) -> exp.Expr:
    from huntbook.query.spl.compiler.subsearch import subsearch_filter

    return subsearch_filter(node, state)


_HANDLERS: dict[type, Callable[[Any, State], exp.Expr]] = {
    ast.SubsearchFilter: _subsearch,
    ast.SAnd: _and,
    ast.SOr: _or,
    ast.SNot: _not,
    ast.InList: _in_list,
    ast.Compare: _compare,
    ast.TimeBound: _time_bound,
    ast.Term: _term,
}

__all__ = ["INT", "NUM", "compare", "equals", "like", "predicate"]
