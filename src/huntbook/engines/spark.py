"""Spark: renders the same expression with sqlglot's ``spark`` dialect; pyspark is optional."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from huntbook.engines.base import CompiledSearch, Engine
from huntbook.engines.result import SearchResult
from huntbook.errors import EngineError, QueryRuntimeError


class SparkEngine(Engine):
    """Runs on a SparkSession where ``events`` is a registered table or view."""

    dialect: ClassVar[str] = "spark"

    def __init__(self, session: Any = None) -> None:
        self.session = session

    def execute(self, query: CompiledSearch) -> SearchResult:
        if self.session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise EngineError(
                    "the spark engine needs pyspark (pip install huntbook[spark])"
                ) from None
            self.session = SparkSession.builder.getOrCreate()
        sql = self.render(query)
        started = time.perf_counter()
        try:
            table = self.session.sql(sql).toArrow()
        except Exception as exc:  # pyspark raises many unrelated types
            raise QueryRuntimeError(f"the search failed in Spark: {exc}") from exc
        return SearchResult(table, sql, time.perf_counter() - started, list(query.warnings))
