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

A module's ``scan_filters(columns)`` must never be narrower than the ``WHERE`` of any query it
runs on ``Columns.table`` (a test holds findings on a scanned store to the plain store's), and
should read no column whose values are unique per event (``Message``, ``_time``), or the key table
grows with the events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import (
    EVENTS,
    Candidate,
    Columns,
    StoreLike,
    cache_footers,
    code_in,
    create_table,
    rows,
)
from huntbook.analytics.addresses import LOGON_PAIR_FIELDS, NETWORK_FIELDS, book_reads
from huntbook.analytics.lateral_movement import EXPLICIT_FIELDS
from huntbook.analytics.lateral_movement import scan_filters as lateral_filters
from huntbook.analytics.powershell_findings import SOURCE_FIELDS
from huntbook.analytics.powershell_findings import scan_columns as powershell_columns
from huntbook.analytics.powershell_findings import scan_filters as powershell_filters
from huntbook.analytics.sessions import ACTIVITY_FIELDS, LOGON_FIELDS, activity_logon_id
from huntbook.analytics.visibility import count_reads

KEYS = "event_keys"
COUNT = "_events"  # event_keys' count of the events of each combination
NEEDED = "needed_events"
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
    events_table: str = NEEDED
    tally: tuple[str, str] = (KEYS, COUNT)  # what counts over every event read

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


def scan(store: StoreLike) -> Scanned:
    """Find the events the analytics can use, in one pass over the store's events."""
    con = cache_footers(store.connect())
    on_keys = Columns(store.fields(), store.columns(), KEYS)
    union = exp.or_(*[f for fn in FILTERS for f in fn(on_keys)])
    keys = _names([union, *[v for fn in TALLIES for v in fn(on_keys)]])
    named = [exp.column(k, quoted=True) for k in keys]
    counted = exp.select(*named, exp.Count(this=exp.Star()).as_(COUNT, quoted=True))
    create_table(con, KEYS, counted.from_(EVENTS).group_by(*named))
    code = exp.column("EventCode", quoted=True)
    found = rows(con, exp.select(code).distinct().from_(KEYS).where(union))
    codes = sorted(str(r["EventCode"]) for r in found if r["EventCode"] is not None)
    passed = exp.select(_hash(keys, KEYS)).from_(KEYS).where(union)
    hashed = exp.In(this=_hash(keys, EVENTS), query=exp.Subquery(this=passed))
    columns = Columns.of(store)
    wanted = exp.and_(code_in(columns, codes), hashed) if codes else exp.false()
    reads = [value.as_(name, quoted=True) for name, value in _reads(columns, codes).items()]
    create_table(con, NEEDED, exp.select(*reads).from_(EVENTS).where(wanted))
    return Scanned(store, con)
