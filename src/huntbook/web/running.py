"""Searches in progress, by the id the page gave them, so ``/api/cancel`` can stop one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Running:
    """Thread-safe: searches register from worker threads, cancels come from others."""

    def __init__(self) -> None:
        self._by_id: dict[str, Cancellable] = {}
        self._lock = threading.Lock()

    @contextmanager
    def track(self, sid: str, search: Cancellable) -> Iterator[None]:
        """Known under ``sid`` while the block runs (an empty ``sid``: not cancellable)."""
        if not sid:
            yield
            return
        with self._lock:
            self._by_id[sid] = search
        try:
            yield
        finally:
            with self._lock:
                if self._by_id.get(sid) is search:
                    del self._by_id[sid]

    def cancel(self, sid: str) -> bool:
        """Interrupt the search ``sid``; False when none runs under that id."""
        with self._lock:
            search = self._by_id.get(sid)
        if search is None:
            return False
        search.cancel()
        return True
