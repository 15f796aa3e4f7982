"""The event store: Parquet files and a manifest, read through DuckDB (architecture.md §2).

The store persists only: batches (written from parts, store/writer.py), the manifest, integrity
checks, compact and repair. Files are read and normalized on the ingest side (huntbook.ingest),
which hands the parts to ``Store.batch_from``.

``StoreLike`` (store/protocol.py) is what searches, hunts and analytics read of a store.
``Store`` is loaded on first use, so an ingest worker (``python -m huntbook.ingest.workers``),
which writes parts (store/parts.py), does not import DuckDB.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huntbook.store.core import Store
    from huntbook.store.protocol import StoreLike

__all__ = ["Store", "StoreLike", "open_store"]
_HOMES = {"Store": "huntbook.store.core", "StoreLike": "huntbook.store.protocol"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(path: str | os.PathLike[str], on_wait: Any = None) -> Store:
    """The store at ``path``: a RemoteStore for an object-storage URI (store/remote.py, which
    alone loads fsspec and the object-storage file systems), else a local Store."""
    from huntbook.store.location import remote_path

    remote = remote_path(path)
    if remote is None:
        from huntbook.store.core import Store

        return Store(path, on_wait=on_wait)
    from huntbook.store.remote import RemoteStore

    return RemoteStore(remote)
