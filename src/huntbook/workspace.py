"""``Workspace``: the one Python API object; the CLI is a thin adapter on it."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huntbook.hunts.result import HuntResult
    from huntbook.query.result import SearchResult
    from huntbook.store import IngestSummary, Store

DEFAULT_STORE = "./huntbook-store"


def default_store_path() -> Path:
    """``$HUNTBOOK_STORE``, else ``./huntbook-store``."""
    return Path(os.environ.get("HUNTBOOK_STORE") or DEFAULT_STORE)


class Workspace:
    """An event store plus everything that runs on it.

    Args:
        store: the store directory; created on first ingest.
        lookups: folders searches may read lookup tables from, besides the store's ``lookups/``
            (nothing else is readable by ``lookup``/``inputlookup``).
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | None = None,
        *,
        lookups: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.path = Path(store) if store is not None else default_store_path()
        self.lookups = [Path(p) for p in lookups]

    @property
    def store(self) -> Store:
        from huntbook.store import Store

        return Store(self.path)

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        index: str = "main",
        sourcetype: str | None = None,
        fmt: str | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int | None = None,
    ) -> IngestSummary:
        """Ingest files, folders and archives into the store; see ``Store.ingest``."""
        return self.store.ingest(
            paths, index=index, sourcetype=sourcetype, fmt=fmt, progress=progress, workers=workers
        )

    def stats(self) -> list[dict[str, Any]]:
        """Event counts and first/last times per index, sourcetype, host and source."""
        return self.store.stats()

    def compact(self) -> int:
        """Merge each multi-file batch into one Parquet file; see ``Store.compact``."""
        return self.store.compact()

    def search(
        self,
        spl: str,
        *,
        earliest: str | None = None,
        latest: str | None = None,
        limit: int | None = None,
        lookups: Iterable[str | os.PathLike[str]] = (),
    ) -> SearchResult:
        """Run an SPL search; the result converts with ``.to_arrow()`` / ``.to_pandas()``.

        ``lookups`` adds folders to the workspace's lookup folders for this search.
        """
        from huntbook.query import run_spl

        folders = [*self.lookups, *(Path(p) for p in lookups)]
        return run_spl(
            self.store, spl, earliest=earliest, latest=latest, limit=limit, lookups=folders
        )

    def hunt(
        self,
        playbook: str | os.PathLike[str],
        *,
        params: Mapping[str, str] | None = None,
        out: str | os.PathLike[str] | None = None,
    ) -> HuntResult:
        """Run a hunt document (a path or a built-in name) and, with ``out``, write its reports."""
        from huntbook.hunts import run_hunt
        from huntbook.query import run_spl

        search = functools.partial(run_spl, lookups=self.lookups)
        return run_hunt(self.store, playbook, params=dict(params or {}), out=out, search=search)
