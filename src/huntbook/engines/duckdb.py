"""The default engine: DuckDB over the store's ``events`` view."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import duckdb

from huntbook.engines.base import Engine
from huntbook.errors import QueryRuntimeError
from huntbook.query.result import SearchResult


class DuckDBEngine(Engine):
    """Runs on ``store.connect()``; the session time zone is UTC so nothing depends on the host."""

    dialect: ClassVar[str] = "duckdb"

    def __init__(
        self, store: Any = None, connection: duckdb.DuckDBPyConnection | None = None
    ) -> None:
        self.store = store
        self.connection = connection

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self.connection is not None:
            return self.connection
        con: duckdb.DuckDBPyConnection = self.store.connect()
        return con

    def execute(self, query: Any) -> SearchResult:
        sql = self.render(query)
        started = time.perf_counter()
        con = self._connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            table = con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryRuntimeError(runtime_message(exc)) from None
        return SearchResult(table, sql, time.perf_counter() - started, list(query.warnings))


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
    "that is not valid CSV, with a header row and the same number of fields on every line)",
    duckdb.IOException: "a file could not be read (a store file or a lookup table)",
    duckdb.OutOfMemoryException: "the search ran out of memory",
    duckdb.InterruptException: "the search was interrupted",
}


def runtime_message(exc: duckdb.Error) -> str:
    """The user's message for a DuckDB failure, in SPL terms, quoting no SQL and no data."""
    meaning = next((_MEANINGS[c] for c in type(exc).__mro__ if c in _MEANINGS), "the engine failed")
    return (
        f"the search failed: {meaning} (DuckDB {type(exc).__name__}; `huntbook search "
        "--explain` shows the compiled SQL)"
    )
