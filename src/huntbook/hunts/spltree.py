"""Reading a playbook query through the SPL engine's own parser (``huntbook.query.spl.parser``).

The hunts need two facts about a query that the engine does not compute for them: which events its
base search requires (to tell a no-data zero from a true zero) and whether it is a plain field
match (to write it as a Sigma rule). Both are read off the parsed tree, so SPL's precedence (OR
binds tighter than AND in ``search``), quoting and escapes are the engine's, not a second guess.
"""

from __future__ import annotations

from collections.abc import Iterator

from huntbook.errors import QueryError
from huntbook.query.spl import ast
from huntbook.query.spl.parser import parse


def pipeline(spl: str) -> ast.Pipeline | None:
    """The parsed query, or None when it does not parse (lint and the run report that)."""
    try:
        return parse(spl)
    except QueryError:
        return None


def base_expr(tree: ast.Pipeline) -> ast.SearchExpr | None:
    """The expression of the leading ``search`` (None for a generating command like metadata)."""
    first = tree.commands[0] if tree.commands else None
    return first.expr if isinstance(first, ast.Search) else None


def metadata_indexes(tree: ast.Pipeline) -> tuple[str, ...]:
    """The ``index=`` options of a leading ``| metadata`` (empty for anything else)."""
    first = tree.commands[0] if tree.commands else None
    return first.indexes if isinstance(first, ast.Metadata) else ()


def conjuncts(expr: ast.SearchExpr) -> Iterator[ast.SearchExpr]:
    """The AND-ed parts of a search expression, nested ANDs flattened."""
    if isinstance(expr, ast.SAnd):
        for item in expr.items:
            yield from conjuncts(item)
    else:
        yield expr


def equals(expr: ast.SearchExpr) -> tuple[str, list[str]] | None:
    """``f=a``, ``f IN (a, b)`` or ``(f=a OR f=b)`` as (field, values); None for anything else."""
    if isinstance(expr, ast.Compare) and expr.op == "=":
        return expr.field, [expr.value.text]
    if isinstance(expr, ast.InList):
        return expr.field, [v.text for v in expr.values]
    if isinstance(expr, ast.SOr):
        parts = [equals(item) for item in expr.items]
        fields = {p[0] for p in parts if p is not None}
        if None not in parts and len(fields) == 1:
            return fields.pop(), [v for p in parts if p is not None for v in p[1]]
    return None


def command_names(tree: ast.Pipeline) -> list[str]:
    """The SPL names (``key``) of the commands after the first (``table``, ``transaction``...)."""
    return [c.key for c in tree.commands[1:]]
