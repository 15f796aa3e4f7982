"""The event store: Parquet files and a manifest, read through DuckDB (architecture.md §2).

The store persists only: batches (written from parts, store/writer.py), the manifest, integrity
checks, compact and repair. Files are read and normalized on the ingest side (huntbook.ingest),
which hands the parts to ``Store.batch_from``.

``Store`` is loaded on first use, so an ingest worker (``python -m huntbook.ingest.workers``),
which writes parts (store/parts.py), does not import DuckDB.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huntbook.store.core import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        return import_module("huntbook.store.core").Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
