"""Column access over the store's ``events`` view that survives absent fields and both field shapes.

Why this module exists: the same fact arrives under two names (EVTX/JSON EventData ``TargetLogonId``
versus the classic add-on's ``Logon_ID`` list) and a store only has the columns its events carried.
Every analytic therefore asks for a value by its candidate names; :class:`Columns` turns that into
``COALESCE`` over the columns that exist (``NULL`` when none does), so a query compiles on any
store.

Candidates are either a field name (``"TargetLogonId"``) or ``(name, position)`` for the 1-based
position in a multivalue field (``("Logon_ID", 2)`` is the target logon id: subject first). A
multivalue field asked for by plain name yields its last value; position -1 is the last value (the
target when a classic list dropped an empty subject); a text field asked for by position yields
itself only at position 1 or -1 (a single value is both the first and the last).

Which table a query reads: ``Columns.table``, the store's ``events`` view, or the narrower table
:mod:`huntbook.analytics.scan` made of the events the analytics can use (a store wrapper names it
in ``events_table``). A query that needs every event reads ``EVENTS`` whatever the columns say,
and one that counts events reads ``count_table`` with ``count``: the events, or a table whose
rows count the events of one combination of values (``Columns.tally``).

SQL is built from ``sqlglot.exp`` nodes only and rendered for DuckDB, or handed whole to an
engine's own connection (:class:`EngineConnection`: Spark's renders it for Spark); ``rows`` runs a
query and ``create_table`` a ``CREATE TEMPORARY TABLE ... AS`` (both take the sqlglot tree).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlglot import exp

Candidate = str | tuple[str, int]

DIALECT = "duckdb"
EVENTS = "events"


class StoreLike(Protocol):
    """What the analytics need from :class:`huntbook.store.Store`."""

    def connect(self) -> Any: ...

    def fields(self) -> dict[str, str]: ...

    def columns(self) -> dict[str, str]: ...


@runtime_checkable
class EngineConnection(Protocol):
    """A connection that runs the analytics' query trees itself, in place of DuckDB's
    (``huntbook.engines.spark.SparkConnection``): what ``StoreLike.connect()`` returns when the
    store is read through another engine."""

    def rows(self, query: exp.Expr) -> list[dict[str, Any]]: ...

    def narrowed(self, where: exp.Expr) -> EngineConnection:
        """The same connection with ``events`` holding only the rows ``where`` keeps."""
        ...

    def create_table(self, name: str, query: exp.Expr) -> None:
        """``name`` holding ``query``'s rows for the connection's later queries."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Keys:
    """The combinations of a table's events (analytics/scan.py): ``table`` holds each distinct
    combination of the columns ``names`` once, and the events' table holds in ``hashed`` the
    hash of each event's combination (``HASH`` of ``names``, in that order)."""

    table: str
    names: tuple[str, ...]
    hashed: str


class Columns:
    """Candidate-name lookups against one store's columns.

    Analytics name fields case-insensitively: a candidate ``Param1`` reads every spelling the
    store holds (System 7036's ``param1`` and RemoteConnectionManager 1149's ``Param1`` are
    stored in two columns, the second as a case variant ``Param1~1``; see ``Store.columns``), so
    an event's value is never lost to another channel's spelling of the same name.
    """

    def __init__(
        self,
        fields: Mapping[str, str],
        variants: Mapping[str, str] | None = None,
        table: str = EVENTS,
        tally: tuple[str, str] | None = None,
        logons: str | None = None,
        keys: Keys | None = None,
    ) -> None:
        self.table = table  # what the row-by-row queries read (see the module docstring)
        self.tally = tally  # a table counting the events (its name, its count column), if any
        self.logons = logons  # a table of every network logon (analytics/scan.py), if any
        self.keys = keys  # the combinations of ``table``'s events (``matching``), if named
        self.spellings: dict[str, list[tuple[str, str]]] = {}  # lower name -> (column, type)
        for name, kind in fields.items():
            column = (variants or {}).get(name, name)
            self.spellings.setdefault(name.lower(), []).append((column, kind))

    @classmethod
    def of(cls, store: StoreLike) -> Columns:
        """The columns of a store (its fields and the columns of their case variants), read
        from the table the store names in ``events_table`` (default ``events``), counted from
        its ``tally`` if it has one, its network logons from its ``logons_table`` if it has one."""
        table = getattr(store, "events_table", EVENTS)
        tally, logons = getattr(store, "tally", None), getattr(store, "logons_table", None)
        keys = getattr(store, "keys", None)
        return cls(store.fields(), store.columns(), table, tally, logons, keys)

    def has(self, name: str) -> bool:
        return name.lower() in self.spellings

    def one(self, candidate: Candidate) -> exp.Expr:
        """One candidate as an expression, or NULL when its column is absent."""
        name, pos = (candidate, None) if isinstance(candidate, str) else candidate
        spellings = self.spellings.get(name.lower(), [])
        present = [e for c, k in spellings if not isinstance(e := _value(c, k, pos), exp.Null)]
        if len({k for _, k in spellings}) > 1:  # a number in one spelling, text in another
            present = [exp.cast(e, exp.DataType.Type.VARCHAR) for e in present]
        if not present:
            return exp.Null()
        if len(present) == 1:
            return present[0]
        return exp.Coalesce(this=present[0], expressions=present[1:])

    def get(self, *candidates: Candidate) -> exp.Expr:
        """COALESCE of the candidates that exist (empty strings and ``-`` count as missing)."""
        present = [_blank_to_null(self.one(c)) for c in candidates]
        present = [p for p in present if not isinstance(p, exp.Null)]
        if not present:
            return exp.Null()
        if len(present) == 1:
            return present[0]
        return exp.Coalesce(this=present[0], expressions=present[1:])

    def lower(self, *candidates: Candidate) -> exp.Expr:
        return exp.Lower(this=self.get(*candidates))


def _value(column_name: str, kind: str, pos: int | None) -> exp.Expr:
    """One column's value: a multivalue's element at ``pos`` (last by default), a single value
    only at position 1 or -1 (it is both the first and the last)."""
    column = exp.column(column_name, quoted=True)
    if kind == "list":
        index = -1 if pos is None else pos
        return exp.func("list_extract", column, exp.Literal.number(index))
    if pos not in (None, 1, -1):
        return exp.Null()
    return column


def _blank_to_null(expr: exp.Expr) -> exp.Expr:
    if isinstance(expr, exp.Null):
        return expr
    blank = exp.Nullif(this=expr, expression=exp.Literal.string(""))
    return exp.Nullif(this=blank, expression=exp.Literal.string("-"))


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def code_in(columns: Columns, codes: Iterable[str]) -> exp.Expr:
    """``EventCode IN (...)``."""
    return exp.column("EventCode", quoted=True).isin(*[text(c) for c in codes])


def is_sysmon(columns: Columns) -> exp.Expr:
    """Sysmon events (their EventCode numbers collide with other channels' ids)."""
    probe = columns.lower("sourcetype", "source")
    return exp.Like(this=probe, expression=text("%sysmon%"))


def not_sysmon(columns: Columns) -> exp.Expr:
    return exp.Not(
        this=exp.Paren(this=exp.Coalesce(this=is_sysmon(columns), expressions=[exp.false()]))
    )


def projection(columns: Columns, spec: Mapping[str, Sequence[Candidate]]) -> list[exp.Expr]:
    """SELECT list ``alias <- COALESCE(candidates)`` plus the core columns every analytic keeps."""
    core = [
        exp.column(name, quoted=True).as_(name) for name in ("_time", "_cd", "host", "EventCode")
    ]
    return core + [columns.get(*names).as_(alias) for alias, names in spec.items()]


def count_table(columns: Columns) -> str:
    """What ``count`` counts in: the events, or the columns' tally."""
    return columns.tally[0] if columns.tally else EVENTS


def count(columns: Columns, value: exp.Expr | None = None) -> exp.Expr:
    """``COUNT(*)`` (``COUNT(value)``: the non-NULL values) over ``count_table``: over a tally
    (whose rows group events by every column ``value`` and the query's filter read), the sum of
    its counts (of the rows where ``value`` is not NULL)."""
    if columns.tally is None:
        return exp.Count(this=exp.Star() if value is None else value)
    weight = exp.column(columns.tally[1], quoted=True)
    if value is None:
        return exp.Sum(this=weight)
    present = exp.Not(this=exp.Is(this=value, expression=exp.Null()))
    return exp.Sum(this=exp.Case().when(present, weight).else_(exp.Literal.number(0)))


def matching(con: Any, columns: Columns, where: exp.Expr) -> exp.Expr:
    """A filter keeping the events of ``columns.table`` that ``where`` keeps, with ``where``
    tested once per distinct combination when the table names its events' combinations
    (``Columns.keys``: analytics/scan.py) and ``where`` reads only their columns (but in its
    subqueries, which read whole tables): an event passes exactly when its combination does, so
    the engine tests the few thousand combinations in place of every event, and the events are
    picked by their combination's hash. When some combinations of one hash pass and others fail
    (a collision), or nothing names the combinations, ``where`` itself."""
    keys = columns.keys
    inside = where.walk(prune=lambda node: isinstance(node, exp.Query))  # not into subqueries
    outer = {node.name for node in inside if isinstance(node, exp.Column)}
    if keys is None or not outer <= set(keys.names):
        return where
    hashed = exp.func("hash", *[exp.column(n, keys.table, quoted=True) for n in keys.names])
    # built in place (copy=False): each builder's copy of ``where`` costs more than the query
    case = exp.Case().when(where.copy(), exp.Literal.number(1), copy=False)
    passes = case.else_(exp.Literal.number(0), copy=False).as_("p", copy=False)
    each = exp.select(hashed.as_("h", copy=False), passes, copy=False)
    tested = each.from_(keys.table, copy=False).subquery("tested", copy=False)
    p, h = exp.column("p", "tested"), exp.column("h", "tested")
    verdict = exp.select(h, exp.Min(this=p).as_("every"), copy=False).from_(tested, copy=False)
    verdict = verdict.group_by(h.copy(), copy=False).having(
        exp.EQ(this=exp.Max(this=p.copy()), expression=exp.Literal.number(1)), copy=False
    )
    found = rows(con, verdict)
    if any(r["every"] != 1 for r in found):
        return where
    hashes = sorted(int(r["h"]) for r in found)
    column = exp.column(keys.hashed, quoted=True)
    return column.isin(*[exp.Literal.number(h) for h in hashes]) if hashes else exp.false()


def create_table(con: Any, name: str, query: exp.Expr) -> None:
    """``CREATE TEMPORARY TABLE name AS query`` on the connection (DDL beside ``rows``), or
    the engine connection's own form of it."""
    if isinstance(con, EngineConnection):
        con.create_table(name, query)
        return
    temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
    statement = exp.Create(
        this=exp.to_table(name), kind="TABLE", expression=query, properties=temporary
    )
    con.execute(statement.sql(dialect=DIALECT))


def view_statement(name: str, query: exp.Expr) -> str:
    """``CREATE OR REPLACE TEMPORARY VIEW name AS query``, rendered for DuckDB."""
    temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
    return exp.Create(
        this=exp.to_table(name), kind="VIEW", expression=query, replace=True, properties=temporary
    ).sql(dialect=DIALECT)


def create_view(con: Any, name: str, query: exp.Expr) -> str:
    """``CREATE OR REPLACE TEMPORARY VIEW name AS query`` on a DuckDB connection; its SQL."""
    statement = view_statement(name, query)
    con.execute(statement)
    return statement


def rows(con: Any, query: exp.Expr) -> list[dict[str, Any]]:
    """Run one sqlglot query on a DuckDB connection (or an engine's own) and return dict rows."""
    if isinstance(con, EngineConnection):
        return con.rows(query)
    cursor = con.execute(query.sql(dialect=DIALECT))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
