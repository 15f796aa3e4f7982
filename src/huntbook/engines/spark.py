"""Spark: the same expression, made Spark-ready (``huntbook.query.spark``) and rendered with
sqlglot's ``spark`` dialect, run on a SparkSession where the store is the temp view ``events``.

pyspark is optional (``pip install 'huntbook[spark]'``). One session per process and master, or
per Spark Connect server (``remote``, ``sc://host:port``: the Connect client runs here, Spark on
the server's side); the
session's time zone is UTC and ANSI mode stays on (the compiled SQL uses TRY_CAST where SPL reads
text as a number). A store's view follows DuckDB's ``events`` view (store/views.py): the Parquet
files merged by column name, the core columns always there, ``_time`` double, ``_cd`` bigint,
multivalue fields ``array<string>``, everything else ``string``.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
from sqlglot import exp

from huntbook.engines import DEFAULT_MASTER
from huntbook.engines.base import CompiledSearch, Engine, Limits
from huntbook.engines.grid import grid_warning
from huntbook.engines.result import SearchResult, SearchStream
from huntbook.errors import EngineError, HuntbookError, QueryLimitError, QueryRuntimeError
from huntbook.normalize.types import BIGINT, CORE_COLUMNS, DOUBLE, LIST, field_type
from huntbook.store.location import spark_location
from huntbook.store.views import VIEW

if TYPE_CHECKING:
    from huntbook.store.core import Store

Ready = Callable[[exp.Expr], exp.Expr]  # a query tree in DuckDB's form made Spark-ready
SPARK_TYPES = {DOUBLE: "double", BIGINT: "bigint", LIST: "array<string>"}  # else string
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.parquet.mergeSchema": "true",
    "spark.ui.showConsoleProgress": "false",  # it would print into the output
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
# On one machine (a ``local[...]`` master) few shuffle partitions: Spark's 200 cost more than
# they split.
LOCAL_CONF = {"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "4"}
# The JVM option giving the Spark huntbook starts its own logging file (only errors reach the
# terminal: Spark's start-up WARN lines would land among a search's messages), unless the user's
# Spark configuration folder has a logging file or driver options of its own.
QUIET_LOGGING = "spark.driver.defaultJavaOptions"
LOG_FILE = Path(__file__).with_name("spark-log4j2.properties")
_JOB_TAG = "huntbook-search"  # the tag a search's Spark jobs carry (cancelled on its timeout)
INTERRUPT_EVERY = 0.5  # seconds between interrupts once a search is past its time limit
CONNECT_PORT = 15002  # Spark Connect's default port
CONNECT_PROBE_SECONDS = 5.0
# Hadoop's connector per object-storage scheme Spark reads a store with (store/location.py), and
# how Spark says one is missing.
CONNECTORS = {
    "s3a": "hadoop-aws (org.apache.hadoop:hadoop-aws, the version of Spark's Hadoop)",
    "gs": "the Cloud Storage connector (com.google.cloud.bigdataoss:gcs-connector)",
    "abfss": "hadoop-azure (org.apache.hadoop:hadoop-azure)",
    "abfs": "hadoop-azure (org.apache.hadoop:hadoop-azure)",
}
NO_CONNECTOR = ("ClassNotFoundException", "No FileSystem for scheme")
# Hadoop's S3A settings taken from the environment the AWS SDKs read (and so DuckDB's side,
# store/remote.py), each from the first variable set: an S3-compatible server's endpoint, the
# region, the keys. Spark copies AWS_ENDPOINT_URL and the keys only from its JVM's environment,
# when it starts; these go with each read, so they hold for a session started before they were
# set and on a Spark Connect server, whose environment is not this process's.
S3A_ENVIRONMENT = {
    "fs.s3a.endpoint": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "fs.s3a.endpoint.region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "fs.s3a.access.key": ("AWS_ACCESS_KEY_ID",),
    "fs.s3a.secret.key": ("AWS_SECRET_ACCESS_KEY",),
    "fs.s3a.session.token": ("AWS_SESSION_TOKEN",),
}


def spark_session(master: str = DEFAULT_MASTER, remote: str | None = None) -> Any:
    """The process's SparkSession (created on first use with ``SESSION_CONF``); with ``remote``
    (``sc://host:port``), a Spark Connect session to that server instead (``connect_session``).

    Raises:
        EngineError: pyspark is not installed, or Spark (Java) does not start.
    """
    if remote is not None:
        return connect_session(remote)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("the spark engine needs pyspark: pip install 'huntbook[spark]'") from None
    builder = SparkSession.builder.master(master).appName("huntbook")
    local = LOCAL_CONF if master.startswith("local") else {}
    if local:  # executors on this machine run this Python, which has huntbook (ingest/spark.py)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {**SESSION_CONF, **local, **_logging(os.environ)}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing or the master unreachable: py4j raises many types
        raise EngineError(f"Spark did not start (master {master}): {exc}") from exc
    _configure(session)
    return session


def _logging(environ: Mapping[str, str]) -> dict[str, str]:
    """``QUIET_LOGGING`` set to huntbook's logging file, or nothing when the Spark configuration
    folder (``SPARK_CONF_DIR``, else ``SPARK_HOME``/conf) holds a log4j2.properties or sets
    ``QUIET_LOGGING`` in its spark-defaults.conf: the user's logging wins."""
    home = environ.get("SPARK_HOME")
    folder = environ.get("SPARK_CONF_DIR") or (str(Path(home) / "conf") if home else None)
    if folder is not None:
        defaults = Path(folder) / "spark-defaults.conf"
        if (Path(folder) / "log4j2.properties").exists() or (
            defaults.exists() and QUIET_LOGGING in defaults.read_text(errors="replace")
        ):
            return {}
    return {QUIET_LOGGING: f"-Dlog4j2.configurationFile={LOG_FILE.as_uri()}"}


def _configure(session: Any) -> None:
    """huntbook's settings on a session made elsewhere (a cluster's, a Connect server's)."""
    for key, value in SESSION_CONF.items():
        if not key.startswith("spark.ui"):
            session.conf.set(key, value)


class _Connected:
    """One Spark Connect session per server URL in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[str, Any] = {}

    def get(self, url: str) -> Any:
        with self.lock:
            if url not in self.sessions:
                self.sessions[url] = _open_connect(url)
            return self.sessions[url]


_CONNECTED = _Connected()


def connect_session(url: str) -> Any:
    """A Spark Connect session to the server at ``url`` (``sc://host:port``), with huntbook's
    settings; made once per URL. The server is asked for first (a plain TCP connection, within
    ``CONNECT_PROBE_SECONDS``), since the Connect client itself retries for minutes.

    Raises:
        EngineError: not an ``sc://`` URL, no server answers there, or the Connect client
            (pyspark's connect extra: grpcio, ...) is missing.
    """
    return _CONNECTED.get(url)


def _open_connect(url: str) -> Any:
    _reachable(url)
    try:
        from pyspark.sql.connect.session import SparkSession
    except ImportError as exc:  # pyspark checks grpcio, pandas, ... on import
        raise EngineError(
            f"Spark Connect needs pyspark's connect client: pip install 'huntbook[spark]' ({exc})"
        ) from None
    try:
        session = SparkSession.builder.remote(url).create()
        _configure(session)
    except Exception as exc:  # grpc and pyspark raise many types
        raise EngineError(
            f"the Spark Connect server at {url} did not open a session ({type(exc).__name__})"
        ) from exc
    return session


def _reachable(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or CONNECT_PORT
    except ValueError:
        port = None
    if parts.scheme != "sc" or not parts.hostname or port is None:
        raise EngineError(f"{url!r} is not a Spark Connect URL like sc://host:{CONNECT_PORT}")
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_PROBE_SECONDS).close()
    except OSError as exc:
        raise EngineError(
            f"no Spark Connect server answers at {url} ({exc.strerror or exc}); start one "
            "(Spark's sbin/start-connect-server.sh) or check --spark-remote"
        ) from exc


def _functions(session: Any) -> Any:
    """pyspark's column functions for the session's kind: Spark Connect's or classic Spark's."""
    if type(session).__module__.startswith("pyspark.sql.connect"):
        from pyspark.sql.connect import functions as connect_functions

        return connect_functions
    from pyspark.sql import functions

    return functions


def _column_type(name: str, found: str) -> str:
    """The Spark type of column ``name``: a case-variant column (``user~1``) keeps its list type."""
    kind = field_type(name)
    if kind == "text" and found.startswith("array"):
        return SPARK_TYPES[LIST]
    return SPARK_TYPES.get(kind, "string")


class _Views:
    """The DataFrame registered as ``events`` per session, re-registered when the files change."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: dict[int, tuple[str, ...]] = {}

    def register(self, session: Any, store: Store) -> None:
        files, _ = store.checked_files()
        key = tuple(files)
        with self.lock:
            if self.current.get(id(session)) == key:
                return
            frame = events_frame(session, [spark_location(f) for f in files])
            frame.createOrReplaceTempView(VIEW)
            self.current[id(session)] = key


_VIEWS = _Views()


def events_frame(session: Any, files: list[str]) -> Any:
    """The store's events as a DataFrame with DuckDB's ``events`` schema rules."""
    F = _functions(session)  # noqa: N806  # pyspark's usual name

    if files:
        try:
            reader = session.read.option("mergeSchema", "true").options(**storage_options(files[0]))
            frame = reader.parquet(*files)
        except Exception as exc:  # py4j and Spark Connect raise many types
            raise read_error(exc, files[0]) from exc
        found = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    else:
        frame, found = session.range(0).drop("id"), {}
    lower = {n.lower() for n in found}
    columns = [_quoted(F, n).cast(_column_type(n, t)).alias(n) for n, t in found.items()]
    missing = [
        F.lit(None).cast(_column_type(c, "")).alias(c)
        for c in CORE_COLUMNS
        if c.lower() not in lower
    ]
    return frame.select(*columns, *missing)


def storage_options(location: str) -> dict[str, str]:
    """Hadoop options for Spark's read of the store's files at ``location``: on ``s3a://``, the
    endpoint, region and keys the environment names (``S3A_ENVIRONMENT``), with path-style
    access and TLS as the endpoint's URL says (as pyarrow reads an endpoint override), so Spark
    reads the store from where DuckDB does. None for other schemes or what the environment does
    not name: the cluster's configuration (``spark.hadoop.fs.s3a.*``, instance roles) holds
    there. Spark redacts the keys in its plans and UI (``spark.redaction.regex``)."""
    if not location.startswith("s3a://"):
        return {}
    found = {
        key: value
        for key, names in S3A_ENVIRONMENT.items()
        if (value := next((os.environ[n] for n in names if os.environ.get(n)), None))
    }
    endpoint = found.get("fs.s3a.endpoint")
    if endpoint is not None:
        found["fs.s3a.path.style.access"] = "true"
        secure = urllib.parse.urlsplit(endpoint).scheme != "http"
        found["fs.s3a.connection.ssl.enabled"] = str(secure).lower()
    return found


def read_error(exc: BaseException, location: str) -> HuntbookError:
    """The error for store files Spark could not open: a missing Hadoop connector for object
    storage named as such (pyspark's wheel has none), else a runtime error."""
    scheme = location.partition("://")[0]
    text = str(exc)
    if scheme in CONNECTORS and any(sign in text for sign in NO_CONNECTOR):
        return EngineError(
            f"Spark cannot read the store's {scheme}:// files: its Hadoop has no connector for "
            f"them; put {CONNECTORS[scheme]} on Spark's classpath (spark.jars.packages), or run "
            "this search with --engine duckdb"
        )
    return QueryRuntimeError(runtime_message(exc))


def _quoted(functions: Any, name: str) -> Any:
    """A column by its exact name (field names may hold dots or any character)."""
    escaped = name.replace("`", "``")
    return functions.col(f"`{escaped}`")


class SparkEngine(Engine):
    """Runs on a SparkSession (``session``, else the Spark Connect one for ``remote``, else the
    one for ``master``) over ``store``'s events.

    ``limits.timeout`` cancels the search's Spark jobs; memory is the cluster's to configure
    (``spark.executor.memory``), so ``limits.memory`` does not apply.
    """

    dialect: ClassVar[str] = "spark"

    def __init__(
        self,
        store: Store | None = None,
        *,
        session: Any = None,
        master: str = DEFAULT_MASTER,
        remote: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.session = session
        self.master = master
        self.remote = remote
        self.limits = limits or Limits()

    def render(self, query: CompiledSearch) -> str:
        return query.sql(self.dialect)

    def execute(self, query: CompiledSearch) -> SearchResult:
        return self.stream(query).collect()

    def stream(self, query: CompiledSearch) -> SearchStream:
        """Run the search to the end in Spark and hand its rows over as record batches.

        Raises:
            UnsupportedSplError: a construct with no Spark form (before anything runs).
            EngineError: pyspark or Java missing.
            QueryLimitError: over the time limit.
            QueryRuntimeError: Spark failed otherwise.
        """
        opened: list[Any] = []  # Spark starts when a chart's series are read, else after rendering

        def session_now() -> Any:
            if not opened:
                opened.append(self._session())
            return opened[0]

        sql = query.sql(
            self.dialect,
            series=lambda q: self._column(session_now(), q),
            lookups=lambda rows, name: _register_lookup(session_now(), rows, name),
        )
        session = session_now()
        warnings = [*query.warnings, *self._grid_warnings(session, query)]
        table = self._run(session, sql)
        return SearchStream(
            table.schema,
            iter(table.to_batches()),
            sql,
            warnings,
            lambda: None,
            events=query.events,
            named=query.named,
        )

    def connection(self, ready: Ready) -> SparkConnection:
        """The analytics' connection on this engine's session (``analytics._sql.rows``), making
        each query tree Spark-ready with ``ready`` (``huntbook.query.spark.spark_ready``: the
        query layer sits above the engines)."""
        return SparkConnection(self, self._session(), ready)

    def table(self, sql: str) -> pa.Table:
        """Spark SQL text run on the session over the store's ``events`` within the limits (the
        detect scan's group queries, ``huntbook.detect.spark_scan``).

        Raises:
            EngineError: pyspark or Java missing.
            QueryLimitError: over the time limit.
            QueryRuntimeError: Spark failed otherwise.
        """
        return self._run(self._session(), sql)

    def _session(self) -> Any:
        session = self.session or spark_session(self.master, self.remote)
        if self.store is not None:
            _VIEWS.register(session, self.store)
        return session

    def _column(self, session: Any, query: exp.Expr) -> list[str]:
        """The values of a one-column query (a chart's series)."""
        table = self._run(session, query.sql(dialect=self.dialect))
        values: list[str] = table.column(0).to_pylist()
        return values

    def _grid_warnings(self, session: Any, query: CompiledSearch) -> list[str]:
        """A chart's grid sized before it runs, as on DuckDB (it may refuse the search)."""
        warnings = []
        for check, sql in query.grid_checks(self.dialect):
            row = self._run(session, sql)
            buckets, series, events = (int(v or 0) for v in row.to_pylist()[0].values())
            warning = grid_warning(check, buckets, series, events)
            if warning is not None:
                warnings.append(warning)
        return warnings

    def _run(self, session: Any, sql: str) -> pa.Table:
        timer = None
        expired, finished = threading.Event(), threading.Event()
        if self.limits.timeout is not None:
            tags = _job_tags(session)
            tags.add()

            def cancel() -> None:  # again until it ends: a job still being planned has no tag yet
                expired.set()
                while not finished.is_set():
                    tags.cancel()
                    finished.wait(INTERRUPT_EVERY)

            timer = threading.Timer(self.limits.timeout, cancel)
            timer.daemon = True
            timer.start()
        try:
            table: pa.Table = session.sql(sql).toArrow()
        except Exception as exc:  # pyspark raises many unrelated types
            if expired.is_set():
                raise QueryLimitError(
                    f"the search ran past its time limit of {self.limits.timeout:g} s and was "
                    "stopped; raise it with --timeout SECONDS or narrow the search"
                ) from exc
            raise QueryRuntimeError(runtime_message(exc)) from exc
        finally:
            finished.set()
            if timer is not None:
                timer.cancel()
                tags.remove()
        return table


def _register_lookup(session: Any, rows: exp.Select, name: str) -> None:
    """A lookup's rows registered as the temp view ``name``: the file parsed here by
    DuckDB's CSV reader with the query a DuckDB search runs (the same rows, text columns and
    ``__row`` numbers), shipped to Spark, so a lookup on the machine running huntbook serves a
    cluster or a Spark Connect server too; registered again each search (the file may change)."""
    import duckdb

    from huntbook.engines.duckdb import runtime_message as duckdb_message

    try:
        with duckdb.connect() as con:
            table = con.sql(rows.sql(dialect="duckdb")).to_arrow_reader().read_all()
    except duckdb.Error as exc:  # a file that is not valid CSV: DuckDB's own error for it
        raise QueryRuntimeError(duckdb_message(exc)) from exc
    session.createDataFrame(table).createOrReplaceTempView(name)


class SparkConnection:
    """What the analytics (``huntbook.analytics._sql.rows``) run their query trees on, in place of
    a DuckDB connection: each tree made Spark-ready (``ready``), run on the
    session's ``events`` view within the engine's limits, its rows as the same Python values
    DuckDB gives (Arrow's: ``int``, ``float``, ``str``, ``list``, ``None``).

    ``narrowed(where)`` is the same connection with ``events`` holding only the rows ``where``
    keeps (``huntbook findings --index``): each query reads a filtered subquery named ``events``,
    so the session's view stays the whole store for every other search.
    """

    def __init__(
        self, engine: SparkEngine, session: Any, ready: Ready, where: exp.Expr | None = None
    ) -> None:
        self.engine = engine
        self.session = session
        self.ready = ready
        self.where = where

    def rows(self, query: exp.Expr) -> list[dict[str, Any]]:
        """Run one query tree (DuckDB's form) on Spark.

        Raises:
            UnsupportedSplError: a form with no Spark equivalent (before anything runs).
            QueryLimitError: over the engine's time limit.
            QueryRuntimeError: Spark failed otherwise.
        """
        tree = self.ready(self._scoped(query))
        found: list[dict[str, Any]] = self.engine._run(self.session, tree.sql("spark")).to_pylist()
        return found

    def narrowed(self, where: exp.Expr) -> SparkConnection:
        return SparkConnection(self.engine, self.session, self.ready, where)

    def create_table(self, name: str, query: exp.Expr) -> None:
        """``name`` as a cached temporary view of ``query`` (the analytics' one scan,
        ``huntbook.analytics.scan``): computed once, at its first read, then read from Spark's
        cache by the queries after it."""
        temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
        view = exp.Create(
            this=exp.to_table(name),
            kind="VIEW",
            expression=self.ready(self._scoped(query)),
            properties=temporary,
            replace=True,
        )
        self.session.sql(view.sql("spark"))
        self.session.catalog.cacheTable(name)

    def close(self) -> None:
        """Nothing to release: the session is the process's."""

    def _scoped(self, query: exp.Expr) -> exp.Expr:
        if self.where is None:
            return query
        tree = query.copy()
        for table in list(tree.find_all(exp.Table)):
            if table.name == VIEW and not table.db:
                kept = exp.select("*").from_(VIEW).where(self.where.copy())
                table.replace(exp.Subquery(this=kept, alias=table.alias or VIEW))
        return tree


class _SessionTags:
    """A Spark Connect session's operation tags (``addTag``/``interruptTag``)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def add(self) -> None:
        self.session.addTag(_JOB_TAG)

    def cancel(self) -> None:
        self.session.interruptTag(_JOB_TAG)

    def remove(self) -> None:
        self.session.removeTag(_JOB_TAG)


class _ContextTags(_SessionTags):
    """Classic Spark's job tags on the SparkContext, for this thread's jobs, with the running
    tasks interrupted on cancel: measured on Spark 4.0, a classic session's ``interruptTag``
    finds no operation for a query collected to Arrow (its job runs in another JVM thread), and a
    cancelled job's task that never reads input again (a long ``explode``) runs on."""

    def add(self) -> None:
        context = self.session.sparkContext
        context.addJobTag(_JOB_TAG)
        context.setInterruptOnCancel(True)

    def cancel(self) -> None:
        self.session.sparkContext.cancelJobsWithTag(_JOB_TAG)

    def remove(self) -> None:
        context = self.session.sparkContext
        context.removeJobTag(_JOB_TAG)
        context.setInterruptOnCancel(False)


def _job_tags(session: Any) -> _SessionTags:
    """How a search's jobs are tagged and cancelled on this kind of session."""
    connect = type(session).__module__.startswith("pyspark.sql.connect")
    return _SessionTags(session) if connect else _ContextTags(session)


def runtime_message(exc: BaseException) -> str:
    """The user's message for a Spark failure: its error class, never its SQL or data."""
    condition = getattr(exc, "getCondition", lambda: None)() or type(exc).__name__
    return (
        f"the search failed in Spark ({condition}; `huntbook search --engine spark --explain` "
        "shows the compiled SQL)"
    )
