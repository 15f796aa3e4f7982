"""``Workspace``: the one Python API object; the CLI is a thin adapter on it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huntbook.hunts.builtin import BuiltinPlaybook
    from huntbook.hunts.result import HuntResult
    from huntbook.query.explore import Exploration
    from huntbook.query.result import SearchResult
    from huntbook.store import IngestSummary, Store
    from huntbook.store.integrity import Damage

DEFAULT_STORE = "./huntbook-store"


def default_store_path() -> Path:
    """``$HUNTBOOK_STORE``, else ``./huntbook-store``."""
    return Path(os.environ.get("HUNTBOOK_STORE") or DEFAULT_STORE)


class Workspace:
    """An event store plus everything that runs on it.

    Args:
        store: the store directory; created by the first ingest (anything else that needs a
            store raises StoreMissingError when there is none).
        on_wait: called with the pid (None if unknown) of another process writing to the store
            when a write has to wait for it.
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | None = None,
        *,
        on_wait: Callable[[int | None], None] | None = None,
    ) -> None:
        self.path = Path(store) if store is not None else default_store_path()
        self.on_wait = on_wait

    @property
    def store(self) -> Store:
        from huntbook.store import Store

        return Store(self.path, on_wait=self.on_wait)

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

    def repair(self) -> list[Damage]:
        """Drop damaged batches so their files can be ingested again; see ``Store.repair``."""
        return self.store.repair()

    def search(
        self,
        spl: str,
        *,
        earliest: str | None = None,
        latest: str | None = None,
        limit: int | None = None,
    ) -> SearchResult:
        """Run an SPL search; the result converts with ``.to_arrow()`` / ``.to_pandas()``."""
        from huntbook.query import run_spl

        return run_spl(self.store, spl, earliest=earliest, latest=latest, limit=limit)

    def hunt(
        self,
        playbook: str | os.PathLike[str],
        *,
        params: Mapping[str, str] | None = None,
        out: str | os.PathLike[str] | None = None,
    ) -> HuntResult:
        """Run a hunt document (a path or a built-in name) and, with ``out``, write its reports."""
        from huntbook.hunts import run_hunt

        return run_hunt(self.store, playbook, params=dict(params or {}), out=out)

    def explore(
        self, spl: str, *, earliest: str | None = None, latest: str | None = None
    ) -> Exploration:
        """A search to look at piece by piece (the web workbench): pages, total, fields summary,
        timeline, each computed by the engine; ``close()`` it, ``cancel()`` it from any thread."""
        from huntbook.query.explore import Exploration

        return Exploration(self.store, spl, earliest=earliest, latest=latest)

    def playbooks(self) -> list[BuiltinPlaybook]:
        """The playbooks shipped with huntbook (name, title, ATT&CK ids)."""
        from huntbook.hunts import list_builtin

        return list_builtin()

    def report_html(self, result: HuntResult) -> str:
        """A hunt's report as the one self-contained HTML page ``huntbook hunt`` writes."""
        from huntbook.hunts import render_html

        return render_html(result)
