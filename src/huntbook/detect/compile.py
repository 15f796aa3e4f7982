"""Sigma's parsed condition tree -> one sqlglot predicate over a row of the detect scan.

The predicate reads columns the scan provides (``huntbook.detect.scan``): ``value_column(f)`` is
field ``f`` as stored, ``lower_column(f)`` its lower-cased text (computed once per event for all
rules). Plain Sigma strings match case-insensitively, whole value, ``*``/``?`` wildcards; ``re``
is case-sensitive unless its ``i`` flag is given (RE2, unanchored); a field the event lacks
matches nothing except ``null`` and ``exists: false``. Anything else raises ``SigmaRuleError``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)
from sqlglot import exp

from huntbook.detect import regex
from huntbook.detect.addresses import address_range, cidr_predicate
from huntbook.detect.model import ipv4_column, ipv6_column, lower_column, value_column
from huntbook.errors import SigmaRuleError
from huntbook.normalize.types import LIST, field_type
from huntbook.query.spl.compiler.values import (
    any_element,
    col,
    fn,
    is_null,
    lit,
    not_null,
    null_safe_not,
    try_double,
)

RAW = "_raw"
_VAR = "__v"
_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_COMPARE: dict[Any, type[exp.Expr]] = {
    SigmaCompareExpression.CompareOperators.LT: exp.LT,
    SigmaCompareExpression.CompareOperators.LTE: exp.LTE,
    SigmaCompareExpression.CompareOperators.GT: exp.GT,
    SigmaCompareExpression.CompareOperators.GTE: exp.GTE,
    SigmaCompareExpression.CompareOperators.NEQ: exp.NEQ,
}


@dataclass
class Compiled:
    """A predicate and the store fields it reads (``lowered``: those it reads lower-cased)."""

    fields: set[str] = field(default_factory=set)
    lowered: set[str] = field(default_factory=set)
    ipv4: set[str] = field(default_factory=set)
    ipv6: set[str] = field(default_factory=set)


def compile_condition(tree: Any, used: Compiled) -> exp.Expr:
    """The predicate of one parsed Sigma condition; records the fields read in ``used``."""
    handler = _NODES.get(type(tree))
    if handler is None:
        raise SigmaRuleError(f"condition element {type(tree).__name__} is not supported")
    return handler(tree, used)


def _and(node: ConditionAND, used: Compiled) -> exp.Expr:
    return exp.and_(*(compile_condition(a, used) for a in node.args), copy=False)


def _or(node: ConditionOR, used: Compiled) -> exp.Expr:
    """An OR; several plain strings of one field become one RE2 alternation (DuckDB binds each
    SQL term at a cost, and a rule set holds tens of thousands of them)."""
    plain: dict[str, list[SigmaString]] = {}
    rest: list[exp.Expr] = []
    for arg in node.args:
        if isinstance(arg, ConditionFieldEqualsValueExpression) and _is_plain(arg):
            plain.setdefault(str(arg.field), []).append(arg.value)  # type: ignore[arg-type]
        else:
            rest.append(compile_condition(arg, used))
    for name, values in plain.items():
        used.fields.add(name)
        if len(values) == 1:
            rest.append(_string(name, values[0], used))
            continue
        pattern = lit("(?s)" + "|".join(_regex_alternative(v) for v in values))
        rest.append(_each(name, partial(_regexp_like, pattern=pattern), True, used))
    return exp.or_(*rest, copy=False)


def _regexp_like(text: exp.Expr, pattern: exp.Expr) -> exp.Expr:
    return exp.RegexpLike(this=text, expression=pattern.copy())


def _is_plain(arg: ConditionFieldEqualsValueExpression) -> bool:
    return (
        isinstance(arg, ConditionFieldEqualsValueExpression)
        and arg.field is not None
        and type(arg.value) is SigmaString
        and not arg.value.contains_placeholder()
    )


def _not(node: ConditionNOT, used: Compiled) -> exp.Expr:
    return null_safe_not(compile_condition(node.args[0], used))


def _keyword(node: ConditionValueExpression, used: Compiled) -> exp.Expr:
    """A keyword (a value without a field): case-insensitive substring of the raw event."""
    value = node.value
    if isinstance(value, SigmaExpansion):
        return exp.or_(*(_keyword_value(v, used) for v in value.values), copy=False)
    return _keyword_value(value, used)


def _keyword_value(value: Any, used: Compiled) -> exp.Expr:
    if not isinstance(value, SigmaString):
        raise SigmaRuleError(f"keyword of type {type(value).__name__} is not supported")
    used.fields.add(RAW)
    used.lowered.add(RAW)
    pattern, escape = like_pattern(value, lower=True)
    return _like(col(lower_column(RAW)), (f"%{pattern.strip('%')}%", escape))


def _field_value(node: ConditionFieldEqualsValueExpression, used: Compiled) -> exp.Expr:
    if node.field is None:
        raise SigmaRuleError("a field-less value outside a keyword list is not supported")
    return match_value(node.field, node.value, used)


def match_value(name: str, value: Any, used: Compiled) -> exp.Expr:
    """``field <op> value`` for one Sigma value type."""
    handler = _VALUES.get(type(value))
    if handler is None:
        raise SigmaRuleError(f"value type {type(value).__name__} ({name}) is not supported")
    used.fields.add(name)
    return handler(name, value, used)


def _each(
    name: str, test: Callable[[exp.Expr], exp.Expr], lowered: bool, used: Compiled
) -> exp.Expr:
    """``test`` on the field's text; a multivalue field matches when any of its values does."""
    if field_type(name) != LIST:
        if lowered:
            used.lowered.add(name)
            return test(col(lower_column(name)))
        return test(col(value_column(name)))
    element: exp.Expr = exp.column(_VAR)
    return any_element(
        col(value_column(name)), test(exp.Lower(this=element) if lowered else element), _VAR
    )


def _string(name: str, value: SigmaString, used: Compiled) -> exp.Expr:
    cased = isinstance(value, SigmaCasedString)
    return _each(name, lambda text: _text_match(text, value, lower=not cased), not cased, used)


def _text_match(text: exp.Expr, value: SigmaString, *, lower: bool) -> exp.Expr:
    """Equality, prefix, suffix or substring as a function when the wildcards allow, else LIKE."""
    parts = list(value.s)
    lead = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
    trail = len(parts) > 1 and parts[-1] == SpecialChars.WILDCARD_MULTI
    middle = parts[int(lead) : len(parts) - int(trail)]
    if all(isinstance(p, str) for p in middle):
        literal = "".join(str(p) for p in middle)
        literal = literal.lower() if lower else literal
        function = {
            (False, False): None,
            (True, True): "contains",
            (False, True): "starts_with",
            (True, False): "ends_with",
        }[(lead, trail)]
        if function is None:
            return exp.EQ(this=text, expression=lit(literal))
        return fn(function, text, lit(literal))
    return _like(text, like_pattern(value, lower=lower))


def _number(name: str, value: SigmaNumber, used: Compiled) -> exp.Expr:
    text = str(value.number)
    return _each(name, lambda t: exp.EQ(this=t, expression=lit(text)), False, used)


def _bool(name: str, value: SigmaBool, used: Compiled) -> exp.Expr:
    text = "true" if value.boolean else "false"
    return _each(name, lambda t: exp.EQ(this=t, expression=lit(text)), True, used)


def _null(name: str, value: SigmaNull, used: Compiled) -> exp.Expr:
    column = col(value_column(name))
    if field_type(name) == LIST:
        return exp.or_(
            is_null(column), exp.EQ(this=exp.ArraySize(this=column.copy()), expression=lit(0))
        )
    return exp.or_(is_null(column), exp.EQ(this=column.copy(), expression=lit("")))


def _exists(name: str, value: SigmaExists, used: Compiled) -> exp.Expr:
    present = not_null(col(value_column(name)))
    return present if value.exists else exp.Not(this=present)


def _regex(name: str, value: SigmaRegularExpression, used: Compiled) -> exp.Expr:
    flags = "".join(sorted(_FLAGS[f] for f in value.flags))
    pattern = regex.checked(str(value.regexp), flags)
    return _each(name, lambda t: exp.RegexpLike(this=t, expression=lit(pattern)), False, used)


def _cidr(name: str, value: SigmaCIDRExpression, used: Compiled) -> exp.Expr:
    """On the scan's number (IPv4) or hex (IPv6) column of the field, computed once per event."""
    network = value.network
    if field_type(name) == LIST:
        return _each(name, lambda t: cidr_predicate(t, network), False, used)
    if isinstance(network, ipaddress.IPv4Network):
        used.ipv4.add(name)
        return address_range(col(ipv4_column(name)), network)
    used.ipv6.add(name)
    return address_range(col(ipv6_column(name)), network)


def _compare(name: str, value: SigmaCompareExpression, used: Compiled) -> exp.Expr:
    cls = _COMPARE[value.op]
    number = value.number.number
    return _each(name, lambda t: cls(this=try_double(t), expression=lit(number)), False, used)


def _fieldref(name: str, value: SigmaFieldReference, used: Compiled) -> exp.Expr:
    """Two fields of the same event equal (case-insensitively); the modifiers' prefix/suffix too."""
    other = value.field
    if LIST in (field_type(name), field_type(other)):
        raise SigmaRuleError(f"fieldref between multivalue fields ({name}, {other})")
    used.fields.update((name, other))
    used.lowered.update((name, other))
    this, that = col(lower_column(name)), col(lower_column(other))
    if value.starts_with:
        return exp.func("starts_with", this, that, dialect="duckdb")
    if value.ends_with:
        return exp.func("ends_with", this, that, dialect="duckdb")
    return exp.EQ(this=this, expression=that)


def _expansion(name: str, value: SigmaExpansion, used: Compiled) -> exp.Expr:
    return exp.or_(*(match_value(name, v, used) for v in value.values), copy=False)


_LIKE_SPECIAL = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})
_WILDCARDS = {SpecialChars.WILDCARD_MULTI: "%", SpecialChars.WILDCARD_SINGLE: "_"}


def like_pattern(value: SigmaString, *, lower: bool) -> tuple[str, bool]:
    """A Sigma string as a LIKE pattern: ``*`` -> ``%``, ``?`` -> ``_``; and whether it escapes.

    DuckDB's LIKE has no default escape character: literal ``%``/``_`` (rare) are escaped with
    ``\\`` (then ``ESCAPE '\\'``, backslashes doubled), otherwise the text goes in as it is.
    """
    texts = [p for p in value.s if isinstance(p, str)]
    escape = any("%" in t or "_" in t for t in texts)
    parts = []
    for part in value.s:
        if isinstance(part, str):
            text = part.lower() if lower else part
            parts.append(text.translate(_LIKE_SPECIAL) if escape else text)
        elif part in _WILDCARDS:
            parts.append(_WILDCARDS[part])
        else:
            raise SigmaRuleError(f"placeholder %{part}% needs a value huntbook does not have")
    return "".join(parts), escape


def _like(text: exp.Expr, pattern: tuple[str, bool]) -> exp.Expr:
    like = exp.Like(this=text, expression=lit(pattern[0]))
    return exp.Escape(this=like, expression=lit("\\")) if pattern[1] else like


_RE_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\.^$|?*+()[]{}"})
_RE_WILDCARDS = {SpecialChars.WILDCARD_MULTI: ".*", SpecialChars.WILDCARD_SINGLE: "."}


def _regex_alternative(value: SigmaString) -> str:
    """A lower-cased plain Sigma string as an anchored RE2 alternative (``*`` -> ``.*``)."""
    parts = list(value.s)
    lead = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
    trail = len(parts) > 1 and parts[-1] == SpecialChars.WILDCARD_MULTI
    body = "".join(
        p.lower().translate(_RE_SPECIAL) if isinstance(p, str) else _RE_WILDCARDS[p]  # type: ignore[index]
        for p in parts[int(lead) : len(parts) - int(trail)]
    )
    return f"{'' if lead else '^'}{body}{'' if trail else '$'}"


_NODES: dict[type, Callable[[Any, Compiled], exp.Expr]] = {
    ConditionAND: _and,
    ConditionOR: _or,
    ConditionNOT: _not,
    ConditionFieldEqualsValueExpression: _field_value,
    ConditionValueExpression: _keyword,
}
_VALUES: dict[type, Callable[[str, Any, Compiled], exp.Expr]] = {
    SigmaString: _string,
    SigmaCasedString: _string,
    SigmaNumber: _number,
    SigmaBool: _bool,
    SigmaNull: _null,
    SigmaExists: _exists,
    SigmaRegularExpression: _regex,
    SigmaCIDRExpression: _cidr,
    SigmaCompareExpression: _compare,
    SigmaFieldReference: _fieldref,
    SigmaExpansion: _expansion,
}
