"""Queries: SPL compiled to sqlglot expressions and run on the store.

    compile_spl(text, fields) -> CompiledQuery   (no database needed: the schema is passed in)
    run_spl(store, text) -> SearchResult

Contract: docs/architecture.md §3.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from huntbook.query.result import SearchResult
from huntbook.query.spl import ast
from huntbook.query.spl.compiler import build_base, compile_commands, final_select
from huntbook.query.spl.compiler.state import Context
from huntbook.query.spl.compiler.timeutil import parse_time
from huntbook.query.spl.parser import parse

if TYPE_CHECKING:
    from huntbook.store import StoreLike

__all__ = ["CompiledQuery", "SearchResult", "compile_spl", "run_spl"]


@dataclass(frozen=True)
class CompiledQuery:
    """A compiled search: ``expr`` is one SELECT over the table ``events``."""

    expr: exp.Select
    columns: list[str]
    warnings: list[str] = field(default_factory=list)
    source: str = ""

    def sql(self, dialect: str = "duckdb", pretty: bool = False) -> str:
        """The query as SQL text in ``dialect`` ("duckdb" or "spark")."""
        return self.expr.sql(dialect=dialect, pretty=pretty)


def compile_spl(
    text: str,
    fields: dict[str, str],
    *,
    now: float | None = None,
    earliest: str | None = None,
    latest: str | None = None,
    limit: int | None = None,
    lookup_dirs: tuple[str, ...] = (),
    columns: dict[str, str] | None = None,
) -> CompiledQuery:
    """Compile SPL against a store schema ({column: "double"|"bigint"|"text"|"list"}).

    Fields the schema lacks compile to NULL. ``earliest``/``latest`` (SPL time modifiers) bound
    ``_time`` before the first command; ``limit`` caps the final rows. ``columns`` maps a field
    to its column in ``events`` where the names differ (e.g. ``user`` stored as ``user__1``).

    Raises:
        SplSyntaxError: the text does not parse, or a construct is used wrongly.
        UnsupportedSplError: a command or function huntbook does not implement.
    """
    pipeline = parse(text)
    ctx = Context(text=text, now=time.time() if now is None else now, lookup_dirs=lookup_dirs)
    for value in (earliest, latest):
        if value:
            parse_time(value, ctx.now)  # a bad bound is reported without a caret into the query
    bounds = [
        ast.TimeBound(kind, value)
        for kind, value in (("earliest", earliest), ("latest", latest))
        if value
    ]
    base = build_base(ctx, fields, bounds, columns)
    ctx.base = base
    state = compile_commands(pipeline, ctx, base)
    select = final_select(state, limit)
    names = [f.name for f in state.visible()]
    return CompiledQuery(select, names, list(ctx.warnings), text)


def run_spl(
    store: StoreLike,
    text: str,
    *,
    earliest: str | None = None,
    latest: str | None = None,
    limit: int | None = None,
    now: float | None = None,
) -> SearchResult:
    """Compile and run SPL on a store (``store.connect()`` gives a DuckDB connection with
    ``events``)."""
    from huntbook.engines.duckdb import DuckDBEngine

    lookup_dirs = tuple(str(p) for p in _lookup_dirs(store))
    query = compile_spl(
        text,
        store.fields(),
        now=now,
        earliest=earliest,
        latest=latest,
        limit=limit,
        lookup_dirs=lookup_dirs,
        columns=store.columns(),
    )
    return DuckDBEngine(store).execute(query)


def _lookup_dirs(store: StoreLike) -> list[Path]:
    return [store.lookups]
