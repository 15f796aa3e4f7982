"""Queries: SPL compiled to sqlglot expressions and run on the store.

    compile_spl(text, fields) -> CompiledQuery   (no database needed: the schema is passed in)
    run_spl(store, text) -> SearchResult

Macros are expanded first (huntbook.query.spl.macros); ``run_spl`` reads definitions from
huntbook's CIM macros, the store's ``macros/`` folder and ``macro_paths``, in that order.

Contract: docs/architecture.md §3.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from huntbook.engines.base import Limits
from huntbook.engines.grid import GridCheck
from huntbook.engines.result import KeptResult, SearchResult, SearchStream
from huntbook.errors import SplSyntaxError, UnsupportedSplError
from huntbook.query.macro_files import load_macros, store_macros
from huntbook.query.spark import LookupTable, SeriesValues, spark_ready
from huntbook.query.spl import ast
from huntbook.query.spl.compiler import build_base, compile_commands, final_select
from huntbook.query.spl.compiler.runtime import LookupWrite, PythonFunction, RowCheck, prepare
from huntbook.query.spl.compiler.state import Context
from huntbook.query.spl.compiler.timeutil import parse_time
from huntbook.query.spl.macros import Expansion, MacroTable, expand
from huntbook.query.spl.parser import parse

if TYPE_CHECKING:
    from huntbook.engines import EngineChoice
    from huntbook.store import StoreLike

__all__ = [
    "CompiledQuery",
    "SearchResult",
    "SearchStream",
    "compile_for_store",
    "compile_spl",
    "kept_spl",
    "lookup_folders",
    "run_spl",
    "store_macro_table",
    "stream_spl",
]


# Commands after which rows are no longer events (Splunk's transforming commands).
TRANSFORMING = (
    ast.Table,
    ast.Stats,
    ast.Top,
    ast.Chart,
    ast.Timechart,
    ast.TStats,
    ast.Metadata,
    ast.FieldSummary,
)


@dataclass(frozen=True)
class CompiledQuery:
    """A compiled search: ``expr`` is one SELECT over the table ``events``.

    ``events``: the rows are raw events (``_raw`` kept, no transforming command), which the
    terminal shows as an event list. ``named``: the columns the query named, shown even when
    empty; None when a transforming command built every column.
    """

    expr: exp.Select
    columns: list[str]
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    grids: list[GridCheck] = field(default_factory=list)  # charts to size before running
    events: bool = False
    named: frozenset[str] | None = frozenset()
    expanded: str = ""  # the search after macro expansion (what was parsed)
    not_on_spark: tuple[str, ...] = ()  # constructs compiled for DuckDB only, refused on Spark
    checks: tuple[RowCheck, ...] = ()  # subsearch sizes checked before running
    writes: tuple[LookupWrite, ...] = ()  # outputlookup's files, written before running
    functions: tuple[PythonFunction, ...] = ()  # Python functions the SQL calls (iplocation)

    def sql(
        self,
        dialect: str = "duckdb",
        pretty: bool = False,
        series: SeriesValues | None = None,
        lookups: LookupTable | None = None,
    ) -> str:
        """The query as SQL text in ``dialect`` ("duckdb" or "spark"); for "spark", ``series``
        reads a chart's series from the data (chart/timechart BY are refused without it) and
        ``lookups`` registers each lookup file's rows as a temp view (without it, only named).

        Raises:
            UnsupportedSplError: for "spark", a construct Spark cannot run with DuckDB's answer.
        """
        if dialect == "spark":
            if self.not_on_spark:
                raise UnsupportedSplError(f"{self.not_on_spark[0]} is not supported on Spark")
            return spark_ready(self.expr, series, lookups).sql(dialect=dialect, pretty=pretty)
        return self.expr.sql(dialect=dialect, pretty=pretty)

    def prepare_duckdb(self, con: Any) -> list[str]:
        """Before the search runs on DuckDB connection ``con``: register its Python functions,
        write its lookup files, check its subsearches' sizes; the warnings those give.

        Raises:
            LookupAccessError: an outputlookup file could not be written.
        """
        return prepare(con, self.functions, self.writes, self.checks)

    def grid_checks(self, dialect: str = "duckdb") -> list[tuple[GridCheck, str]]:
        """Each chart to size before running, with its sizing query in ``dialect`` (rewritten
        for Spark as the query itself is)."""
        if dialect == "spark":
            return [(c, spark_ready(c.select).sql(dialect=dialect)) for c in self.grids]
        return [(c, c.select.sql(dialect=dialect)) for c in self.grids]


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
    pipeline: ast.Pipeline | None = None,
    macros: MacroTable | None = None,
    lookup_output: str | None = None,
) -> CompiledQuery:
    """Compile SPL against a store schema ({column: "double"|"bigint"|"text"|"list"}).

    Fields the schema lacks compile to NULL. ``earliest``/``latest`` (SPL time modifiers) bound
    ``_time`` before the first command; ``limit`` caps the final rows (0 or None: no cap, as
    Splunk's ``maxresults = 0``). ``columns`` maps a field
    to its column in ``events`` where the names differ (e.g. ``user`` stored as ``user__1``).
    ``pipeline`` is ``text`` already parsed (and possibly rewritten by the caller, e.g. a hunt run
    against another index); ``text`` still serves the error messages.
    ``macros`` defines the search macros the text may call (none when not given).
    ``lookup_output`` is the one folder ``outputlookup`` may write into (None: it may not).

    Raises:
        SplSyntaxError: the text does not parse, or a construct is used wrongly; an error inside
            a macro's expansion names the macro.
        UnsupportedSplError: a command or function huntbook does not implement, or an undefined
            macro.
    """
    expansion = expand(text, macros or MacroTable())
    try:
        return _compile(
            text,
            expansion,
            fields,
            now=now,
            bounds=(earliest, latest),
            limit=limit,
            lookup_dirs=lookup_dirs,
            columns=columns,
            pipeline=pipeline,
            lookup_output=lookup_output,
        )
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
    *,
    now: float | None,
    bounds: tuple[str | None, str | None],
    limit: int | None,
    lookup_dirs: tuple[str, ...],
    columns: dict[str, str] | None,
    pipeline: ast.Pipeline | None,
    lookup_output: str | None,
) -> CompiledQuery:
    pipeline = parse(expansion.text) if pipeline is None else pipeline
    ctx = Context(
        text=expansion.text,
        now=time.time() if now is None else now,
        lookup_dirs=lookup_dirs,
        output_dir=lookup_output,
    )
    earliest, latest = bounds
    for value in (earliest, latest):
        if value:
            parse_time(value, ctx.now)  # a bad bound is reported without a caret into the query
    time_bounds = [
        ast.TimeBound(kind, value)
        for kind, value in (("earliest", earliest), ("latest", latest))
        if value
    ]
    base = build_base(ctx, fields, time_bounds, columns)
    ctx.base = base
    limit = limit or None
    state = compile_commands(pipeline, ctx, base, limit)
    select = final_select(state, limit)
    names = [f.name for f in state.visible()]
    transforming = [c for c in pipeline.commands if isinstance(c, TRANSFORMING)]
    return CompiledQuery(
        select,
        names,
        list(ctx.warnings),
        text,
        list(ctx.grids),
        events="_raw" in names and not transforming,
        named=_named(transforming[-1] if transforming else None),
        expanded=expansion.text,
        not_on_spark=tuple(ctx.not_on_spark),
        checks=tuple(ctx.checks),
        writes=tuple(ctx.writes),
        functions=tuple(ctx.functions),
    )


def _named(last: ast.Command | None) -> frozenset[str] | None:
    """The columns the last transforming command named (see ``CompiledQuery.named``)."""
    if last is None:
        return frozenset()
    if isinstance(last, ast.Table):
        return frozenset(f for f in last.fields if "*" not in f)
    return None


def run_spl(
    store: StoreLike,
    text: str,
    *,
    earliest: str | None = None,
    latest: str | None = None,
    limit: int | None = None,
    now: float | None = None,
    limits: Limits | None = None,
    pipeline: ast.Pipeline | None = None,
    lookups: Sequence[str | os.PathLike[str]] = (),
    macros: MacroTable | None = None,
    macro_paths: Sequence[str | os.PathLike[str]] = (),
    engine: EngineChoice | None = None,
) -> SearchResult:
    """Compile and run SPL on a store (``store.connect()`` gives a DuckDB connection with
    ``events``) within ``limits`` (memory, time; see ``huntbook.engines.base.Limits``);
    ``pipeline`` as in ``compile_spl``. Lookups are read from the store's ``lookups/`` folder
    and the folders in ``lookups`` only; macros as in ``compile_for_store``; ``engine``: what
    runs it (default DuckDB)."""
    return stream_spl(
        store,
        text,
        earliest=earliest,
        latest=latest,
        limit=limit,
        now=now,
        limits=limits,
        pipeline=pipeline,
        lookups=lookups,
        macros=macros,
        macro_paths=macro_paths,
        engine=engine,
    ).collect()


def stream_spl(
    store: StoreLike,
    text: str,
    *,
    earliest: str | None = None,
    latest: str | None = None,
    limit: int | None = None,
    now: float | None = None,
    limits: Limits | None = None,
    pipeline: ast.Pipeline | None = None,
    lookups: Sequence[str | os.PathLike[str]] = (),
    macros: MacroTable | None = None,
    macro_paths: Sequence[str | os.PathLike[str]] = (),
    engine: EngineChoice | None = None,
) -> SearchStream:
    """Like ``run_spl``, but the rows come batch by batch (close the stream when done);
    ``run_spl`` is this stream collected."""
    from huntbook.engines import EngineChoice

    query = compile_for_store(
        store,
        text,
        earliest=earliest,
        latest=latest,
        limit=limit,
        now=now,
        pipeline=pipeline,
        lookups=lookups,
        macros=macros,
        macro_paths=macro_paths,
    )
    return (engine or EngineChoice()).open(store, limits).stream(query)


def kept_spl(
    store: StoreLike,
    text: str,
    keep: int,
    *,
    pipeline: ast.Pipeline | None = None,
    limits: Limits | None = None,
    lookups: Sequence[str | os.PathLike[str]] = (),
    macros: MacroTable | None = None,
    macro_paths: Sequence[str | os.PathLike[str]] = (),
    engine: EngineChoice | None = None,
) -> KeptResult:
    """A search's row count and its first ``keep`` rows (in the search's order), as a hunt keeps
    them, without the engine producing the rest: on DuckDB the search runs with ``LIMIT keep + 1``
    and, only when that fills up, a second query counts its rows (``SELECT count(*)`` over the
    search without its final ``ORDER BY``, so only the columns its filters read are scanned).
    Every row stays reachable: the count is the search's, and ``sql`` is the whole search.

    Both DuckDB queries share one connection (Parquet footers cached between them).
    A search that writes a lookup (``outputlookup``) runs once, and a Spark search (which runs to
    its end in any case) is read to its end keeping ``keep`` rows (``SearchStream.keep``).
    Arguments otherwise as ``stream_spl``'s.
    """
    from huntbook.engines import EngineChoice
    from huntbook.engines.duckdb import DuckDBEngine

    query = compile_for_store(
        store, text, pipeline=pipeline, lookups=lookups, macros=macros, macro_paths=macro_paths
    )
    choice = engine or EngineChoice()
    if query.writes or choice.name != "duckdb":
        return choice.open(store, limits).stream(query).keep(keep)
    started = time.perf_counter()
    # Both runs on one connection: the store's files are opened and their footers read once.
    con = store.connect()
    try:
        runner = DuckDBEngine(store, connection=con, limits=limits)
        first = runner.stream(replace(query, expr=_limited(query.expr, keep + 1 if keep else 0)))
        found = first.keep(keep)
        hits = len(found)
        if not keep or hits > keep:
            with runner.stream(replace(query, expr=_counted(query.expr))) as counted:
                hits = int(next(iter(counted.batches())).column(0)[0].as_py())
    finally:
        con.close()
    elapsed = time.perf_counter() - started
    return KeptResult(found.table, hits, query.sql(), elapsed, found.warnings)


def _limited(select: exp.Select, rows: int) -> exp.Select:
    """``select`` (a compiled search, which has no final LIMIT) with ``LIMIT rows``."""
    return select.limit(rows)


def _counted(select: exp.Select) -> exp.Select:
    """``SELECT count(*)`` over the compiled search ``select``, its stages (``WITH``) kept and its
    final ``ORDER BY`` dropped (the count is the same, without the sort)."""
    inner = select.copy()
    stages = inner.args.get("with_")
    inner.set("with_", None)
    inner.set("order", None)
    counted = exp.select(exp.Count(this=exp.Star())).from_(inner.subquery("__search"))
    counted.set("with_", stages)
    return counted


def compile_for_store(
    store: StoreLike,
    text: str,
    *,
    earliest: str | None = None,
    latest: str | None = None,
    limit: int | None = None,
    now: float | None = None,
    pipeline: ast.Pipeline | None = None,
    lookups: Sequence[str | os.PathLike[str]] = (),
    macros: MacroTable | None = None,
    macro_paths: Sequence[str | os.PathLike[str]] = (),
) -> CompiledQuery:
    """``compile_spl`` with the store's schema and column names; lookups are read from the
    store's ``lookups/`` folder and the folders in ``lookups`` only. Macros: ``macros`` when
    given, else huntbook's CIM macros, the store's ``macros/`` folder and ``macro_paths``.
    ``outputlookup`` writes into the store's ``lookups/`` folder."""
    return compile_spl(
        text,
        store.fields(),
        now=now,
        earliest=earliest,
        latest=latest,
        limit=limit,
        lookup_dirs=lookup_folders(store, lookups),
        columns=store.columns(),
        pipeline=pipeline,
        macros=macros if macros is not None else store_macro_table(store, macro_paths),
        lookup_output=str(store.lookups),
    )


def lookup_folders(
    store: StoreLike, extra: Sequence[str | os.PathLike[str]] = ()
) -> tuple[str, ...]:
    """The folders a search on ``store`` may read lookups from: the store's ``lookups/``, then
    ``extra`` (the user's ``--lookups`` folders), in that order."""
    return tuple(str(p) for p in [store.lookups, *(Path(e) for e in extra)])


def store_macro_table(
    store: StoreLike, macro_paths: Sequence[str | os.PathLike[str]] = ()
) -> MacroTable:
    """huntbook's CIM macros, then the store's ``macros/`` folder, then ``macro_paths``."""
    return load_macros([*store_macros(store.path), *(Path(p) for p in macro_paths)])
