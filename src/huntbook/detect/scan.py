"""Run converted rules on the store: a few queries per log-source group, one DuckDB database.

First one cheap query lists the (source, EventCode) pairs the store holds, so a branch without
events drops out of every rule (and a group without any costs no query). Each group query then
reads the events of its branches once, with only the columns its rules read (text fields also
lower-cased once, for the case-insensitive matches), and returns the matching events with the
numbers of the rules each matched (``huntbook.detect.plan`` builds it), which go to the run's
spool as they come (``huntbook.detect.spool``: memory does not grow with the hits). DuckDB's
time to plan a query grows faster than the query's size, so a big group is cut into queries of
at most ``CHUNK`` rules; the queries run on a cursor per thread, as many threads as cores. A
group whose query fails runs rule by rule, so a broken rule is reported as failed without taking
its group down.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import duckdb
from sqlglot import exp

from huntbook.detect.cache import RuleCache
from huntbook.detect.mapping import Branch
from huntbook.detect.model import EVENT_COLUMNS, FAILED, MATCHED, Hit, Rule, value_column
from huntbook.detect.spool import HitSpool
from huntbook.store.views import DIALECT, VIEW

CHUNK = 150  # rules per group query
Job = tuple[tuple[Branch, ...], list[Rule]]
FETCH = 2_048  # rows taken from DuckDB at a time


class Scanner:
    """The store's events on one connection, with its present fields and their columns.

    What is DuckDB's here (the dialect, the rows of a query, the errors a query raises) is
    overridden by ``huntbook.detect.spark_scan.SparkScanner`` to run the same group queries on
    Spark.
    """

    engine: ClassVar[str] = "DuckDB"  # named in a failed rule's reason
    failures: ClassVar[tuple[type[Exception], ...]] = (duckdb.Error,)

    def __init__(
        self,
        con: Any,  # DuckDB's connection (None for a subclass that overrides ``_rows``)
        fields: Iterable[str],
        columns: dict[str, str],
        index: str | None = None,
        memo: RuleCache | None = None,
        threads: int | None = None,
    ) -> None:
        self.con: duckdb.DuckDBPyConnection = con
        self.memo = memo
        self.present = set(fields)
        self.columns = columns
        self.index = index
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self._cursors = threading.local()
        pairs = exp.select(exp.column("source"), exp.column("EventCode")).distinct().from_(VIEW)
        self.pairs = {(row["source"], row["EventCode"]) for row in self._rows(self._render(pairs))}
        self.sources = {s for s, _ in self.pairs}

    def _live(self, branch: Branch) -> bool:
        if not branch.source:
            return True
        if not branch.codes:
            return branch.source in self.sources
        return any((branch.source, c) in self.pairs for c in branch.codes)

    def jobs(self, rules: list[Rule]) -> list[Job]:
        """The group queries: rules with the same live branches, at most ``CHUNK`` a query."""
        groups: dict[tuple[Branch, ...], list[Rule]] = {}
        for rule in rules:
            key = tuple(b for b in rule.branches if self._live(b))
            if key:
                groups.setdefault(key, []).append(rule)
        return [
            (key, members[start : start + CHUNK])
            for key, members in groups.items()
            for start in range(0, len(members), CHUNK)
        ]

    def run(self, rules: list[Rule], spool: HitSpool) -> None:
        """Every rule's hits into ``spool``; each rule's ``hits`` and ``seconds`` (its share of
        the scan) set."""
        jobs = sorted(self.jobs(rules), key=lambda job: -len(job[1]))  # the longest first
        numbered = [(number, job, spool) for number, job in enumerate(jobs)]
        if self.threads == 1 or len(jobs) == 1:
            for task in numbered:
                self._group(task)
        else:
            with ThreadPoolExecutor(self.threads) as pool:
                list(pool.map(self._group, numbered))

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the store's database."""
        cursor = getattr(self._cursors, "cursor", None)
        if cursor is None:
            cursor = self._cursors.cursor = self.con.cursor()
        return cursor

    def _group(self, task: tuple[int, Job, HitSpool]) -> None:
        number, (key, rules), spool = task
        started = time.perf_counter()
        try:
            spool.write(number, -1, self._query(key, rules))
        except self.failures:
            spool.drop(number, -1)
            for alone, rule in enumerate(rules):
                rule.hits = 0
                self._alone(key, rule, spool, (number, alone))
            return
        share = (time.perf_counter() - started) / len(rules)
        for rule in rules:
            rule.seconds += share

    def _alone(
        self, key: tuple[Branch, ...], rule: Rule, spool: HitSpool, place: tuple[int, int]
    ) -> None:
        started = time.perf_counter()
        try:
            spool.write(*place, self._query(key, [rule]))
        except self.failures as exc:
            spool.drop(*place)
            rule.status, rule.reason = FAILED, f"{self.engine}: {str(exc).splitlines()[0]}"
            rule.hits = 0
        rule.seconds += time.perf_counter() - started

    def _query(self, key: tuple[Branch, ...], rules: list[Rule]) -> Iterator[Hit]:
        """The hits of the group query, ``FETCH`` rows at a time; each rule's ``hits`` counted
        (a rule is in one job only: no other thread counts it)."""
        sql = self._sql(key, rules)
        if not sql:  # no rule of the group can match its events (``GroupPlan.query``)
            return
        for values in self._rows(sql):
            for i in values.pop(MATCHED):
                rules[i].hits += 1
                yield Hit(rules[i], _event(rules[i], values))

    def _rows(self, sql: str) -> Iterator[dict[str, Any]]:
        """The rows of a query by column name, ``FETCH`` at a time, on this thread's cursor."""
        cursor = self._cursor().execute(sql)
        names = [d[0] for d in cursor.description or []]
        while rows := cursor.fetchmany(FETCH):
            for row in rows:
                yield dict(zip(names, row, strict=True))

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
        rendering = self._rendering()
        parts = [
            [(r.key, r.fields) for r in rules],
            key,
            present,
            self.columns,
            self.index,
            rendering,
        ]
        return self.memo.sql(parts, render)


def _event(rule: Rule, values: dict[str, Any]) -> dict[str, Any]:
    named = [f for f in rule.fields if f not in EVENT_COLUMNS and f != "_raw"]
    return {name: values[value_column(name)] for name in (*EVENT_COLUMNS, *named)}
