"""A run's hits on disk, read back in order, so detect's memory does not grow with its hits.

Each group query's rows are taken ``RUN`` at a time; each run of hits is sorted (by time, then
rule title, as the reports list them) and pickled into a file of its own. Reading merges the
runs, in the order they were written per query and the queries' order, with the correlation hits
last: the same order as one stable sort of every hit held in memory, which is what detect did
before (so its outputs are unchanged), with at most ``RUN`` hits per query thread in memory.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from huntbook.detect.model import Hit, Rule

RUN = 10_000  # hits sorted in memory at a time, per query thread
Place = tuple[int, int, int]  # the query's job, the rule run alone (-1: the group), the run


def order(hit: Hit) -> tuple[Any, str]:
    """The reports' order: time, then rule title."""
    return (hit.event.get("_time") or 0, hit.rule.title)


class HitSpool:
    """The hits of the rules in ``rules`` (numbered by position), spooled to a temporary folder
    removed when the spool is collected or the process exits."""

    def __init__(self, rules: list[Rule], run: int | None = None) -> None:
        self.rules = rules
        self.run = run or RUN
        self._numbers = {id(rule): number for number, rule in enumerate(rules)}
        self._folder = tempfile.TemporaryDirectory(prefix="huntbook-detect-")
        self._runs: dict[Place, Path] = {}
        self._sizes: dict[Place, int] = {}
        self._last: list[Hit] = []  # correlation hits: after the spooled ones on equal keys
        self._count = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count + len(self._last)

    def __bool__(self) -> bool:
        return len(self) > 0

    def write(self, job: int, alone: int, hits: Iterable[Hit]) -> None:
        """Spool one query's hits (``alone``: the rule's number in its group when it ran by
        itself, -1 for the group query), ``run`` at a time."""
        batch: list[Hit] = []
        runs = 0
        for hit in hits:
            batch.append(hit)
            if len(batch) == self.run:
                self._write((job, alone, runs), batch)
                batch, runs = [], runs + 1
        if batch:
            self._write((job, alone, runs), batch)

    def drop(self, job: int, alone: int) -> None:
        """Forget what a query spooled before it failed (it is run again another way)."""
        with self._lock:
            for place in [p for p in self._runs if p[:2] == (job, alone)]:
                self._count -= self._sizes.pop(place)
                self._runs.pop(place).unlink()

    def _write(self, place: Place, hits: list[Hit]) -> None:
        hits.sort(key=order)
        with self._lock:
            path = Path(self._folder.name) / ".".join(map(str, place))
            self._runs[place], self._sizes[place] = path, len(hits)
            self._count += len(hits)
        with path.open("wb") as handle:
            for hit in hits:
                pickle.dump((self._numbers[id(hit.rule)], hit.event), handle, protocol=5)

    def add_last(self, hits: Iterable[Hit]) -> None:
        """Hits made from the spooled ones (correlations): listed after them on equal keys."""
        self._last.extend(hits)

    def __iter__(self) -> Iterator[Hit]:
        runs = [self._read(self._runs[place]) for place in sorted(self._runs)]
        return heapq.merge(*runs, sorted(self._last, key=order), key=order)

    def _read(self, path: Path) -> Iterator[Hit]:
        with path.open("rb") as handle:
            while True:
                try:
                    number, event = pickle.load(handle)
                except EOFError:
                    return
                yield Hit(self.rules[number], event)
