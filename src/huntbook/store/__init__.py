"""The event store: Parquet files and a manifest, read through DuckDB (architecture.md §2)."""

from __future__ import annotations

from huntbook.store.core import Store
from huntbook.store.summary import IngestSummary

__all__ = ["IngestSummary", "Store"]
