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
            raise QueryRuntimeError(f"the search failed in DuckDB: {exc}") from exc
        return SearchResult(table, sql, time.perf_counter() - started, list(query.warnings))
