"""The SQL tree of one group query (``huntbook.detect.scan`` runs it): the group's events read
once, with only the columns its rules read, and the numbers of the rules each event matched.

Imported only when a group's SQL is not in the cache: building the tree needs the SPL compiler's
helpers, whose package is slow to import.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlglot import exp

from huntbook.detect.addresses import ipv6_hex
from huntbook.detect.fold import absent_columns, fold, share
from huntbook.detect.mapping import Branch
from huntbook.detect.model import (
    EVENT_COLUMNS,
    MATCHED,
    Rule,
    ipv4_column,
    ipv6_column,
    lower_column,
    value_column,
)
from huntbook.normalize.types import field_type
from huntbook.query.spl.compiler.search import ipv4_number
from huntbook.query.spl.compiler.values import col, lit, not_null
from huntbook.store.views import SQL_TYPES, VIEW

_VAR = "__r"


class GroupPlan:
    """The store's present fields and their columns, and the ``--index`` the scan keeps to."""

    def __init__(
        self, present: Collection[str], columns: Mapping[str, str], index: str | None
    ) -> None:
        self.present = present
        self.columns = columns
        self.index = index

    def query(self, key: tuple[Branch, ...], rules: list[Rule]) -> exp.Select | None:
        """``SELECT <event columns>, [matched rules] FROM (scan) WHERE some rule matched``; each
        rule's terms on fields no branch of the group stores decided first (``fold``). None when
        no rule can match."""
        fields = sorted({f for r in rules for f in r.fields} | set(EVENT_COLUMNS))
        absent = absent_columns(f for f in fields if self._absent(key, f))
        folded = [(i, fold(r.tree(), absent)) for i, r in enumerate(rules)]
        live = [(i, tree) for i, tree in folded if not _never(tree)]
        if not live:
            return None
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
        trees, terms = share([tree for _, tree in live], _term_column)
        if terms:  # the terms several rules test, computed once between the scan and the rules
            scan = exp.select(
                exp.Star(), *(_alias(t, _term_column(n)) for n, t in enumerate(terms))
            ).from_(_subquery(scan, "scan"), copy=False)
        numbers = exp.Array(
            expressions=[
                exp.Case(ifs=[exp.If(this=tree, true=lit(i))])
                for (i, _), tree in zip(live, trees, strict=True)
            ]
        )
        keep = exp.Lambda(this=not_null(exp.column(_VAR)), expressions=[exp.to_identifier(_VAR)])
        matched = _alias(exp.ArrayFilter(this=numbers, expression=keep), MATCHED)
        tagged = exp.select(*(col(value_column(f)) for f in fields), matched).from_(
            _subquery(scan, "events"), copy=False
        )
        outer = exp.select(exp.Star()).from_(_subquery(tagged, "tagged"), copy=False)
        size = exp.ArraySize(this=col(MATCHED))
        # unordered: the spool sorts every hit by one total order (``spool.order``)
        return outer.where(exp.GT(this=size, expression=lit(0)), copy=False)

    def _absent(self, key: tuple[Branch, ...], name: str) -> bool:
        """Whether no branch of the group stores Sigma's field ``name`` (it reads NULL)."""
        return all(b.column(name) not in self.present for b in key)

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


def _term_column(number: int) -> str:
    """The column of the group query holding its ``number``-th shared term."""
    return f"t:{number}"


def _subquery(query: exp.Select, alias: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _never(tree: exp.Expr) -> bool:
    """A predicate folded to FALSE or NULL: the rule matches no event of the group."""
    return isinstance(tree, exp.Null) or (isinstance(tree, exp.Boolean) and not tree.this)


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
