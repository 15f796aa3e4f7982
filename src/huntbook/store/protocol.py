"""``StoreLike``: what searches, hunts and analytics read of an event store (architecture.md §2).

``huntbook.store.Store`` is one; a stand-in for tests or another back end needs only these.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import duckdb

    from huntbook.store.manifest import InputEntry


class StoreLike(Protocol):
    """A store as its readers see it: a DuckDB view ``events``, its fields and its inputs."""

    @property
    def path(self) -> Path:
        """The store's folder (reports name it)."""

    @property
    def lookups(self) -> Path:
        """The folder of the store's lookup tables (``lookup`` and ``inputlookup`` read it)."""

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A fresh DuckDB connection whose view ``events`` spans every committed event."""

    def fields(self, index: str | None = None, sourcetype: str | None = None) -> dict[str, str]:
        """Field name -> ``double|bigint|text|list`` (optionally of one index / sourcetype)."""

    def columns(self) -> dict[str, str]:
        """Field -> column, for the fields not stored under their own name (case variants)."""

    def inputs(self) -> list[InputEntry]:
        """Every ingested input file (path, sha256, index, events; what was skipped)."""

    def stats(self) -> list[dict[str, Any]]:
        """Per index, sourcetype, host, source: count and first/last time."""
