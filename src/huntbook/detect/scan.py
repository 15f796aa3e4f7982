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

from huntbook.detect.addresses import ipv6_hex
from huntbook.detect.cache import RuleCache
from huntbook.detect.compile import ipv4_column, ipv6_column, lower_column, value_column
from huntbook.detect.mapping import Branch
from huntbook.detect.model import FAILED, Hit, Rule
from huntbook.normalize.types import TIME, field_type
from huntbook.query.spl.compiler.search import ipv4_number
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


class Scanner:
    """The store's events on one connection, with its present fields and their columns."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        fields: Iterable[str],
        columns: dict[str, str],
        index: str | None = None,
        memo: RuleCache | None = None,
    ) -> None:
        self.con = con
        self.memo = memo
        self.present = set(fields)
        self.columns = columns
        self.index = index
        pairs = exp.select(col("source"), col("EventCode")).distinct().from_(VIEW)
        self.pairs = {(s, c) for s, c in con.execute(pairs.sql(dialect=DIALECT)).fetchall()}
        self.sources = {s for s, _ in self.pairs}

    def _live(self, branch: Branch) -> bool:
        if not branch.source:
            return True
        if not branch.codes:
            return branch.source in self.sources
        return any((branch.source, c) in self.pairs for c in branch.codes)

    def run(self, rules: list[Rule]) -> list[Hit]:
        """Every rule's hits; each rule's ``hits`` and ``seconds`` (its share of the scan) set."""
        groups: dict[tuple[Branch, ...], list[Rule]] = {}
        for rule in rules:
            key = tuple(b for b in rule.branches if self._live(b))
            if key:
                groups.setdefault(key, []).append(rule)
        hits: list[Hit] = []
        for key, members in groups.items():
            hits.extend(self._group(key, members))
        return hits

    def _group(self, key: tuple[Branch, ...], rules: list[Rule]) -> list[Hit]:
        started = time.perf_counter()
        try:
            found = self._query(key, rules)
        except duckdb.Error:
            return [h for rule in rules for h in self._alone(key, rule)]
        share = (time.perf_counter() - started) / len(rules)
        for rule in rules:
            rule.seconds += share
        return found

    def _alone(self, key: tuple[Branch, ...], rule: Rule) -> list[Hit]:
        started = time.perf_counter()
        try:
            found = self._query(key, [rule])
        except duckdb.Error as exc:
            rule.status, rule.reason = FAILED, f"DuckDB: {str(exc).splitlines()[0]}"
            found = []
        rule.seconds += time.perf_counter() - started
        return found

    def _query(self, key: tuple[Branch, ...], rules: list[Rule]) -> list[Hit]:
        cursor = self.con.execute(self._sql(key, rules))
        names = [d[0] for d in cursor.description or []]
        hits = []
        for row in cursor.fetchall():
            values = dict(zip(names, row, strict=True))
            for i in values.pop(_MATCHED):
                hits.append(Hit(rules[i], _event(rules[i], values)))
        for hit in hits:
            hit.rule.hits += 1
        return hits

    def _sql(self, key: tuple[Branch, ...], rules: list[Rule]) -> str:
        def render() -> str:
            return self.group_query(key, rules).sql(dialect=DIALECT)

        if self.memo is None:
            return render()
        fields = sorted({f for r in rules for f in r.fields} | set(EVENT_COLUMNS))
        present = [f for f in fields if f in self.present]
        parts = [[(r.key, r.fields) for r in rules], key, present, self.columns, self.index]
        return self.memo.sql(parts, render)

    def group_query(self, key: tuple[Branch, ...], rules: list[Rule]) -> exp.Select:
        """``SELECT <event columns>, [matched rules] FROM (scan) WHERE some rule matched``."""
        fields = sorted({f for r in rules for f in r.fields} | set(EVENT_COLUMNS))
        lowered = sorted({f for r in rules for f in r.lowered})
        ipv4 = sorted({f for r in rules for f in r.ipv4})
        ipv6 = sorted({f for r in rules for f in r.ipv6})
        scan = exp.select(
            *(_alias(self._resolved(key, f), value_column(f)) for f in fields),
            *(_alias(exp.Lower(this=self._resolved(key, f)), lower_column(f)) for f in lowered),
            *(_alias(ipv4_number(self._resolved(key, f)), ipv4_column(f)) for f in ipv4),
            *(_alias(ipv6_hex(self._resolved(key, f)), ipv6_column(f)) for f in ipv6),
        ).from_(VIEW, copy=False)
        where = self._where(key)
        if where is not None:
            scan = scan.where(where, copy=False)
        numbers = exp.Array(
            expressions=[
                exp.Case(ifs=[exp.If(this=r.tree(), true=lit(i))]) for i, r in enumerate(rules)
            ]
        )
        keep = exp.Lambda(this=not_null(exp.column(_VAR)), expressions=[exp.to_identifier(_VAR)])
        matched = _alias(exp.ArrayFilter(this=numbers, expression=keep), _MATCHED)
        tagged = exp.select(*(col(value_column(f)) for f in fields), matched).from_(
            exp.Subquery(this=scan, alias=exp.TableAlias(this=exp.to_identifier("scan"))),
            copy=False,
        )
        outer = exp.select(exp.Star()).from_(
            exp.Subquery(this=tagged, alias=exp.TableAlias(this=exp.to_identifier("tagged"))),
            copy=False,
        )
        size = exp.ArraySize(this=col(_MATCHED))
        matching = outer.where(exp.GT(this=size, expression=lit(0)), copy=False)
        return matching.order_by(col(value_column(TIME)), copy=False)

    def _resolved(self, key: tuple[Branch, ...], name: str) -> exp.Expr:
        """Sigma's field ``name`` on each event: the column its branch names it by."""
        stored = [b.column(name) for b in key]
        if len(set(stored)) == 1:
            return self._column(stored[0])
        ifs = [
            exp.If(this=exp.and_(*_branch_filter(b), copy=False), true=self._column(c))
            for b, c in zip(key, stored, strict=True)
        ]
        return exp.Case(ifs=ifs)

    def _column(self, name: str) -> exp.Expr:
        if name not in self.present:
            return exp.Cast(this=exp.Null(), to=exp.DataType.build(SQL_TYPES[field_type(name)]))
        return col(self.columns.get(name, name))

    def _where(self, key: tuple[Branch, ...]) -> exp.Expr | None:
        """The group's branches and the index."""
        tests: list[exp.Expr] = []
        if all(b.source for b in key):
            scopes = [exp.and_(*_branch_filter(b), copy=False) for b in key]
            tests.append(exp.or_(*scopes, copy=False))
        if self.index is not None:
            index = exp.Lower(this=col("index"))
            tests.append(exp.EQ(this=index, expression=lit(self.index.lower())))
        return exp.and_(*tests, copy=False) if tests else None


def _alias(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, name, quoted=True, copy=False)


def _branch_filter(branch: Branch) -> list[exp.Expr]:
    """The predicates selecting a branch's events: its ``source``, its event codes."""
    tests: list[exp.Expr] = []
    if branch.source:
        tests.append(exp.EQ(this=col("source"), expression=lit(branch.source)))
    if branch.codes:
        code = col("EventCode")
        tests.append(exp.In(this=code, expressions=[lit(c) for c in branch.codes]))
    return tests or [exp.true()]


def _event(rule: Rule, values: dict[str, Any]) -> dict[str, Any]:
    named = [f for f in rule.fields if f not in EVENT_COLUMNS and f != "_raw"]
    return {name: values[value_column(name)] for name in (*EVENT_COLUMNS, *named)}
