"""One pass over a store's events for every analytic: the few events they can use, found by
testing their filters once per distinct combination of the values those filters read.

Why: each analytic filters the events in the engine (rule_sql.py), but testing every rule's file
names, substrings and patterns on every process start, DLL load and logon, once per analytic,
made a dozen passes over the store, each costing CPU in proportion to its events. A store
repeats a few thousand combinations of EventCode, channel, image, command line, parent ... millions
of times, and a filter is a function of the columns it reads: it passes an event exactly when it
passes the event's combination of those columns.

API: ``scan(store) -> Scanned``, a store whose ``connect()`` gives one connection holding
``needed_events`` (its ``events_table``: see ``Columns.table``) and ``event_keys`` (its
``tally``: see ``_sql.count``) beside the ``events`` view. Every analytic run on it gives what it
gives on ``store``. What the analytics count over every event (visibility's counts, the address
book's logons per address and name) they add up from ``event_keys``; the network logons, join
partners of which any may be needed, they read from ``events`` (a table of them would grow with
the store), all but those a logon rule could match; the list of hosts too.

How, three statements on one connection:

1. ``event_keys``: the distinct combinations of the columns the filters of ``FILTERS`` and the
   counts of ``TALLIES`` read, over every event, each with its number of events;
2. the union of those filters, on the combinations: the EventCodes it lets through;
3. ``needed_events``: the events of those EventCodes whose combination passed (matched by a
   hash of the combination: a collision only lets in an event that the analytic's own filter
   then leaves out), with the columns the analytics read (``READS``, and each module's
   ``scan_columns``).

On a local store this process may write, steps 1 and 3 run batch by batch and each result is
kept in the store as a summary (analytics/summary.py: read back while the batch's files and the
statement are the same): ``event_keys`` is the sum of the batches' keys, the union is tested on
it (a filter may read the key table whole, so never on one batch's keys), and each batch's
``needed_events`` are its events whose combination's hash is among those that passed and that
batch holds (those hashes key its summary). The combinations that pass, by batch, are kept as a
summary of every batch's keys (keyed by their summaries' keys), so a store whose batches are all
summarised tests no filter in the scan. A batch none of whose combinations passed is not read at
all. Each batch's network logons are kept too, as the sessions' join partners
(``logons_table``: reading them from the events decodes the logon columns of every Security
event, twice a hunt); read from their summaries through a view, they take no memory. The
statements read a batch through one view name (``SOURCE``, made only when a summary is
computed), so those alike for every batch are rendered once. Any other store (an index's view of
one, object storage, another engine's) is scanned in memory in one go.

``needed_events`` holds each event's combination hash (``_hash``: the scanned store's ``keys``),
so an analytic's filter on it is tested once per combination on ``event_keys``
(``_sql.matching``).

A module's ``scan_filters(columns)`` must never be narrower than the ``WHERE`` of any query it
runs on ``Columns.table`` (a test holds findings on a scanned store to the plain store's), and
should read no column whose values are unique per event (``Message``, ``_time``), or the key table
grows with the events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sqlglot import exp

from huntbook.analytics import summary
from huntbook.analytics._sql import (
    DIALECT,
    EVENTS,
    Candidate,
    Columns,
    Keys,
    StoreLike,
    code_in,
    create_table,
    create_view,
    rows,
    view_statement,
)
from huntbook.analytics.addresses import LOGON_PAIR_FIELDS, NETWORK_FIELDS, book_reads
from huntbook.analytics.lateral_movement import EXPLICIT_FIELDS
from huntbook.analytics.lateral_movement import scan_filters as lateral_filters
from huntbook.analytics.powershell_findings import SOURCE_FIELDS
from huntbook.analytics.powershell_findings import scan_columns as powershell_columns
from huntbook.analytics.powershell_findings import scan_filters as powershell_filters
from huntbook.analytics.sessions import (
    ACTIVITY_FIELDS,
    LOGON_FIELDS,
    activity_logon_id,
    logon_select,
)
from huntbook.analytics.visibility import count_reads

KEYS = "event_keys"
COUNT = "_events"  # event_keys' count of the events of each combination
NEEDED = "needed_events"
LOGONS = "network_logons"  # every network logon, kept by batch (read by the sessions' joins)
PASSED = "passed_keys"  # the hashes (and EventCodes) of the combinations that pass, by batch
PASSING = "passing"  # the hashes (and EventCodes) of the combinations that pass
HASH = "_hash"
BATCH = "_batch"  # which batch's keys a hash was found in
SOURCE = "batch_files"  # the view over the files of the batch being summarised
HASHES = "batch_hashes"  # the hashes of the combinations that pass in the batch summarised
TEXT = exp.DataType.build("VARCHAR")  # a column ``events`` lacks
CORE = ("_time", "_cd", "host", "EventCode", "source", "sourcetype")

# the events each analytic may read row by row
FILTERS: tuple[Callable[[Columns], list[exp.Expr]], ...] = (
    lateral_filters,
    powershell_filters,
)
# what the analytics count over every event, from event_keys' counts
TALLIES: tuple[Callable[[Columns], list[exp.Expr]], ...] = (count_reads, book_reads)
# the fields the analytics' queries read of those events
READS: tuple[Mapping[str, Sequence[Candidate]], ...] = (
    LOGON_FIELDS,
    ACTIVITY_FIELDS,
    NETWORK_FIELDS,
    LOGON_PAIR_FIELDS,
    EXPLICIT_FIELDS,
    SOURCE_FIELDS,
)
# columns read in a form of their own (name -> its value in needed_events)
COLUMNS: tuple[Callable[[Columns, Sequence[str]], dict[str, exp.Expr]], ...] = (powershell_columns,)


@dataclass
class Scanned:
    """A store whose analytics read ``needed_events`` on one shared connection."""

    store: StoreLike
    con: Any
    keys: Keys  # needed_events' combinations (_sql.matching)
    events_table: str = NEEDED
    tally: tuple[str, str] = (KEYS, COUNT)  # what counts over every event read
    logons_table: str | None = None  # every network logon, when kept by batch

    def connect(self) -> Any:
        return self.con

    def fields(self) -> dict[str, str]:
        return self.store.fields()

    def columns(self) -> dict[str, str]:
        return self.store.columns()


def _names(exprs: Sequence[exp.Expr]) -> list[str]:
    """The store columns the expressions read, in a stable order."""
    found = {c.name for e in exprs for c in e.find_all(exp.Column)}
    return sorted(found)


def _hash(names: Sequence[str], table: str) -> exp.Expr:
    return exp.func("hash", *[exp.column(n, table, quoted=True) for n in names])


def _reads(columns: Columns, codes: Sequence[str]) -> dict[str, exp.Expr]:
    """Column name -> its value in ``needed_events`` (events of ``codes``): every column the
    analytics read."""
    values = [columns.get(*names) for spec in READS for names in spec.values()]
    values += [activity_logon_id(columns), *[exp.column(n, quoted=True) for n in CORE]]
    own = {name: value for fn in COLUMNS for name, value in fn(columns, codes).items()}
    plain = {n: exp.column(n, quoted=True) for n in _names(values) if n not in own}
    return {**plain, **own}


@dataclass(frozen=True)
class Plan:
    """What the scan computes: the key columns, the union of the filters (on ``event_keys``:
    a filter may read that table whole, so it is tested on the store's keys, never a batch's)
    and the store's columns."""

    keys: list[str]
    union: exp.Expr
    columns: Columns
    types: Mapping[str, exp.DataType] = field(default_factory=dict)  # column -> type in ``events``
    projections: dict[tuple[str, ...], list[exp.Expr]] = field(default_factory=dict)

    def reads(self, codes: Sequence[str]) -> list[exp.Expr]:
        """What the analytics read of the events of ``codes`` (``_reads``), built once for each
        set of EventCodes (every batch of a store has the same few)."""
        key = tuple(codes)
        if key not in self.projections:
            named = _reads(self.columns, codes).items()
            self.projections[key] = [v.as_(name, quoted=True) for name, v in named]
        return self.projections[key]


def _plan(store: StoreLike) -> Plan:
    on_keys = Columns(store.fields(), store.columns(), KEYS)
    union = exp.or_(*[f for fn in FILTERS for f in fn(on_keys)])
    keys = _names([union, *[v for fn in TALLIES for v in fn(on_keys)]])
    return Plan(keys, union, Columns.of(store))


def _keys_query(plan: Plan, source: str) -> exp.Select:
    """Each distinct combination of the keys in ``source``, with its number of events."""
    named = [exp.column(k, quoted=True) for k in plan.keys]
    counted = exp.select(*named, exp.Count(this=exp.Star()).as_(COUNT, quoted=True))
    return counted.from_(source).group_by(*named)


def _wanted(plan: Plan, codes: Sequence[str], hashed: exp.Expr) -> exp.Expr:
    return exp.and_(code_in(plan.columns, codes), hashed) if codes else exp.false()


def _needed_query(plan: Plan, codes: Sequence[str], source: str, wanted: exp.Expr) -> exp.Select:
    """The events of ``source`` that ``wanted`` keeps, with what the analytics read of them."""
    hashed = _hash(plan.keys, source).as_(HASH, quoted=True)  # its combination (_sql.matching)
    return exp.select(*plan.reads(codes), hashed).from_(source).where(wanted)


def _whole(con: Any, plan: Plan) -> None:
    """``event_keys`` and ``needed_events`` from the store's events in one go."""
    create_table(con, KEYS, _keys_query(plan, EVENTS))
    code = exp.column("EventCode", quoted=True)
    found = rows(con, exp.select(code).distinct().from_(KEYS).where(plan.union))
    codes = sorted(str(r["EventCode"]) for r in found if r["EventCode"] is not None)
    passed = exp.select(_hash(plan.keys, KEYS)).from_(KEYS).where(plan.union)
    hashed = exp.In(this=_hash(plan.keys, EVENTS), query=exp.Subquery(this=passed))
    create_table(con, NEEDED, _needed_query(plan, codes, EVENTS, _wanted(plan, codes, hashed)))


@runtime_checkable
class Batched(Protocol):
    """A local store, read batch by batch (``huntbook.store.Store``)."""

    path: Path

    def connect(self) -> Any: ...

    def fields(self) -> dict[str, str]: ...

    def columns(self) -> dict[str, str]: ...

    def manifest(self) -> Any: ...


@dataclass(frozen=True)
class Batch:
    """One committed batch as the scan reads it: its files, their identity, its table names."""

    files: list[str]
    stamp: str  # summary.stamp of the files
    keys: str  # its event_keys
    needed: str  # its needed_events
    logons: str  # its network logons
    present: frozenset[str]  # the columns its files carry

    @classmethod
    def of(cls, con: Any, store: Batched, entry: Mapping[str, Any]) -> Batch:
        files = [str(store.path / f) for f in entry["files"]]
        keys, needed, logons = (f"{part}_{entry['id']}" for part in ("keys", "needed", "logons"))
        probe = exp.select(exp.Star()).from_(_reader(files)).limit(0)
        probe = con.execute(probe.sql(dialect=DIALECT))
        present = frozenset(d[0] for d in probe.description)
        return cls(files, summary.stamp(files), keys, needed, logons, present)


def _reader(files: Sequence[str]) -> exp.Table:
    """The rows of the Parquet ``files``."""
    return exp.Table(this=exp.ReadParquet(expressions=[exp.Literal.string(f) for f in files]))


def _view(plan: Plan, batch: Batch, reads: Sequence[str]) -> str:
    """The statement making the view over one batch's files with the columns ``reads``, each of
    its type in the store's ``events`` (typed NULL where the batch has none, so every batch's
    rows hash alike): run only when a summary of the batch is computed, never when read."""
    values = [
        exp.cast(
            exp.column(c, quoted=True) if c in batch.present else exp.null(),
            plan.types.get(c, TEXT),
        ).as_(c, quoted=True)
        for c in reads
    ]
    return view_statement(SOURCE, exp.select(*values).from_(_reader(batch.files)))


def _batch_kept(
    con: Any,
    plan: Plan,
    batch: Batch,
    where: Path | None,
    tables: Mapping[str, summary.Statement],
) -> dict[str, str]:
    """Each of ``tables`` (name -> its statement over ``SOURCE``) from its summary when kept,
    else computed on the view of the batch's files with every column they read (made then);
    name -> its summary's key."""
    view = _view(plan, batch, _names([s.query for s in tables.values()]))
    return {
        name: summary.kept(con, where, batch.stamp + view, name, statement, [view])
        for name, statement in tables.items()
    }


def _first_pass(con: Any, plan: Plan, batches: Sequence[Batch], where: Path | None) -> str:
    """Each batch's ``event_keys`` and its network logons (the join partners of the sessions'
    activity, any of which may be needed), two statements the same for every batch; what
    identifies every batch's keys (their summaries' keys)."""
    keys = summary.Statement.of(_keys_query(plan, SOURCE))
    logons = summary.Statement.of(logon_select(plan.columns, SOURCE))
    made = [
        _batch_kept(con, plan, batch, where, {batch.keys: keys, batch.logons: logons})[batch.keys]
        for batch in batches
    ]
    return "\n".join(made)


@dataclass
class Needed:
    """The statement of each batch's ``needed_events`` for each set of EventCodes: the same for
    every batch of that set (it reads the batch's hashes from ``HASHES``), so rendered once."""

    statements: dict[tuple[str, ...], summary.Statement] = field(default_factory=dict)

    def statement(self, plan: Plan, codes: tuple[str, ...]) -> summary.Statement:
        if codes not in self.statements:
            hashed = _hash(plan.keys, SOURCE).isin(query=exp.select(HASH).from_(HASHES))
            query = _needed_query(plan, codes, SOURCE, _wanted(plan, codes, hashed))
            self.statements[codes] = summary.Statement.of(query)
        return self.statements[codes]


def _batch_needed(
    con: Any,
    plan: Plan,
    batch: Batch,
    where: Path | None,
    found: Sequence[Mapping[str, Any]],
    needed: Needed,
) -> bool:
    """The batch's ``needed_events``: its events whose combination passed the filters on the
    store's keys (``found``: the hashes of those the batch holds, with their EventCodes), matched
    by those hashes (read from ``PASSED`` through ``HASHES``; the hashes key its summary, so it
    stays valid while they do, whatever other batches come and go); False when the batch has
    none."""
    if not found:
        return False
    codes = tuple(sorted({str(r["EventCode"]) for r in found if r["EventCode"] is not None}))
    statement = needed.statement(plan, codes)
    view = _view(plan, batch, sorted({*plan.keys, *_names(plan.reads(codes))}))
    mine = exp.EQ(this=exp.column(BATCH), expression=exp.Literal.string(batch.keys))
    hashes = view_statement(HASHES, exp.select(HASH).from_(PASSED).where(mine))
    basis = "\n".join([batch.stamp + view, *sorted(str(r[HASH]) for r in found)])
    summary.kept(con, where, basis, batch.needed, statement, [view, hashes])
    return True


def _passed_by_batch(
    con: Any, plan: Plan, batches: Sequence[Batch], where: Path, basis: str
) -> dict[str, list[Any]]:
    """Batch keys table -> the hashes (with their EventCodes) of the combinations that pass the
    filters (tested on ``event_keys``) and that batch holds: one statement over every batch's
    keys, kept as a summary of theirs (``basis``: their keys), so a store whose batches are all
    summarised tests no filter here."""
    mine = _all(
        [
            exp.select(
                exp.Literal.string(b.keys).as_(BATCH), _hash(plan.keys, b.keys).as_(HASH)
            ).from_(b.keys)
            for b in batches
        ]
    ).subquery("mine")
    hashed = _hash(plan.keys, KEYS).as_(HASH)
    passing = exp.select(hashed, exp.column("EventCode", quoted=True)).from_(KEYS)
    tested = passing.where(plan.union).subquery(PASSING)
    same = exp.EQ(this=exp.column(HASH, "mine"), expression=exp.column(HASH, PASSING))
    query = (
        exp.select(
            exp.column(BATCH, "mine"), exp.column(HASH, PASSING), exp.column("EventCode", PASSING)
        )
        .distinct()
        .from_(mine)
        .join(tested, on=same)
    )
    summary.kept(con, where, basis, PASSED, query)
    found: dict[str, list[Any]] = {b.keys: [] for b in batches}
    for row in rows(con, exp.select(exp.Star()).from_(PASSED)):
        found[row[BATCH]].append(row)
    return found


def _stacked(tables: Sequence[str]) -> exp.Query:
    """Every row of the tables (of the same columns), one after the other."""
    return _all([exp.select(exp.Star()).from_(t) for t in tables])


def _all(each: Sequence[exp.Query]) -> exp.Query:
    """Every row of the queries (of the same columns), one after the other."""
    return reduce(lambda a, b: exp.union(a, b, distinct=False, copy=False), each[1:], each[0])


def _by_batch(con: Any, store: Batched, plan: Plan, where: Path) -> None:
    """``event_keys`` and ``needed_events`` put together from each batch's scan."""
    described = rows(con, exp.Describe(this=exp.to_table(EVENTS)))
    types = {str(r["column_name"]): str(r["column_type"]) for r in described}
    plan = replace(
        plan, types={c: exp.DataType.build(t, dialect=DIALECT) for c, t in types.items()}
    )
    batches = [Batch.of(con, store, entry) for entry in store.manifest()["batches"]]
    basis = _first_pass(con, plan, batches, where)
    named = [exp.column(k, quoted=True) for k in plan.keys]
    total = exp.Sum(this=exp.column(COUNT, quoted=True)).as_(COUNT, quoted=True)
    every = _stacked([b.keys for b in batches]).subquery()
    create_table(con, KEYS, exp.select(*named, total).from_(every).group_by(*named))
    passed = _passed_by_batch(con, plan, batches, where, basis)
    each = Needed()
    needed = [b.needed for b in batches if _batch_needed(con, plan, b, where, passed[b.keys], each)]
    create_view(con, LOGONS, _stacked([b.logons for b in batches]))
    if not needed:
        create_table(con, NEEDED, _needed_query(plan, [], EVENTS, exp.false()))
        return
    create_table(con, NEEDED, _stacked(needed))


def scan(store: StoreLike, summaries: Path | None = None) -> Scanned:
    """Find the events the analytics can use, in one pass over the store's events; with
    ``summaries`` (the folder of a local store's summaries, which only the caller can tell is
    one: huntbook.hunts.findings.summaries), batch by batch from and into its summaries
    (analytics/summary.py)."""
    con = store.connect()
    plan = _plan(store)
    keys = Keys(KEYS, tuple(plan.keys), HASH)
    if summaries is None or not isinstance(store, Batched) or not store.manifest()["batches"]:
        _whole(con, plan)
        return Scanned(store, con, keys)
    _by_batch(con, store, plan, summaries)
    return Scanned(store, con, keys, logons_table=LOGONS)
