"""The engine contract: render a compiled search in ``dialect`` and execute it within limits.

Engines sit below ``huntbook.query``: the compiler hands them anything shaped like
``CompiledSearch`` (``huntbook.query.CompiledSearch`` is the one it builds), and they return
``SearchResult`` / ``SearchStream`` (engines/result.py).
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from huntbook.errors import QueryError

if TYPE_CHECKING:
    from huntbook.engines.grid import GridCheck
    from huntbook.engines.result import SearchResult, SearchStream

MEMORY_SHARE = 0.5  # default memory limit: this share of the machine's RAM
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"8GB"``, ``"512MiB"``, ``"1000000"`` -> bytes.

    Raises:
        QueryError: not a number with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB).
    """
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise QueryError(f"memory limit {text!r} is not a size like 8GB or 512MiB")
    return int(float(match.group(1)) * _UNITS[unit])


def default_memory_limit() -> int:
    """``MEMORY_SHARE`` of the machine's physical memory, in bytes."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * MEMORY_SHARE)


@dataclass(frozen=True)
class Limits:
    """What one search may use: ``memory`` bytes (None: ``default_memory_limit()``) and
    ``timeout`` seconds of wall time (None: no time limit)."""

    memory: int | None = None
    timeout: float | None = None

    @property
    def memory_bytes(self) -> int:
        return self.memory if self.memory is not None else default_memory_limit()


class CompiledSearch(Protocol):
    """What an engine needs of a compiled search."""

    @property
    def warnings(self) -> list[str]: ...

    def prepare_duckdb(self, con: Any) -> list[str]:
        """Before running on DuckDB connection ``con``: what the search needs done first
        (Python functions, lookup files written, subsearch sizes checked); its warnings."""

    def grid_checks(self, dialect: str) -> list[tuple[GridCheck, str]]:
        """Each chart to size before running, with its sizing query in ``dialect``."""

    @property
    def events(self) -> bool:
        """The rows are raw events (no transforming command)."""

    @property
    def named(self) -> frozenset[str] | None:
        """The columns the last transforming command named."""

    def sql(
        self,
        dialect: str = "duckdb",
        pretty: bool = False,
        series: Callable[[Any], list[str]] | None = None,
        lookups: Callable[[Any, str], None] | None = None,
    ) -> str:
        """The SQL in ``dialect``; ``series`` gives a one-column query's values (a chart's series
        read from the data, for Spark: huntbook.query.spark.SeriesValues); ``lookups`` registers
        a lookup's rows on the engine under a name (for Spark: huntbook.query.spark.LookupTable)."""


class Engine(ABC):
    """An engine only renders and runs: every engine runs the same sqlglot expression."""

    dialect: ClassVar[str]

    def render(self, query: CompiledSearch) -> str:
        return query.sql(self.dialect)

    @abstractmethod
    def execute(self, query: CompiledSearch) -> SearchResult: ...

    @abstractmethod
    def stream(self, query: CompiledSearch) -> SearchStream: ...
