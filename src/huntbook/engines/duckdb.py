"""The default engine: DuckDB over the store's ``events`` view.

Each search runs on its own connection under a memory limit (DuckDB's ``memory_limit``) and,
when given, a time limit (a timer interrupts the connection). Rows stream out as Arrow record
batches, so a large result never has to fit in memory at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from huntbook.engines.base import CompiledSearch, Engine, Limits
from huntbook.engines.grid import grid_warning
from huntbook.engines.result import SearchResult, SearchStream
from huntbook.errors import QueryError, QueryLimitError, QueryRuntimeError

BATCH_ROWS = 10_000  # rows per record batch handed to the caller


def size_text(size: int) -> str:
    """Bytes as people read them: ``12.0 GiB``, ``20 MiB``."""
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.0f} MiB"


class _Run:
    """One search's connection, its limits and its timer."""

    def __init__(self, con: duckdb.DuckDBPyConnection, limits: Limits, own: bool) -> None:
        self.con = con
        self.limits = limits
        self.own = own
        self.timed_out = False
        self.timer: threading.Timer | None = None
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")  # it would print into the output
        con.execute("SET memory_limit = ?", [f"{limits.memory_bytes}B"])
        if limits.timeout is not None:
            self.timer = threading.Timer(limits.timeout, self._interrupt)
            self.timer.daemon = True
            self.timer.start()

    def _interrupt(self) -> None:
        self.timed_out = True
        self.con.interrupt()

    def error(self, exc: Exception) -> QueryError:
        """The huntbook error for a failure while running (timeouts and memory named as such)."""
        if self.timed_out:
            return QueryLimitError(
                f"the search ran past its time limit of {self.limits.timeout:g} s and was "
                "stopped; raise it with --timeout SECONDS (Workspace(timeout=...)) or narrow "
                "the search"
            )
        if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory Error" in str(exc):
            return QueryLimitError(
                f"the search needed more than its memory limit of "
                f"{size_text(self.limits.memory_bytes)}; raise it with --memory-limit "
                "(e.g. --memory-limit 16GB; Workspace(memory_limit=...)) or narrow the search"
            )
        return QueryRuntimeError(runtime_message(exc))

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.own:
            self.con.close()


class DuckDBEngine(Engine):
    """Runs on ``store.connect()``; the session time zone is UTC so nothing depends on the host."""

    dialect: ClassVar[str] = "duckdb"

    def __init__(
        self,
        store: Any = None,
        connection: duckdb.DuckDBPyConnection | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.connection = connection
        self.limits = limits or Limits()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self.connection is not None:
            return self.connection
        con: duckdb.DuckDBPyConnection = self.store.connect()
        return con

    def execute(self, query: CompiledSearch) -> SearchResult:
        return self.stream(query).collect()

    def stream(self, query: CompiledSearch) -> SearchStream:
        """Start the search; its grid checks run first (they may refuse it or add warnings).

        Raises:
            QueryLimitError: over the memory or time limit, or a chart over its bucket limit.
            QueryRuntimeError: DuckDB failed otherwise.
        """
        sql = self.render(query)
        run = _Run(self._connect(), self.limits, own=self.connection is None)
        try:
            warnings = [
                *query.warnings,
                *query.prepare_duckdb(run.con),
                *self._grid_warnings(run, query),
            ]
            reader = run.con.sql(sql).to_arrow_reader(BATCH_ROWS)
        except duckdb.Error as exc:
            run.close()
            raise run.error(exc) from exc
        except BaseException:
            run.close()
            raise
        return SearchStream(
            reader.schema,
            _batches(reader, run),
            sql,
            warnings,
            run.close,
            events=query.events,
            named=query.named,
        )

    def _grid_warnings(self, run: _Run, query: CompiledSearch) -> list[str]:
        warnings = []
        for check, sql in query.grid_checks(self.dialect):
            rows = run.con.sql(sql).fetchall()
            buckets, series, events = (int(v or 0) for v in rows[0])
            warning = grid_warning(check, buckets, series, events)
            if warning is not None:
                warnings.append(warning)
        return warnings


def _batches(reader: pa.RecordBatchReader, run: _Run) -> Iterator[pa.RecordBatch]:
    """The reader's batches; a failure while reading (Arrow wraps DuckDB's) as a huntbook error."""
    try:
        yield from reader
    except (duckdb.Error, OSError, pa.ArrowException) as exc:
        raise run.error(exc) from exc


# What a DuckDB failure means for the search, by exception class (the first match along the
# class's MRO). DuckDB's own text is never shown: it quotes SQL and data, even a lookup file's
# lines ("Candidate bindings: ..."), so the message names the class only.
_MEANINGS: dict[type[duckdb.Error], str] = {
    duckdb.BinderException: "a field or function has no valid meaning at this point of the search",
    duckdb.ConversionException: "a value could not be converted between text, number and "
    "multivalue",
    duckdb.TypeMismatchException: "a value of one type was used where another was needed",
    duckdb.InvalidTypeException: "a value of one type was used where another was needed",
    duckdb.OutOfRangeException: "a number is out of range",
    duckdb.InvalidInputException: "an input could not be read as expected (e.g. a lookup file "
    "that is not valid CSV, with a header row and the same number of fields on every line, or "
    "a regular expression built at run time that RE2 cannot run)",
    duckdb.IOException: "a file could not be read (a store file or a lookup table)",
    duckdb.OutOfMemoryException: "the search ran out of memory",
    duckdb.InterruptException: "the search was interrupted",
}


def runtime_message(exc: BaseException) -> str:
    """The user's message for a DuckDB failure, in SPL terms, quoting no SQL and no data."""
    meaning = next((_MEANINGS[c] for c in type(exc).__mro__ if c in _MEANINGS), "the engine failed")
    return (
        f"the search failed: {meaning} (DuckDB {type(exc).__name__}; `huntbook search "
        "--explain` shows the compiled SQL)"
    )
