"""The event store: Parquet files and a manifest, read through DuckDB (architecture.md §2).

``Store`` and ``IngestSummary`` are loaded on first use, so an ingest worker
(``python -m huntbook.store.workers``) does not import DuckDB and the query compiler it never uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huntbook.store.core import Store
    from huntbook.store.summary import IngestSummary

__all__ = ["IngestSummary", "Store"]
_HOMES = {"Store": "huntbook.store.core", "IngestSummary": "huntbook.store.summary"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
