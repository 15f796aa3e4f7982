"""The lateral-movement graph: who reached which host, as whom, how, when, and on what evidence.

API (stable): ``find_lateral_movement(store, skew=None) -> list[Edge]`` in time order (first_seen).
``Edge.to_dict()`` has ``source``, ``source_ip``, ``destination``, ``account``, ``method``,
``attack``, ``first_seen``, ``last_seen`` (ISO-8601 UTC), ``logon_ids`` and ``evidence`` (events
as ``{_time, host, EventCode, _cd, <summary fields>}``, time order).

How: every network logon session (:mod:`huntbook.analytics.sessions`) is tested against the method
rules of ``methods.yaml`` (:mod:`huntbook.analytics.methods`): rules over the session's own events,
over events on the destination host shortly after the logon (services, DCOM, tasks run outside the
session), and over the logon itself (RDP). A method with at least one anchor rule matched gives the
session an edge ``source -> host``; the evidence is the 4624, the connection that named the source
(when the logon had no address) and every matched event. A host reaching itself is local use, not
movement, and is dropped (so is a logon over loopback), except for methods marked ``self_edges``
(RDP arriving over a loopback tunnel, whose source is then "unresolved source 127.0.0.1").
Edges with the same source, destination, account and method merge. A 4648 (explicit credentials)
on a source naming another machine joins the edge from that source to that machine, or stands as
an edge of its own.

The source is the host that owns the logon's address in the data (``addresses.py``); when nothing
owns it, ``source`` is the address itself; with no address at all, "unresolved source" (never a
host called "unknown"). ``source_kind`` says which: host, address, unresolved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import (
    Candidate,
    Columns,
    StoreLike,
    code_in,
    is_sysmon,
    not_sysmon,
    rows,
    text,
)
from huntbook.analytics.addresses import (
    AddressBook,
    network_where,
    normalize_ip,
    short_host,
)
from huntbook.analytics.evidence import Evidence, iso, unique_sorted
from huntbook.analytics.kinds import extra_kinds, kind_sql, planted_sql, written_by_system
from huntbook.analytics.methods import Method, MethodTable, Rule, load_methods
from huntbook.analytics.rule_sql import any_rule, engine_pattern, name_tests
from huntbook.analytics.sessions import (
    ACTIVITY_FIELDS,
    LOGON_FIELDS,
    Activity,
    Focus,
    Session,
    SessionContext,
    activity_filter,
    logon_where,
    pair_with_logons,
    seconds_after_logon,
    session_context,
    to_activity,
)
from huntbook.analytics.traces import AddEdge, add_connections, add_traces, trace_filter

EXPLICIT_FIELDS: dict[str, list[Candidate]] = {
    "TargetServerName": ["TargetServerName", "Target_Server_Name"],
    "TargetUserName": ["TargetUserName", ("Account_Name", -1)],
    "SubjectUserName": ["SubjectUserName", ("Account_Name", 1)],
    "ProcessName": ["ProcessName", "Process_Name"],
}
UNRESOLVED = "unresolved source"
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "-", ""}


@dataclass(frozen=True)
class Edge:
    """One arrow of the graph: ``source`` reached ``destination`` as ``account`` by ``method``."""

    source: str
    source_ip: str | None
    destination: str
    account: str | None
    method: str
    attack: str
    confidence: str
    first_seen: float
    last_seen: float
    logon_ids: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    @property
    def source_kind(self) -> str:
        """``host`` (a name), ``address`` (an address no host owns) or ``unresolved``."""
        if self.source.startswith(UNRESOLVED):
            return "unresolved"
        return "address" if normalize_ip(self.source) else "host"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_ip": self.source_ip,
            "destination": self.destination,
            "account": self.account,
            "method": self.method,
            "attack": self.attack,
            "confidence": self.confidence,
            "source_kind": self.source_kind,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "logon_ids": list(self.logon_ids),
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class _Draft:
    """An edge while evidence is still being gathered."""

    source: str
    source_ip: str | None
    destination: str
    account: str | None
    method: Method
    logon_ids: list[str]
    evidence: list[Evidence]
    confidence: list[str]

    def freeze(self, ranks: tuple[str, ...]) -> Edge:
        evidence = unique_sorted(self.evidence)
        return Edge(
            self.source,
            self.source_ip,
            self.destination,
            self.account,
            self.method.name,
            self.method.attack,
            min(self.confidence, key=ranks.index),
            evidence[0].time,
            evidence[-1].time,
            tuple(dict.fromkeys(self.logon_ids)),
            evidence,
        )


def _rules(table: MethodTable, scope: str) -> list[Rule]:
    return [r for m in table.methods for r in m.rules if r.scope == scope]


def _nearby_filter(columns: Columns, table: MethodTable) -> exp.Expr:
    """Events that a nearby rule could match: service installs, task creations and process
    starts, each only when some nearby rule could match it (decided in the engine)."""
    process = exp.or_(
        exp.and_(code_in(columns, ["1"]), is_sysmon(columns)),
        exp.and_(code_in(columns, ["4688"]), not_sysmon(columns)),
    )
    others = exp.and_(code_in(columns, ["7045", "4697", "4698"]), not_sysmon(columns))
    fits = any_rule(columns, _rules(table, "nearby"), ACTIVITY_FIELDS)
    return exp.or_(exp.and_(exp.or_(process, others), fits), _nearby_kinds(columns, table))


def _nearby_kinds(columns: Columns, table: MethodTable) -> exp.Expr:
    """Events of the extra kinds (kinds.py) that a nearby rule could match, with its names and
    patterns tested in the engine (DLL loads and registry writes are many)."""
    tests = [
        exp.and_(
            kind_sql(columns, r.event),
            *name_tests(columns, r, ACTIVITY_FIELDS),
            *_patterns(columns, r),
            *([planted_sql(columns)] if r.planted else []),
        )
        for r in _rules(table, "nearby")
        if r.event in extra_kinds()
    ]
    return exp.or_(*tests) if tests else exp.false()


def _patterns(columns: Columns, rule: Rule) -> list[exp.Expr]:
    """The rule's patterns RE2 reads as Python does (the others are left to Python)."""
    tests: list[exp.Expr] = []
    for name, pattern in rule.patterns:
        engine = engine_pattern(pattern.pattern)
        if engine is None:
            continue
        value = exp.Coalesce(this=columns.lower(*ACTIVITY_FIELDS[name]), expressions=[text("")])
        tests.append(exp.RegexpLike(this=value, expression=text(engine)))
    return tests


def _focus(columns: Columns, table: MethodTable, nearby: Mapping[int, Any]) -> Focus:
    """The sessions a rule can give an edge: those with activity a session rule could match, a
    logon a logon rule could match, or an event a nearby rule could match."""
    return Focus(
        activity=any_rule(columns, _rules(table, "session"), ACTIVITY_FIELDS),
        logons=any_rule(columns, _rules(table, "logon"), LOGON_FIELDS, "LogonType"),
        logon_cds=frozenset(nearby),
    )


def _nearby(
    con: Any, columns: Columns, table: MethodTable
) -> dict[int, list[tuple[float, Activity]]]:
    """Candidate nearby events per logon ``_cd``, each with its delay after the logon."""
    condition = exp.and_(
        exp.GTE(this=exp.column("_time", "act"), expression=seconds_after_logon(-table.skew)),
        exp.LTE(this=exp.column("_time", "act"), expression=seconds_after_logon(table.max_window)),
    )
    found: dict[int, list[tuple[float, Activity]]] = defaultdict(list)
    for row in pair_with_logons(con, columns, _nearby_filter(columns, table), condition):
        found[row["logon_cd"]].append((row["_time"] - row["logon_time"], to_activity(row)))
    return found


def _source(session: Session) -> str:
    """The host the session came from, its address, or "unresolved source" (with the loopback
    address a tunnel hid it behind); never a made-up host name."""
    if session.loopback:
        return f"{UNRESOLVED} {session.logon.fields.get('IpAddress')}"
    return session.source_label or UNRESOLVED


def _matches(
    method: Method,
    rule: Rule,
    session: Session,
    nearby: list[tuple[float, Activity]],
    table: MethodTable,
) -> list[Evidence]:
    """The events of one session that satisfy one rule."""
    if rule.scope == "logon":
        fits = rule.matches_logon(session.logon_type, session.loopback)
        return [session.logon] if fits and rule.matches(Activity("logon", session.logon)) else []
    if rule.scope == "session":
        return [a.evidence for a in session.activity if rule.matches(a)]
    if rule.scope != "nearby" or table.nearby_ignored(session.account):
        return []
    return [a.evidence for delay, a in nearby if delay <= method.window and rule.matches(a)]


def _session_edges(
    session: Session, nearby: list[tuple[float, Activity]], table: MethodTable
) -> list[_Draft]:
    """The methods one session shows; a host reaching itself (or a logon over loopback) only
    counts for ``self_edges`` methods (an RDP tunnel), not for local use of WMI or services."""
    drafts = []
    for method in table.methods:
        anchors: list[Evidence] = []
        support: list[Evidence] = []
        sure: list[str] = []
        for rule in method.rules:
            found = _matches(method, rule, session, nearby, table)
            (anchors if rule.anchor else support).extend(found)
            sure += (
                [rule.confidence or table.confidence[rule.scope]] if found and rule.anchor else []
            )
        source = _source(session)
        local = session.loopback or source.lower() == session.host.lower()
        if not anchors or (local and not method.self_edges):
            continue
        evidence = [session.logon, *session.source_evidence, *anchors, *support]
        drafts.append(
            _Draft(
                source,
                session.source_ip
                or (session.logon.fields.get("IpAddress") if session.loopback else None),
                session.host,
                session.account,
                method,
                [session.logon_id],
                evidence,
                sure,
            )
        )
    return drafts


def _merge(drafts: list[_Draft]) -> dict[tuple[str, ...], _Draft]:
    merged: dict[tuple[str, ...], _Draft] = {}
    for d in drafts:
        key = (d.source.lower(), d.destination.lower(), (d.account or "").lower(), d.method.name)
        if key not in merged:
            merged[key] = d
            continue
        merged[key].evidence.extend(d.evidence)
        merged[key].logon_ids.extend(d.logon_ids)
        merged[key].confidence.extend(d.confidence)
        merged[key].source_ip = merged[key].source_ip or d.source_ip
    return merged


def _explicit_where(columns: Columns) -> exp.Expr:
    """4648s naming another machine (one naming this machine, ``localhost`` or none is no
    move: left out in the engine)."""
    server = columns.lower(*EXPLICIT_FIELDS["TargetServerName"])
    named = exp.Coalesce(this=server, expressions=[exp.Literal.string("")])
    remote = exp.Not(this=named.isin(*[exp.Literal.string(n) for n in sorted(LOCAL_NAMES)]))
    return exp.and_(code_in(columns, ["4648"]), not_sysmon(columns), remote)


def _explicit_rows(con: Any, columns: Columns) -> list[dict[str, Any]]:
    fields = [columns.get(*names).as_(alias) for alias, names in EXPLICIT_FIELDS.items()]
    core = [exp.column(n, quoted=True).as_(n) for n in ("_time", "_cd", "host", "EventCode")]
    query = exp.select(*core, *fields).from_(columns.table).where(_explicit_where(columns))
    return rows(con, query.order_by("_time", "_cd"))


def scan_filters(columns: Columns) -> list[exp.Expr]:
    """Every event ``find_lateral_movement`` may read row by row from ``Columns.table``, as
    filters whose union is never narrower than its queries' (for :mod:`huntbook.analytics.scan`;
    the network logons are read from the events but for those a logon rule could match, the
    address book's counts from the tally)."""
    table = load_methods()
    focus = _focus(columns, table, {})
    return [
        exp.and_(activity_filter(columns), focus.activity),
        exp.and_(logon_where(columns), focus.logons),
        _nearby_filter(columns, table),
        written_by_system(columns),  # what the nearby rules' ``planted`` test reads
        trace_filter(columns, table),
        network_where(columns),
        _explicit_where(columns),
    ]


def _server(name: str | None, book: AddressBook) -> str | None:
    """The machine a 4648 names (``WORKSTATION6$``, ``ws6.corp.local``, an address) as a host."""
    raw = (name or "").strip().rstrip("$")
    if raw.lower() in LOCAL_NAMES:
        return None
    return book.host_for(raw) or book.canonical(short_host(raw))


def _add_explicit(
    merged: dict[tuple[str, ...], _Draft], ctx: SessionContext, table: MethodTable
) -> None:
    """Attach each remote 4648 to a matching edge, or make it an edge of its own."""
    for row in _explicit_rows(ctx.con, ctx.columns):
        source = ctx.book.canonical(row["host"])
        destination = _server(row["TargetServerName"], ctx.book)
        if destination is None or destination.lower() == source.lower():
            continue
        evidence = Evidence.from_row(row, tuple(EXPLICIT_FIELDS))
        account = row["TargetUserName"]
        host_match = [
            d
            for d in merged.values()
            if d.source.lower() == source.lower()
            and d.destination.lower() == destination.lower()
            and any(abs(e.time - evidence.time) <= table.explicit.window for e in d.evidence)
        ]
        if host_match:
            for d in host_match:
                d.evidence.append(evidence)
            continue
        key = (source.lower(), destination.lower(), (account or "").lower(), table.explicit.name)
        draft = merged.setdefault(
            key,
            _Draft(
                source, None, destination, account, table.explicit, [], [], [table.explicit_sure]
            ),
        )
        draft.evidence.append(evidence)


def _refine(merged: dict[tuple[str, ...], _Draft]) -> None:
    """An edge of a method that ``refines`` others takes in their edges on the same route (the
    same move, told more precisely: renamed PsExec is a PsExec/service edge with its pipes)."""
    for key, draft in list(merged.items()):
        if key not in merged:
            continue
        route = (draft.source.lower(), draft.destination.lower())
        for other_key, other in list(merged.items()):
            if other.method.name not in draft.method.refines or other_key == key:
                continue
            if (other.source.lower(), other.destination.lower()) == route:
                draft.evidence.extend(other.evidence)
                draft.logon_ids.extend(other.logon_ids)
                draft.confidence.extend(other.confidence)
                del merged[other_key]


def _cd(session: Session) -> int:
    return session.logon.cd if session.logon.cd is not None else -1


def _adder(merged: dict[tuple[str, ...], _Draft]) -> AddEdge:
    """Join a trace to an edge of the same method between the same hosts, or add an edge."""

    def add(
        source: str,
        source_ip: str | None,
        destination: str,
        account: str | None,
        method: Method,
        evidence: list[Evidence],
        confidence: str,
    ) -> None:
        route = (source.lower(), destination.lower())
        same = [d for d in merged.values() if (d.source.lower(), d.destination.lower()) == route]
        draft = next((d for d in same if d.method.name == method.name), None)
        if draft is None:
            key = (*route, (account or "").lower(), method.name)
            draft = merged.setdefault(
                key, _Draft(source, source_ip, destination, account, method, [], [], [])
            )
        draft.evidence.extend(evidence)
        draft.confidence.append(confidence)
        draft.account = draft.account or account  # a later event may name who moved

    return add


def find_lateral_movement(store: StoreLike, skew: float | None = None) -> list[Edge]:
    """Lateral-movement edges found in the store, ordered by first_seen."""
    table = load_methods()
    columns, con = Columns.of(store), store.connect()
    nearby = _nearby(con, columns, table)
    focus = _focus(columns, table, nearby)
    ctx = session_context(store, table.skew if skew is None else skew, focus, con)
    drafts = [d for s in ctx.sessions for d in _session_edges(s, nearby.get(_cd(s), []), table)]
    merged = _merge(drafts)
    claimed = {e.key for d in merged.values() for e in d.evidence}
    add = _adder(merged)
    add_traces(ctx, table, claimed, add)
    add_connections(ctx, table, add)
    _add_explicit(merged, ctx, table)
    _refine(merged)
    edges = [d.freeze(table.ranks) for d in merged.values() if d.evidence]
    return sorted(edges, key=lambda e: (e.first_seen, e.source, e.destination, e.method))
