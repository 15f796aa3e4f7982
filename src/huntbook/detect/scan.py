"""Run converted rules on the store: a few queries per log-source group and view of its files.

DuckDB's memory to bind a view over Parquet files grows with the files (their metadata, ~0.5-0.8
MiB each with ~350 columns), and every query binds its view again, so the store is scanned
``FILES`` files at a time: a connection and a view ``events`` per slice of the store's files,
holding every column of the store (typed NULLs where the slice's files lack one, so each rule's
SQL is the same on every view), closed before the next: memory does not grow with the store.

First one cheap query per view lists the (source, EventCode) pairs it holds, so a branch without
events in the store drops out of every rule (and a group without any costs no query; one without
any in a view costs no query on it). Each group query then reads the events of its branches
once, with only the columns its rules read (text fields also lower-cased once, for the
case-insensitive matches), and returns the matching events with the numbers of the rules each
matched (``huntbook.detect.plan`` builds it), which go to the run's spool as they come
(``huntbook.detect.spool``: memory does not grow with the hits). DuckDB's time to plan a query
grows faster than the query's size, so a big group is cut into queries of at most ``CHUNK``
rules; the queries run on a cursor per thread, as many threads as cores. A group whose query
fails on a view runs there rule by rule, so a broken rule is reported as failed without taking
its group down; a rule failed on one view is failed as a whole (its hits on other views do not
count) and not run again. A rule's hits and seconds are summed over the views.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import duckdb
from sqlglot import exp

from huntbook.detect.cache import RuleCache
from huntbook.detect.mapping import Branch
from huntbook.detect.model import EVENT_COLUMNS, FAILED, MATCHED, RAN, Hit, Rule, value_column
from huntbook.detect.spool import HitSpool
from huntbook.normalize.types import CORE_COLUMNS
from huntbook.store.views import DIALECT, VIEW, events_view

if TYPE_CHECKING:
    from huntbook.store import Store

CHUNK = 150  # rules per group query
FILES = 48  # Parquet files per view (BENCHMARKS.md, Detect, At scale)
Job = tuple[tuple[Branch, ...], list[Rule]]
Pairs = set[tuple[Any, Any]]
Task = tuple[int, int, Job, HitSpool]  # the view's number, the job's, the job, the spool
FETCH = 2_048  # rows taken from DuckDB at a time


class EventsView(Protocol):
    """Where a scan's queries run: the view ``events`` over some of the store's files."""

    def rows(self, sql: str) -> Iterator[dict[str, Any]]:
        """The rows of a query by column name."""
        ...

    def close(self) -> None:
        """Let go of the view."""
        ...


class View:
    """Some of the store's files on a connection of their own, as the view ``events`` with every
    column of the store (``always``: column -> the field whose type it has)."""

    def __init__(self, store: Store, files: list[str], always: Mapping[str, str]) -> None:
        self.con = store.connection()
        self._cursors = threading.local()
        try:
            self.con.execute(events_view(files, _columns(self.con, files), always).sql(DIALECT))
        except BaseException:
            self.con.close()
            raise

    def rows(self, sql: str) -> Iterator[dict[str, Any]]:
        """The rows of a query by column name, ``FETCH`` at a time, on this thread's cursor."""
        cursor = getattr(self._cursors, "cursor", None)
        if cursor is None:
            cursor = self._cursors.cursor = self.con.cursor()
        cursor.execute(sql)
        names = [d[0] for d in cursor.description or []]
        while rows := cursor.fetchmany(FETCH):
            for row in rows:
                yield dict(zip(names, row, strict=True))

    def close(self) -> None:
        self.con.close()


def _columns(con: duckdb.DuckDBPyConnection, files: list[str]) -> set[str]:
    """The lower-cased names of the columns ``files`` carry."""
    if not files:
        return set()
    paths = exp.Array(expressions=[exp.Literal.string(f) for f in files])
    union = exp.EQ(this=exp.column("union_by_name"), expression=exp.true())
    read = exp.Table(this=exp.ReadParquet(expressions=[paths, union]))
    query = exp.Describe(this=exp.select(exp.Star()).from_(read))
    return {str(row[0]).lower() for row in con.execute(query.sql(dialect=DIALECT)).fetchall()}


def store_columns(store: Store) -> dict[str, str]:
    """Every column of the store (the core ones included) -> the field whose type it has."""
    owners = {c: c for c in CORE_COLUMNS}
    owners.update({c: c for c in store.manifest()["columns"].values()})
    owners.update({column: field for field, column in store.columns().items()})
    return owners


class Scanner:
    """The store's events, ``files`` Parquet files at a time, with its present fields and their
    columns.

    What is DuckDB's here (the views, the dialect, the errors a query raises) is overridden by
    ``huntbook.detect.spark_scan.SparkScanner`` to run the same group queries on Spark.
    """

    engine: ClassVar[str] = "DuckDB"  # named in a failed rule's reason
    failures: ClassVar[tuple[type[Exception], ...]] = (duckdb.Error,)

    def __init__(
        self,
        store: Store,
        index: str | None = None,
        memo: RuleCache | None = None,
        threads: int | None = None,
        files: int | None = None,
    ) -> None:
        self.store = store
        self.memo = memo
        self.present = set(store.fields())
        self.columns = store.columns()
        self.always = store_columns(store)
        self.index = index
        self.threads = threads or min(os.cpu_count() or 1, 4)
        paths, _ = store.checked_files()
        self.slices = self._slices(paths, files or FILES)
        pairs = exp.select(exp.column("source"), exp.column("EventCode")).distinct().from_(VIEW)
        self.view_pairs: list[Pairs] = []
        for files_ in self.slices:
            view = self._open(files_)
            try:
                found = view.rows(self._render(pairs))
                self.view_pairs.append({(row["source"], row["EventCode"]) for row in found})
            finally:
                view.close()
        self.pairs = set().union(*self.view_pairs)

    def _slices(self, paths: list[str], size: int) -> list[list[str]]:
        """The store's files cut into the views' slices."""
        return [paths[k : k + size] for k in range(0, len(paths), size)] or [[]]

    def _open(self, files: list[str]) -> EventsView:
        """The view ``events`` over ``files``."""
        return View(self.store, files, self.always)

    def jobs(self, rules: list[Rule]) -> list[Job]:
        """The group queries: rules with the same live branches, at most ``CHUNK`` a query."""
        groups: dict[tuple[Branch, ...], list[Rule]] = {}
        for rule in rules:
            key = tuple(b for b in rule.branches if _live(b, self.pairs))
            if key:
                groups.setdefault(key, []).append(rule)
        return [
            (key, members[start : start + CHUNK])
            for key, members in groups.items()
            for start in range(0, len(members), CHUNK)
        ]

    def run(self, rules: list[Rule], spool: HitSpool) -> None:
        """Every rule's hits into ``spool``, view by view; each rule's ``hits`` and ``seconds``
        (its share of the scans) set."""
        jobs = sorted(self.jobs(rules), key=lambda job: -len(job[1]))  # the longest first
        for number, (files, pairs) in enumerate(zip(self.slices, self.view_pairs, strict=True)):
            live = [
                (number, job, (key, [r for r in members if r.status == RAN]), spool)
                for job, (key, members) in enumerate(jobs)
                if any(_live(b, pairs) for b in key)
            ]
            if live:
                self._scan(self._open(files), live)
        for rule in rules:
            rule.hits = spool.count(rule)

    def _scan(self, view: EventsView, tasks: list[Task]) -> None:
        try:
            if self.threads == 1 or len(tasks) == 1:
                for task in tasks:
                    self._group(view, task)
            else:
                with ThreadPoolExecutor(self.threads) as pool:
                    list(pool.map(lambda task: self._group(view, task), tasks))
        finally:
            view.close()

    def _group(self, view: EventsView, task: Task) -> None:
        number, job, (key, rules), spool = task
        if not rules:
            return
        started = time.perf_counter()
        try:
            spool.write((number, job, -1), self._query(view, key, rules))
        except self.failures:
            spool.drop((number, job, -1))
            for alone, rule in enumerate(rules):
                self._alone(view, key, rule, spool, (number, job, alone))
            return
        share = (time.perf_counter() - started) / len(rules)
        for rule in rules:
            rule.seconds += share

    def _alone(
        self,
        view: EventsView,
        key: tuple[Branch, ...],
        rule: Rule,
        spool: HitSpool,
        place: tuple[int, int, int],
    ) -> None:
        started = time.perf_counter()
        try:
            spool.write(place, self._query(view, key, [rule]))
        except self.failures as exc:
            spool.drop(place)
            spool.fail(rule)
            rule.status, rule.reason = FAILED, f"{self.engine}: {str(exc).splitlines()[0]}"
        rule.seconds += time.perf_counter() - started

    def _query(self, view: EventsView, key: tuple[Branch, ...], rules: list[Rule]) -> Iterator[Hit]:
        """The hits of the group query on ``view``, as its rows come."""
        sql = self._sql(key, rules)
        if not sql:  # no rule of the group can match its events (``GroupPlan.query``)
            return
        for values in view.rows(sql):
            for i in values.pop(MATCHED):
                yield Hit(rules[i], _event(rules[i], values))

    def _render(self, query: exp.Expr) -> str:
        """A query tree (DuckDB's form) as this engine's SQL."""
        return query.sql(dialect=DIALECT)

    def _rendering(self) -> str:
        """What ``_render`` depends on besides the tree (part of the SQL's cache key)."""
        return DIALECT

    def _sql(self, key: tuple[Branch, ...], rules: list[Rule]) -> str:
        def render() -> str:
            from huntbook.detect.plan import GroupPlan

            plan = GroupPlan(self.present, self.columns, self.index)
            query = plan.query(key, rules)
            return "" if query is None else self._render(query)

        if self.memo is None:
            return render()
        fields = sorted({f for r in rules for f in r.fields} | set(EVENT_COLUMNS))
        stored = {b.column(f) for f in fields for b in key} | set(fields)  # each branch's names
        present = sorted(stored & self.present)
        parts = [
            [(r.key, r.fields) for r in rules],
            key,
            present,
            self.columns,
            self.index,
            self._rendering(),
        ]
        return self.memo.sql(parts, render)


def _live(branch: Branch, pairs: Pairs) -> bool:
    """Whether ``branch`` has events among ``pairs``."""
    if not branch.source:
        return True
    if not branch.codes:
        return any(s == branch.source for s, _ in pairs)
    return any((branch.source, c) in pairs for c in branch.codes)


def _event(rule: Rule, values: dict[str, Any]) -> dict[str, Any]:
    named = [f for f in rule.fields if f not in EVENT_COLUMNS and f != "_raw"]
    return {name: values[value_column(name)] for name in (*EVENT_COLUMNS, *named)}
