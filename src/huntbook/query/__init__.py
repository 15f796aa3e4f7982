"""Queries: SPL compiled to sqlglot expressions and run on the store.

    compile_spl(text, fields) -> CompiledQuery   (no database needed: the schema is passed in)
    run_spl(store, text) -> SearchResult

Macros are expanded first (huntbook.query.spl.macros); ``run_spl`` reads definitions from
huntbook's CIM macros, the store's ``macros/`` folder and ``macro_paths``, in that order.

Contract: docs/architecture.md §3.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from huntbook.errors import SplSyntaxError
from huntbook.query.macro_files import load_macros, store_macros
from huntbook.query.result import SearchResult
from huntbook.query.spl import ast
from huntbook.query.spl.compiler import build_base, compile_commands, final_select
from huntbook.query.spl.compiler.state import Context
from huntbook.query.spl.compiler.timeutil import parse_time
from huntbook.query.spl.macros import Expansion, MacroTable, expand
from huntbook.query.spl.parser import parse

__all__ = ["CompiledQuery", "SearchResult", "compile_spl", "run_spl", "store_macro_table"]


@dataclass(frozen=True)
class CompiledQuery:
    """A compiled search: ``expr`` is one SELECT over the table ``events``."""

    expr: exp.Select
    columns: list[str]
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    expanded: str = ""  # the search after macro expansion (what was parsed)

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
    macros: MacroTable | None = None,
) -> CompiledQuery:
    """Compile SPL against a store schema ({column: "double"|"bigint"|"text"|"list"}).

    Fields the schema lacks compile to NULL. ``earliest``/``latest`` (SPL time modifiers) bound
    ``_time`` before the first command; ``limit`` caps the final rows. ``columns`` maps a field
    to its column in ``events`` where the names differ (e.g. ``user`` stored as ``user__1``).
    ``macros`` defines the search macros the text may call (none when not given).

    Raises:
        SplSyntaxError: the text does not parse, or a construct is used wrongly; an error inside
            a macro's expansion names the macro.
        UnsupportedSplError: a command or function huntbook does not implement, or an undefined
            macro.
    """
    expansion = expand(text, macros or MacroTable())
    try:
        return _compile(text, expansion, fields, now, earliest, latest, limit, lookup_dirs, columns)
    except SplSyntaxError as err:
        call = expansion.locate(err.pos) if err.query == expansion.text else None
        if call is None:
            raise
        where = f"{err.reason} (in the expansion of macro `{call}`)"
        raise type(err)(where, err.query, err.pos) from None


def _compile(
    text: str,
    expansion: Expansion,
    fields: dict[str, str],
    now: float | None,
    earliest: str | None,
    latest: str | None,
    limit: int | None,
    lookup_dirs: tuple[str, ...],
    columns: dict[str, str] | None,
) -> CompiledQuery:
    pipeline = parse(expansion.text)
    ctx = Context(
        text=expansion.text, now=time.time() if now is None else now, lookup_dirs=lookup_dirs
    )
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
    return CompiledQuery(select, names, list(ctx.warnings), text, expansion.text)


def run_spl(
    store: Any,
    text: str,
    *,
    earliest: str | None = None,
    latest: str | None = None,
    limit: int | None = None,
    now: float | None = None,
    macro_paths: tuple[str | Path, ...] = (),
    lookup_paths: tuple[str | Path, ...] = (),
    macros: MacroTable | None = None,
) -> SearchResult:
    """Compile and run SPL on a store (``store.connect()`` gives a DuckDB connection with
    ``events``). ``macro_paths``: macro files or folders over the store's own (``macros``, when
    given, is the whole table instead); ``lookup_paths``: lookup folders after the store's."""
    from huntbook.engines.duckdb import DuckDBEngine

    lookup_dirs = tuple(str(p) for p in [*_lookup_dirs(store), *lookup_paths])
    query = compile_spl(
        text,
        store.fields(),
        now=now,
        earliest=earliest,
        latest=latest,
        limit=limit,
        lookup_dirs=lookup_dirs,
        columns=store.columns() if hasattr(store, "columns") else None,
        macros=macros if macros is not None else store_macro_table(store, macro_paths),
    )
    return DuckDBEngine(store).execute(query)


def store_macro_table(store: Any, macro_paths: tuple[str | Path, ...] = ()) -> MacroTable:
    """huntbook's CIM macros, then the store's ``macros/`` folder, then ``macro_paths``."""
    return load_macros([*store_macros(getattr(store, "path", None)), *macro_paths])


def _lookup_dirs(store: Any) -> list[Path]:
    path = getattr(store, "path", None)
    return [Path(path) / "lookups"] if path is not None else []
