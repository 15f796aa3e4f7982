"""Run converted rules on the store: one query per log-source group, one DuckDB connection.

First one cheap query lists the (source, EventCode) pairs the store holds, so a branch without
events drops out of every rule (and a group without any costs no query). Each group query then
reads the events of its branches once, with only the columns its rules read (text fields also
lower-cased once, for the case-insensitive matches), and returns the matching events with the
numbers of the rules each matched. A group whose query fails runs rule by rule, so a broken rule
is reported as failed without taking its group down.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import duckdb
from sqlglot import exp

from huntbook.detect.compile import lower_column, value_column
from huntbook.detect.model import FAILED, Branched, Hit, Rule
from huntbook.normalize.types import TIME, field_type
from huntbook.query.spl.compiler.values import col, lit, not_null
from huntbook.store.views import DIALECT, SQL_TYPES, VIEW

# Columns every hit carries (its provenance included), besides the fields its rule read.
EVENT_COLUMNS = (
    "_time",
    "host",
    "EventCode",
    "index",
    "source",
    "sourcetype",
    "_cd",
    "EventRecordID",
)
_MATCHED = "__rules"
_VAR = "__r"
Key = tuple[tuple[str, tuple[str, ...]], ...]


class Scanner:
    """The store's events on one connection, with its present fields and their columns."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        fields: Iterable[str],
        columns: dict[str, str],
        index: str | None = None,
    ) -> None:
        self.con = con
        self.present = set(fields)
        self.columns = columns
        self.index = index
        pairs = exp.select(col("source"), col("EventCode")).distinct().from_(VIEW)
        self.pairs = {(s, c) for s, c in con.execute(pairs.sql(dialect=DIALECT)).fetchall()}
        self.sources = {s for s, _ in self.pairs}

    def _live(self, branch: Branched) -> bool:
        if not branch.source:
            return True
        if not branch.codes:
            return branch.source in self.sources
        return any((branch.source, c) in self.pairs for c in branch.codes)

    def run(self, rules: list[Rule]) -> list[Hit]:
        """Every rule's hits; each rule's ``hits`` and ``seconds`` (its share of the scan) set."""
        groups: dict[Key, list[Rule]] = {}
        for rule in rules:
            key = tuple(b.key for b in rule.branches if self._live(b))
            if key:
                groups.setdefault(key, []).append(rule)
        hits: list[Hit] = []
        for key, members in groups.items():
            hits.extend(self._group(key, members))
        return hits

    def _group(self, key: Key, rules: list[Rule]) -> list[Hit]:
        started = time.perf_counter()
        try:
            found = self._query(key, rules)
        except duckdb.Error:
            return [h for rule in rules for h in self._alone(key, rule)]
        share = (time.perf_counter() - started) / len(rules)
        for rule in rules:
            rule.seconds += share
        return found

    def _alone(self, key: Key, rule: Rule) -> list[Hit]:
        started = time.perf_counter()
        try:
            found = self._query(key, [rule])
        except duckdb.Error as exc:
            rule.status, rule.reason = FAILED, f"DuckDB: {str(exc).splitlines()[0]}"
            found = []
        rule.seconds += time.perf_counter() - started
        return found

    def _query(self, key: Key, rules: list[Rule]) -> list[Hit]:
        query = self.group_query(key, rules)
        cursor = self.con.execute(query.sql(dialect=DIALECT))
        names = [d[0] for d in cursor.description or []]
        hits = []
        for row in cursor.fetchall():
            values = dict(zip(names, row, strict=True))
            for i in values.pop(_MATCHED):
                hits.append(Hit(rules[i], _event(rules[i], values)))
        for hit in hits:
            hit.rule.hits += 1
        return hits

    def group_query(self, key: Key, rules: list[Rule]) -> exp.Select:
        """``SELECT <event columns>, [matched rules] FROM (scan) WHERE some rule matched``."""
        fields = sorted({f for r in rules for f in r.fields} | set(EVENT_COLUMNS))
        lowered = sorted({f for r in rules for f in r.lowered})
        scan = exp.select(
            *(
                exp.alias_(self._column(f), value_column(f), quoted=True, copy=False)
                for f in fields
            ),
            *(
                exp.alias_(
                    exp.Lower(this=self._column(f)), lower_column(f), quoted=True, copy=False
                )
                for f in lowered
            ),
        ).from_(VIEW, copy=False)
        where = self._where(key)
        if where is not None:
            scan = scan.where(where, copy=False)
        numbers = exp.Array(
            expressions=[
                exp.Case(ifs=[exp.If(this=self._predicate(key, r), true=lit(i))])
                for i, r in enumerate(rules)
            ]
        )
        keep = exp.Lambda(this=not_null(exp.column(_VAR)), expressions=[exp.to_identifier(_VAR)])
        matched = exp.alias_(
            exp.ArrayFilter(this=numbers, expression=keep), _MATCHED, quoted=True, copy=False
        )
        tagged = exp.select(*(col(value_column(f)) for f in fields), matched).from_(
            exp.Subquery(this=scan, alias=exp.TableAlias(this=exp.to_identifier("scan"))),
            copy=False,
        )
        outer = exp.select(exp.Star()).from_(
            exp.Subquery(this=tagged, alias=exp.TableAlias(this=exp.to_identifier("tagged"))),
            copy=False,
        )
        matching = outer.where(exp.GT(this=exp.ArraySize(this=col(_MATCHED)), expression=lit(0)))
        return matching.order_by(col(value_column(TIME)), copy=False)

    def _predicate(self, key: Key, rule: Rule) -> exp.Expr:
        """The rule on the group's branches; with one branch the scan's filter already holds."""
        live = [b for b in rule.branches if b.key in key]
        if len(key) == 1:
            return live[0].predicate
        parts = [exp.and_(*_branch_filter(b.source, b.codes), b.predicate) for b in live]
        return exp.or_(*parts, copy=False)

    def _column(self, name: str) -> exp.Expr:
        if name not in self.present:
            return exp.Cast(this=exp.Null(), to=exp.DataType.build(SQL_TYPES[field_type(name)]))
        return col(self.columns.get(name, name))

    def _where(self, key: Key) -> exp.Expr | None:
        """The group's branches (DuckDB reads the select's aliases here) and the index."""
        tests: list[exp.Expr] = []
        if all(source for source, _ in key):
            scopes = [exp.and_(*_branch_filter(s, c), copy=False) for s, c in key]
            tests.append(exp.or_(*scopes, copy=False))
        if self.index is not None:
            index = exp.Lower(this=col(value_column("index")))
            tests.append(exp.EQ(this=index, expression=lit(self.index.lower())))
        return exp.and_(*tests, copy=False) if tests else None


def _branch_filter(source: str, codes: tuple[str, ...]) -> list[exp.Expr]:
    """The predicates selecting a branch's events: its ``source``, its event codes."""
    tests: list[exp.Expr] = []
    if source:
        tests.append(exp.EQ(this=col(value_column("source")), expression=lit(source)))
    if codes:
        code = col(value_column("EventCode"))
        tests.append(exp.In(this=code, expressions=[lit(c) for c in codes]))
    return tests or [exp.true()]


def _event(rule: Rule, values: dict[str, Any]) -> dict[str, Any]:
    named = [f for f in rule.fields if f not in EVENT_COLUMNS and f != "_raw"]
    return {name: values[value_column(name)] for name in (*EVENT_COLUMNS, *named)}
