"""A run's hits on disk, read back in order, so detect's memory does not grow with its hits.

Each group query's rows are taken ``RUN`` at a time; each run of hits is sorted (by time, then
rule title, rule id and the event's ``_cd``, as the reports list them) and pickled into a file of
its own. Reading merges the runs, with the correlation hits last on equal keys: every hit in one
order however the scan cut its queries (by rule group, by the store's files), with at most ``RUN``
hits per query thread in memory, and at most ``FAN_IN`` run files open at once (a store of
thousands of files makes thousands of runs: they are merged ``FAN_IN`` at a time into files of
their own first, as an external sort does). The spool counts each rule's hits; a rule that failed
(``fail``) has none, whichever queries had spooled some before.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from huntbook.detect.model import Hit, Rule

RUN = 10_000  # hits sorted in memory at a time, per query thread
FAN_IN = 100  # run files open at once when reading back: more are merged into files first
# the store's files scanned (their view's number), the query's job, the rule run alone (-1: the
# group), the run
Place = tuple[int, int, int, int]


def order(hit: Hit) -> tuple[Any, str, str, int]:
    """The reports' order: time, then rule title, rule id and the event's place in the store."""
    return (hit.event.get("_time") or 0, hit.rule.title, hit.rule.id, hit.event.get("_cd") or 0)


class HitSpool:
    """The hits of the rules in ``rules`` (numbered by position), spooled to a temporary folder
    removed when the spool is collected or the process exits."""

    def __init__(self, rules: list[Rule], run: int | None = None) -> None:
        self.rules = rules
        self.run = run or RUN
        self._numbers = {id(rule): number for number, rule in enumerate(rules)}
        self._folder = tempfile.TemporaryDirectory(prefix="huntbook-detect-")
        self._runs: dict[Place, Path] = {}
        self._sizes: dict[Place, Counter[int]] = {}  # hits per rule number
        self._failed: set[int] = set()  # rules whose spooled hits do not count
        self._last: list[Hit] = []  # correlation hits: after the spooled ones on equal keys
        self._lock = threading.Lock()
        self._merges = 0  # files of merged runs made so far (their names)

    def __len__(self) -> int:
        counts = sum(self._counts().values())
        return counts + len(self._last)

    def _counts(self) -> Counter[int]:
        with self._lock:
            total = sum(self._sizes.values(), Counter[int]())
        for number in self._failed:
            total.pop(number, None)
        return total

    def count(self, rule: Rule) -> int:
        """The hits spooled for ``rule`` (none once it failed)."""
        return self._counts()[self._numbers[id(rule)]]

    def fail(self, rule: Rule) -> None:
        """Forget ``rule``'s hits, whichever queries spooled them."""
        self._failed.add(self._numbers[id(rule)])

    def __bool__(self) -> bool:
        return len(self) > 0

    def write(self, query: tuple[int, int, int], hits: Iterable[Hit]) -> None:
        """Spool one query's hits (``query``: the view it ran on, its job, and the rule's number
        in its group when it ran by itself, -1 for the group query), ``run`` at a time."""
        batch: list[Hit] = []
        runs = 0
        for hit in hits:
            batch.append(hit)
            if len(batch) == self.run:
                self._write((*query, runs), batch)
                batch, runs = [], runs + 1
        if batch:
            self._write((*query, runs), batch)

    def drop(self, query: tuple[int, int, int]) -> None:
        """Forget what a query spooled before it failed (it is run again another way)."""
        with self._lock:
            for place in [p for p in self._runs if p[:3] == query]:
                del self._sizes[place]
                self._runs.pop(place).unlink()

    def _write(self, place: Place, hits: list[Hit]) -> None:
        hits.sort(key=order)
        numbers = [self._numbers[id(hit.rule)] for hit in hits]
        with self._lock:
            path = Path(self._folder.name) / ".".join(map(str, place))
            self._runs[place], self._sizes[place] = path, Counter(numbers)
        with path.open("wb") as handle:
            for number, hit in zip(numbers, hits, strict=True):
                pickle.dump((number, hit.event), handle, protocol=5)

    def add_last(self, hits: Iterable[Hit]) -> None:
        """Hits made from the spooled ones (correlations): listed after them on equal keys."""
        self._last.extend(hits)

    def __iter__(self) -> Iterator[Hit]:
        paths = [self._runs[place] for place in sorted(self._runs)]
        while len(paths) > FAN_IN:  # consecutive runs merged: equal keys keep their order
            paths = [self._merged(paths[at : at + FAN_IN]) for at in range(0, len(paths), FAN_IN)]
        runs = [self._read(path) for path in paths]
        return heapq.merge(*runs, sorted(self._last, key=order), key=order)

    def _merged(self, paths: list[Path]) -> Path:
        """One run file holding the runs at ``paths`` in order (a failed rule's hits left out)."""
        if len(paths) == 1:
            return paths[0]
        with self._lock:
            self._merges += 1
            path = Path(self._folder.name) / f"merged.{self._merges}"
        with path.open("wb") as handle:
            for hit in heapq.merge(*(self._read(p) for p in paths), key=order):
                pickle.dump((self._numbers[id(hit.rule)], hit.event), handle, protocol=5)
        return path

    def _read(self, path: Path) -> Iterator[Hit]:
        with path.open("rb") as handle:
            while True:
                try:
                    number, event = pickle.load(handle)
                except EOFError:
                    return
                if number not in self._failed:
                    yield Hit(self.rules[number], event)
