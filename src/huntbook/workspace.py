"""``Workspace``: the one Python API object; the CLI is a thin adapter on it."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huntbook.detect import DetectResult
    from huntbook.engines.result import SearchResult, SearchStream
    from huntbook.hunts.builtin import BuiltinPlaybook
    from huntbook.hunts.detections import Emitted
    from huntbook.hunts.problems import Problem
    from huntbook.hunts.result import HuntResult
    from huntbook.ingest import IngestSummary
    from huntbook.ingest.run import Readers
    from huntbook.query import CompiledQuery
    from huntbook.query.explore import Exploration
    from huntbook.query.spl.macros import MacroTable
    from huntbook.store import Store
    from huntbook.store.integrity import Damage

DEFAULT_STORE = "./huntbook-store"
DUCKDB = "duckdb"  # the default engine, on which hunts read the store directly
INGEST_ENGINES = ("local", "spark")  # what reads an ingest's files (Workspace.ingest's engine=)


def default_store_path() -> Path:
    """``$HUNTBOOK_STORE``, else ``./huntbook-store``."""
    return Path(os.environ.get("HUNTBOOK_STORE") or DEFAULT_STORE)


class _Select:
    """A plain SELECT in the shape an engine runs (``huntbook.engines.base.CompiledSearch``)."""

    warnings: list[str] = []
    events = False
    named = None

    def __init__(self, select: Any) -> None:
        self.select = select

    def prepare_duckdb(self, con: Any) -> list[str]:
        return []  # a plain SELECT needs nothing done before it

    def grid_checks(self, dialect: str) -> list[Any]:
        return []

    def sql(
        self, dialect: str = DUCKDB, pretty: bool = False, series: Any = None, lookups: Any = None
    ) -> str:
        text: str = self.select.sql(dialect=dialect, pretty=pretty)  # no chart, no lookup
        return text


class _OnEngine:
    """``store`` read only through the workspace's engine (Spark), never through DuckDB behind
    its back: ``stats()`` (a hunt's time range and coverage) runs there, and ``connect()`` gives
    the analytics the engine's own connection (``analytics._sql.EngineConnection``);
    everything else (manifest, fields) is the store's."""

    def __init__(self, store: Store, workspace: Workspace) -> None:
        from huntbook.engines.spark import SparkEngine

        self.store = store
        self.workspace = workspace
        choice, limits = workspace.engine, workspace.limits
        self.engine = SparkEngine(
            store, master=choice.master, remote=choice.spark_remote, limits=limits
        )

    def stats(self) -> list[dict[str, Any]]:
        from huntbook.store.core import stats_rows
        from huntbook.store.views import stats_query

        table = self.engine.execute(_Select(stats_query())).table
        return stats_rows(tuple(row.values()) for row in table.to_pylist())

    def connect(self) -> Any:
        from huntbook.query.spark import spark_ready

        return self.engine.connection(spark_ready)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Workspace:
    """An event store plus everything that runs on it.

    Args:
        store: the store directory; created by the first ingest (anything else that needs a
            store raises StoreMissingError when there is none). ``s3://``, ``gs://`` or
            ``abfss://`` names a store on object storage, which is only read
            (store/remote.py).
        on_wait: called with the pid (None if unknown) of another process writing to the store
            when a write has to wait for it.
        memory_limit: bytes (or a size like ``"8GB"``) one search may use; default half the
            machine's RAM (``huntbook.engines.base.MEMORY_SHARE``).
        timeout: seconds one search may run before it is stopped; default no limit.
        lookups: folders searches may read lookup tables from, besides the store's ``lookups/``
            (nothing else is readable by ``lookup``/``inputlookup``).
        macros: search macro files or folders (macros.conf, ESCU macros/*.yml) that searches and
            hunts may call, over the store's own ``macros/`` folder.
        engine: what runs searches and hunts' searches: ``"duckdb"`` (default) or ``"spark"``
            (needs ``huntbook[spark]`` and Java; an unknown name raises EngineError).
        spark_master: the Spark master URL for ``engine="spark"`` (default ``local[2]``).
        spark_remote: a Spark Connect server (``sc://host:15002``) for ``engine="spark"``,
            in place of ``spark_master`` (EngineError when both are given).
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | None = None,
        *,
        on_wait: Callable[[int | None], None] | None = None,
        memory_limit: int | str | None = None,
        timeout: float | None = None,
        lookups: Iterable[str | os.PathLike[str]] = (),
        macros: Iterable[str | os.PathLike[str]] = (),
        engine: str = "duckdb",
        spark_master: str | None = None,
        spark_remote: str | None = None,
    ) -> None:
        from huntbook.engines import EngineChoice
        from huntbook.engines.base import Limits, parse_size
        from huntbook.store.location import store_path

        self.path = store_path(store if store is not None else default_store_path())
        self.on_wait = on_wait
        memory = parse_size(memory_limit) if isinstance(memory_limit, str) else memory_limit
        self.limits = Limits(memory=memory, timeout=timeout)
        self.lookups = [Path(p) for p in lookups]
        self.macros = tuple(Path(m) for m in macros)
        self.engine = EngineChoice(engine, spark_master, spark_remote)

    @property
    def store(self) -> Store:
        from huntbook.store import open_store

        return open_store(self.path, on_wait=self.on_wait)

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        index: str = "main",
        sourcetype: str | None = None,
        fmt: str | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int | None = None,
        max_member_bytes: int | None = None,
        max_line_bytes: int | None = None,
        engine: str = "local",
        summaries: bool | None = None,
    ) -> IngestSummary:
        """Ingest files, folders and archives into the store in atomic batches.

        ``summaries``: opt the store in to the analytics' summaries (``keep_summaries``): None,
        the default, opts in a store this ingest creates (an existing store keeps its choice);
        True opts in an existing store too; False leaves a new store without them.

        ``workers``: processes reading files (None or 0: one per core for input over 24 MB).
        ``max_member_bytes``, ``max_line_bytes``: what an archive member may decompress to and
        how long a line or record may be (None or 0: ``huntbook.ingest.Limits``'s defaults).
        ``engine``: ``"local"`` (this machine's processes) or ``"spark"``: Spark's executors
        read the files, on the workspace's ``spark_master`` or ``spark_remote``
        (huntbook.ingest.spark: input and store on a file system every executor shares); the
        store is the same either way. An unknown name raises EngineError.
        Returns what happened to every file (``huntbook.ingest.ingest`` has the rules).
        """
        from huntbook.ingest import IngestSettings, Limits, ingest

        readers = self._ingest_readers(engine)

        limits = Limits(
            member_bytes=max_member_bytes or Limits.member_bytes,
            line_bytes=max_line_bytes or Limits.line_bytes,
        )
        settings = IngestSettings(workers=workers, limits=limits)
        created = not self._has_store()
        summary = ingest(
            self.store,
            paths,
            index=index,
            sourcetype=sourcetype,
            fmt=fmt,
            progress=progress,
            settings=settings,
            readers=readers,
        )
        if (summaries or (summaries is None and created)) and self._has_store():
            self.store.keep_summaries()
        return summary

    def _has_store(self) -> bool:
        """Whether a local store is committed at ``path`` (a store on object storage is not
        looked at: ingest refuses it before reading anything)."""
        from huntbook.errors import StoreMissingError
        from huntbook.store.location import remote_path

        if remote_path(self.path) is not None:
            return False
        try:
            self.store.manifest()
        except StoreMissingError:
            return False
        return True

    def _ingest_readers(self, engine: str) -> Readers | None:
        """What reads an ingest's files on ``engine`` (None: this machine's processes)."""
        from huntbook.errors import EngineError, did_you_mean

        if engine == "spark":
            from huntbook.engines.spark import spark_session
            from huntbook.ingest.spark import spark_readers

            master, remote = self.engine.master, self.engine.spark_remote
            session = functools.partial(spark_session, master, remote)
            return functools.partial(spark_readers, session, remote or master)
        if engine != "local":
            raise EngineError(
                f"unknown ingest engine {engine!r}.{did_you_mean(engine, INGEST_ENGINES)}"
            )
        return None

    @staticmethod
    def engines() -> tuple[str, ...]:
        """The engines a search can run on (``engine=`` / ``--engine`` names)."""
        from huntbook.engines import ENGINES

        return tuple(sorted(ENGINES))

    @staticmethod
    def ingest_formats() -> tuple[str, ...]:
        """The input formats ingest reads (``fmt=`` / ``--format`` names)."""
        from huntbook.ingest import FORMATS

        return tuple(FORMATS)

    @staticmethod
    def input_bytes(paths: Iterable[str | os.PathLike[str]]) -> int:
        """How many bytes ingest would read from ``paths`` (files, folders, archives as files)."""
        from huntbook.ingest import expand

        return sum(path.stat().st_size for path, _ in expand(paths))

    def stats(self) -> list[dict[str, Any]]:
        """Event counts and first/last times per index, sourcetype, host and source."""
        return self.store.stats()

    def compact(self) -> int:
        """Merge each multi-file batch into one Parquet file; see ``Store.compact``."""
        return self.store.compact()

    def repair(self) -> list[Damage]:
        """Drop damaged batches so their files can be ingested again; see ``Store.repair``."""
        return self.store.repair()

    def search(
        self,
        spl: str = "",
        *,
        earliest: str | None = None,
        latest: str | None = None,
        limit: int | None = None,
        lookups: Iterable[str | os.PathLike[str]] = (),
        detection: str | os.PathLike[str] | None = None,
    ) -> SearchResult:
        """Run an SPL search; the result converts with ``.to_arrow()`` / ``.to_pandas()``.

        ``limit`` caps the rows (0 or None: no cap); ``lookups`` adds folders to the workspace's
        lookup folders for this search; ``detection`` runs an ESCU detection file's search (with
        its content's macros and lookups) in place of ``spl``.

        Raises:
            StoreMissingError: no store at ``path``.
            QueryLimitError: the search hit the memory or time limit.
        """
        stream = self.stream(
            spl, earliest=earliest, latest=latest, limit=limit, lookups=lookups, detection=detection
        )
        return stream.collect()

    def detection(
        self,
        path: str | os.PathLike[str],
        *,
        earliest: str | None = None,
        latest: str | None = None,
        limit: int | None = None,
    ) -> SearchResult:
        """Run an ESCU detection file's ``search:`` with its content's macros and lookups."""
        return self.search(earliest=earliest, latest=latest, limit=limit, detection=path)

    def stream(
        self,
        spl: str = "",
        *,
        earliest: str | None = None,
        latest: str | None = None,
        limit: int | None = None,
        lookups: Iterable[str | os.PathLike[str]] = (),
        detection: str | os.PathLike[str] | None = None,
    ) -> SearchStream:
        """Start a search whose rows come as Arrow record batches (use it in ``with``), on the
        workspace's engine."""
        query = self.compile(
            spl, earliest=earliest, latest=latest, limit=limit, lookups=lookups, detection=detection
        )
        return self.engine.open(self.store, self.limits).stream(query)

    def compile(
        self,
        spl: str = "",
        *,
        earliest: str | None = None,
        latest: str | None = None,
        limit: int | None = None,
        lookups: Iterable[str | os.PathLike[str]] = (),
        detection: str | os.PathLike[str] | None = None,
    ) -> CompiledQuery:
        """Compile a search against this store (its fields and column names). Lookups come from
        the store's ``lookups/``, the workspace's ``lookups`` and this call's ``lookups`` only;
        macros from huntbook's CIM macros, the store's ``macros/`` and the workspace's ``macros``.

        Raises:
            StoreMissingError: no store at ``path``.
        """
        from huntbook.query import compile_for_store

        text, macros, extra = self.search_inputs(spl, detection)
        return compile_for_store(
            self.store,
            text,
            earliest=earliest,
            latest=latest,
            limit=limit,
            lookups=[*self.lookups, *(Path(p) for p in lookups), *extra],
            macros=macros,
        )

    def explain(
        self,
        spl: str = "",
        *,
        dialect: str | None = None,
        earliest: str | None = None,
        latest: str | None = None,
        limit: int | None = None,
        detection: str | os.PathLike[str] | None = None,
    ) -> str:
        """The SQL a search compiles to, in ``dialect`` ("duckdb" or "spark"; default the
        workspace engine's): after the search as macros expanded it (when they changed it), then
        its warnings as ``-- warning:`` lines.

        Raises:
            UnsupportedSplError: for Spark, a construct Spark cannot run with DuckDB's answer.
        """
        query = self.compile(
            spl, earliest=earliest, latest=latest, limit=limit, detection=detection
        )
        lines = [f"-- search after macro expansion: {query.expanded}"]
        lines = lines if query.expanded != query.source else []
        lines += [query.sql(dialect or self.engine.name, pretty=True)]
        lines += [f"-- warning: {w}" for w in query.warnings]
        return "\n".join(lines)

    def search_inputs(
        self, spl: str, detection: str | os.PathLike[str] | None = None
    ) -> tuple[str, MacroTable, tuple[Path, ...]]:
        """The search text, its macro definitions and extra lookup folders: of ``spl``, or of
        the ESCU ``detection`` file (its content's macros and lookups, then ``self.macros``)."""
        from huntbook.query import store_macro_table
        from huntbook.query.escu import load_detection

        if detection is None:
            return spl, store_macro_table(self.store, self.macros), ()
        found = load_detection(detection)
        table = store_macro_table(self.store, (*found.macro_dirs, *self.macros))
        return found.search, found.macros(table), tuple(Path(p) for p in found.lookup_dirs)

    def hunt(
        self,
        playbook: str | os.PathLike[str],
        *,
        params: Mapping[str, str] | None = None,
        out: str | os.PathLike[str] | None = None,
        index: str | None = None,
        hunter: str | None = None,
    ) -> HuntResult:
        """Run a hunt document (a path or a built-in name) and, with ``out``, write its reports
        (its searches, the store's time range and the analytics all run on the workspace's
        engine);
        ``index`` runs every search against that index in place of the ones it names; ``hunter``
        is the report's Threat Hunter ("not set" without it)."""
        from huntbook.hunts import run_hunt
        from huntbook.query import kept_spl

        search = functools.partial(
            kept_spl,
            lookups=self.lookups,
            limits=self.limits,
            macro_paths=self.macros,
            engine=self.engine,
        )
        store = self._read_store()
        return run_hunt(
            store,
            playbook,
            params=dict(params or {}),
            out=out,
            index=index,
            hunter=hunter,
            search=search,
        )

    def findings(self, *, index: str | None = None) -> dict[str, Any]:
        """The findings of every analytic on the whole store (or one ``index``) without a
        playbook: ``lateral_movement``, ``powershell``, ``visibility``, ``conclusion``,
        ``errors``, shaped as report.json's ``findings``; each evidence event names its ``file``
        and ``record`` where the store has them.

        Raises:
            StoreMissingError: no store at ``path``.
            StoreDamagedError: a batch of the store is damaged.
        """
        from huntbook.hunts.findings import findings_for
        from huntbook.hunts.scope import IndexScope

        store = self._read_store()
        store.connect().close()  # a missing or damaged store is the run's error, not a finding's
        return findings_for(store if index is None else IndexScope(store, index))

    def keep_summaries(self) -> Path:
        """Let the analytics keep their summaries in this store (``<store>/summaries``, like
        Splunk's data model acceleration: docs/findings.md): the next hunt or ``findings`` writes
        what its one scan makes of each batch there, and later runs read it instead of scanning
        the batch again. The findings are the same either way. Returns the folder.

        Raises:
            StoreMissingError: no store at ``path``.
            StoreError: a store on object storage (huntbook only reads those).
        """
        from huntbook.hunts.findings import keep_summaries

        return keep_summaries(self.store)

    def _read_store(self) -> Any:
        """The store as hunts and findings read it: itself on DuckDB, else through the engine."""
        return self.store if self.engine.name == DUCKDB else _OnEngine(self.store, self)

    # --- playbooks (no store needed) -----------------------------------------------------------
    @staticmethod
    def playbooks() -> list[BuiltinPlaybook]:
        """The built-in playbooks (name, title, ATT&CK ids)."""
        from huntbook.hunts.builtin import list_builtin

        return list_builtin()

    @staticmethod
    def playbook(path: str | os.PathLike[str]) -> BuiltinPlaybook:
        """A playbook file's name (file stem), title and ATT&CK ids; PlaybookError when it
        cannot be loaded."""
        from huntbook.hunts.builtin import describe

        return describe(Path(path))

    @staticmethod
    def lint(
        playbook: str | os.PathLike[str], params: Mapping[str, str] | None = None
    ) -> list[Problem]:
        """Every problem of a hunt document (a path or a built-in name), errors first."""
        from huntbook.hunts.builtin import resolve
        from huntbook.hunts.lint import lint

        return lint(resolve(playbook), params)

    @staticmethod
    def emit_detections(playbook: str | os.PathLike[str], out: str | os.PathLike[str]) -> Emitted:
        """Write a playbook's alert-worthy searches as savedsearches.conf and Sigma rules."""
        from huntbook.hunts.builtin import resolve
        from huntbook.hunts.detections import emit_detections
        from huntbook.hunts.loader import load_playbook

        return emit_detections(load_playbook(resolve(playbook)), out)

    def explore(
        self, spl: str, *, earliest: str | None = None, latest: str | None = None
    ) -> Exploration:
        """A search to look at piece by piece (the web workbench): pages, total, fields summary,
        timeline, each computed by the engine; ``close()`` it, ``cancel()`` it from any thread.
        Compiled as ``compile`` compiles (the workspace's lookups and macros)."""
        from huntbook.query.explore import Exploration

        return Exploration(self.store, self.compile(spl, earliest=earliest, latest=latest))

    @staticmethod
    def report_html(result: HuntResult) -> str:
        """A hunt's report as the one self-contained HTML page ``huntbook hunt`` writes."""
        from huntbook.hunts import render_html

        return render_html(result)

    def detect(
        self,
        rules: Iterable[str | os.PathLike[str]],
        *,
        index: str | None = None,
        level: str | None = None,
        tags: Iterable[str] = (),
        out: str | os.PathLike[str] | None = None,
        cache: str | os.PathLike[str] | None = None,
    ) -> DetectResult:
        """Run Sigma rules (files or folders) on the store, on the workspace's engine (on Spark,
        a rule Spark cannot run with DuckDB's answer is skipped with the reason); with ``out``,
        write the reports.

        Raises:
            EngineError: Spark's engine chosen and pyspark or Java missing.
            QueryLimitError: on Spark, a rule group's query over the time limit.
        """
        from huntbook.detect import run_detect

        return run_detect(
            self.store,
            rules,
            index=index,
            level=level,
            tags=list(tags),
            out=out,
            cache=cache,
            engine=self.engine,
            limits=self.limits,
        )
