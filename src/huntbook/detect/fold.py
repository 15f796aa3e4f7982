"""A rule's predicate decided, where it can be, for one group's events before DuckDB plans it.

A field that none of the group's branches stores (the store has no column for it) reads NULL on
every event of the group. A term on it is then known without reading an event: ``IS NULL`` is
TRUE, and every term huntbook compiles (comparisons, LIKE, contains/starts_with/ends_with, regex,
ranges, casts, list tests) gives NULL for a NULL input (``PROPAGATE``). SQL's three-valued logic
is kept: NULL is read as FALSE only where the two cannot be told apart (the rule's own match, an
AND/OR under it, and under ``COALESCE(.., FALSE)``, huntbook's NOT), never under a plain NOT.
Terms are only folded when every step from them down to the missing column passes NULL on;
anything else is left for DuckDB. A rule that folds to FALSE cannot match in its group.

Then ``share``: a term several rules of the group test (the same ``Image`` suffix, the same
``OriginalFileName``) is computed once, in a column the rules read.

DuckDB spends most of a detect run on small stores planning the group queries (BENCHMARKS.md
"Detect"), in proportion to their terms: the terms decided here are never parsed, bound or
optimized, and a shared term is bound once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator

from sqlglot import exp

from huntbook.detect.model import ipv4_column, ipv6_column, lower_column, value_column

# The nodes that give NULL when the input on the way down to a column is NULL.
PROPAGATE: tuple[type[exp.Expr], ...] = (
    exp.EQ,
    exp.NEQ,
    exp.LT,
    exp.LTE,
    exp.GT,
    exp.GTE,
    exp.Like,
    exp.Escape,
    exp.RegexpLike,
    exp.Between,
    exp.Contains,
    exp.StartsWith,
    exp.EndsWith,
    exp.TryCast,
    exp.Cast,
    exp.Lower,
    exp.ArraySize,
    exp.ArrayFilter,  # through its list only (checked below), not its lambda
)


def absent_columns(fields: Iterable[str]) -> set[str]:
    """The scan columns of ``fields`` (as stored, lower-cased, IPv4 number, IPv6 hex)."""
    makers = (value_column, lower_column, ipv4_column, ipv6_column)
    return {make(name) for name in fields for make in makers}


def fold(node: exp.Expr, absent: Collection[str], falsy: bool = True) -> exp.Expr:
    """``node`` with every term on an ``absent`` column decided (``falsy``: NULL may be read
    as FALSE here). Nodes left as they are are returned as they are (not copied)."""
    if isinstance(node, exp.Paren):
        inner = fold(node.this, absent, falsy)
        return inner if inner is not node.this else node
    if isinstance(node, (exp.And, exp.Or)):
        return _connector(node, absent, falsy)
    if isinstance(node, exp.Not):
        inner = fold(node.this, absent, False)
        if _value(inner) is not _UNKNOWN:
            return _constant(_negate(_value(inner)))
        return node if inner is node.this else exp.Not(this=inner)
    if isinstance(node, exp.Coalesce) and _is_false_default(node):
        inner = fold(node.this, absent, True)
        if _value(inner) is not _UNKNOWN:
            return _constant(_value(inner) is True)
        return node if inner is node.this else exp.Coalesce(this=inner, expressions=[exp.false()])
    return _term(node, absent, falsy)


_UNKNOWN = object()  # not a constant


def _value(node: exp.Expr) -> object:
    """True, False, None (NULL) for a constant node, else ``_UNKNOWN``."""
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    return _UNKNOWN


def _constant(value: object) -> exp.Expr:
    return exp.Null() if value is None else exp.Boolean(this=bool(value))


def _negate(value: object) -> object:
    return None if value is None else not value


def _is_false_default(node: exp.Coalesce) -> bool:
    rest = node.expressions
    return len(rest) == 1 and _value(rest[0]) is False


def _connector(node: exp.Connector, absent: Collection[str], falsy: bool) -> exp.Expr:
    """AND / OR over its two sides, in three-valued logic."""
    left = fold(node.this, absent, falsy)
    right = fold(node.expression, absent, falsy)
    is_and = isinstance(node, exp.And)
    absorbing, neutral = (False, True) if is_and else (True, False)
    values = [_value(left), _value(right)]
    if absorbing in values:
        return _constant(absorbing)
    kept = [side for side, value in zip((left, right), values, strict=True) if value is not neutral]
    if not kept:
        return _constant(neutral)
    if falsy:  # NULL reads as FALSE: dropped from an OR, deciding an AND
        if is_and and None in values:
            return exp.false()
        kept = [side for side in kept if _value(side) is not None] or [exp.false()]
    if len(kept) == 1:
        return kept[0]
    if left is node.this and right is node.expression:
        return node
    combine = exp.and_ if is_and else exp.or_
    return combine(left, right, copy=False)


def _term(node: exp.Expr, absent: Collection[str], falsy: bool) -> exp.Expr:
    """A term: decided when it reads an absent column and passes its NULL on."""
    missing = [c for c in node.find_all(exp.Column) if c.name in absent]
    if not missing:
        return node
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null) and node.this in missing:
        return exp.true()  # the column IS NULL on every event of the group
    if not any(_propagates(column, node) for column in missing):
        return node
    return exp.false() if falsy else exp.Null()


def _propagates(column: exp.Column, top: exp.Expr) -> bool:
    """Whether every node from ``column`` up to ``top`` gives NULL for a NULL ``column``."""
    node: exp.Expr = column
    while node is not top:
        parent = node.parent
        if not isinstance(parent, PROPAGATE):
            return False
        if isinstance(parent, exp.ArrayFilter) and node.arg_key != "this":
            return False
        node = parent
    return True


def share(
    trees: list[exp.Expr], name: Callable[[int], str]
) -> tuple[list[exp.Expr], list[exp.Expr]]:
    """The terms found in more than one place of ``trees`` (rules of a group test the same
    ``Image`` suffix dozens of times), each replaced by the column ``name(n)`` of the n-th: the
    query computes each once (its value, NULL included, is the term's), and DuckDB binds it
    once instead of once per rule. Returns the rewritten trees and the shared terms."""
    counts: Counter[exp.Expr] = Counter(term for tree in trees for term in _terms(tree))
    numbers = {term: n for n, term in enumerate(t for t, c in counts.items() if c > 1)}
    rewritten = [_replace(tree, numbers, name) for tree in trees]
    return rewritten, list(numbers)


def _children(node: exp.Expr) -> list[exp.Expr] | None:
    """The operands of AND/OR/NOT, a parenthesis or huntbook's null-safe NOT; None for a term."""
    if isinstance(node, (exp.And, exp.Or)):
        return [node.this, node.expression]
    if isinstance(node, (exp.Paren, exp.Not)):
        return [node.this]
    if isinstance(node, exp.Coalesce) and _is_false_default(node):
        return [node.this]
    return None


def _terms(node: exp.Expr) -> Iterator[exp.Expr]:
    children = _children(node)
    if children is None:
        yield node
        return
    for child in children:
        yield from _terms(child)


def _replace(node: exp.Expr, numbers: dict[exp.Expr, int], name: Callable[[int], str]) -> exp.Expr:
    children = _children(node)
    if children is None:
        number = numbers.get(node)
        return node if number is None else exp.column(name(number), quoted=True)
    new = [_replace(child, numbers, name) for child in children]
    if all(a is b for a, b in zip(new, children, strict=True)):
        return node
    if isinstance(node, (exp.And, exp.Or)):
        return type(node)(this=new[0], expression=new[1])
    if isinstance(node, exp.Coalesce):
        return exp.Coalesce(this=new[0], expressions=[exp.false()])
    return type(node)(this=new[0])
