"""``huntbook hunt PLAYBOOK --index NAME``: run a playbook's searches against another index.

The seed names ``index=botsv2``; a store whose events sit in ``main`` would answer every query with
0. The override rewrites the parsed search (never the text, where ``index=`` may sit inside a
quoted value): every ``index=`` / ``index IN (...)`` term of a search expression, at any depth
(subsearches, ``| search``), and the ``index=`` options of ``| metadata``, become ``index=NAME``.
``index!=`` terms are left alone: they name an index the search avoids, not one it reads. A
search naming no index gets ``index=NAME`` AND-ed to its leading search.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from huntbook.query.spl import ast

INDEX_FIELD = "index"


@dataclass(frozen=True)
class Retargeted:
    """The rewritten search and the index names it replaced (in order, without duplicates)."""

    pipeline: ast.Pipeline
    replaced: tuple[str, ...]


def retarget(pipeline: ast.Pipeline, index: str) -> Retargeted:
    """``pipeline`` with every index it names replaced by ``index``; a search that names none
    (and so would read every index) gets ``index=NAME`` AND-ed to its leading search."""
    replaced: dict[str, None] = {}
    rewritten = _walk(pipeline, index, replaced)
    if not replaced:
        rewritten = _scoped(rewritten, index)
    return Retargeted(rewritten, tuple(replaced))


def _scoped(pipeline: ast.Pipeline, index: str) -> ast.Pipeline:
    first = pipeline.commands[0] if pipeline.commands else None
    term = ast.Compare(INDEX_FIELD, "=", ast.SearchValue(index, quoted=True))
    if isinstance(first, ast.Search):
        expr = term if first.expr is None else ast.SAnd((term, first.expr))
        first = dataclasses.replace(first, expr=expr)
    elif isinstance(first, ast.Metadata):
        first = dataclasses.replace(first, indexes=(index,))
    else:
        return pipeline
    return dataclasses.replace(pipeline, commands=(first, *pipeline.commands[1:]))


def named_indexes(pipeline: ast.Pipeline) -> tuple[str, ...]:
    """The indexes a search names: exactly those ``retarget`` would replace."""
    replaced: dict[str, None] = {}
    _walk(pipeline, "", replaced)
    return tuple(replaced)


def _walk(node: Any, index: str, replaced: dict[str, None]) -> Any:
    if isinstance(node, tuple):
        items = tuple(_walk(item, index, replaced) for item in node)
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    own = _replace(node, index, replaced)
    if own is not None:
        return own
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        new = _walk(value, index, replaced)
        if new is not value:
            changes[f.name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _replace(node: Any, index: str, replaced: dict[str, None]) -> Any:
    """The node with its index replaced, or None when it names no index itself."""
    value = ast.SearchValue(index, quoted=True)
    if isinstance(node, ast.Compare) and node.field.lower() == INDEX_FIELD and node.op == "=":
        replaced[node.value.text] = None
        return dataclasses.replace(node, value=value)
    if isinstance(node, ast.InList) and node.field.lower() == INDEX_FIELD:
        replaced.update(dict.fromkeys(v.text for v in node.values))
        return dataclasses.replace(node, values=(value,))
    if isinstance(node, ast.Metadata) and node.indexes:
        replaced.update(dict.fromkeys(node.indexes))
        return dataclasses.replace(node, indexes=(index,))
    return None
