"""Network logon sessions and what ran inside them.

API (stable): ``logon_sessions(store, skew=SKEW_SECONDS) -> list[Session]``.

A session is a 4624 network logon (``LogonType`` 3, or 10 for RDP) on a host, joined to the events
of the same logon session on the same host:

- Sysmon 1 by ``LogonId``;
- 4688 by the new process's logon id: ``TargetLogonId`` (4688 version 2) unless it is ``0x0``,
  else ``SubjectLogonId`` (children started inside the session carry it as subject; 4688 version 1
  has no ``TargetLogonId`` at all, windows-data.md item 8). Classic text: ``Logon_ID`` = [subject,
  target];
- 4697 (service installed), 4698/4702 (scheduled task created/changed) and 5145 (a file of a
  share opened for writing) by ``SubjectLogonId``.

Logon ids are compared lower-cased (classic text has ``0x3E7``, Sysmon ``0x3e7``; item 9).

Clock skew: channels are stamped by different writers, and a WMI child can be stamped about a
second *before* the 4624 that opened its session (item 7). An event therefore joins a logon when it
is no more than ``skew`` seconds (default ``SKEW_SECONDS`` = 5) earlier than the logon. A logon id
reused after a reboot matches several logons; each event joins the latest logon it may belong to.

The session's source is resolved through :mod:`huntbook.analytics.addresses`: its ``IpAddress``
(or ``Source_Network_Address``), else its ``WorkstationName``; a logon without either (WinRM over
Kerberos logs ``-``) takes the peer of the inbound connection to the host closest to the logon
within ``skew`` seconds, and keeps that connection as evidence.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import (
    EVENTS,
    Candidate,
    Columns,
    StoreLike,
    code_in,
    is_sysmon,
    matching,
    not_sysmon,
    rows,
    text,
)
from huntbook.analytics.addresses import (
    AddressBook,
    Connection,
    address_book,
    connections,
    normalize_ip,
    short_host,
    usable_ip,
)
from huntbook.analytics.aliases import aliases
from huntbook.analytics.evidence import Evidence, iso
from huntbook.analytics.kinds import kind_of

SKEW_SECONDS = 5.0
NETWORK_LOGON_TYPES = ("3", "10")
SESSION_CODES = {
    "4688": "process",
    "4697": "service",
    "4698": "task",
    "4702": "task",
    "5145": "share",
}
# 5145 joins a session only when it wrote: WriteData/AddFile is %%4417 in EVTX, words in classic
SHARE_WRITE = ("%%4417", "writedata")
KIND_OF = {"1": "process", "7045": "service", **SESSION_CODES}

LOGON_FIELDS: dict[str, list[Candidate]] = {
    "TargetLogonId": ["TargetLogonId", ("Logon_ID", -1)],
    "LogonType": ["LogonType", "Logon_Type"],
    "TargetUserName": ["TargetUserName", ("Account_Name", -1)],
    "TargetDomainName": ["TargetDomainName", ("Account_Domain", -1)],
    "IpAddress": ["IpAddress", "Source_Network_Address"],
    "WorkstationName": ["WorkstationName", "Workstation_Name"],
    "AuthenticationPackageName": ["AuthenticationPackageName", "Authentication_Package"],
    "LogonProcessName": ["LogonProcessName", "Logon_Process"],
    "KeyLength": ["KeyLength", "Key_Length"],
}
ACTIVITY_FIELDS: dict[str, list[Candidate]] = aliases(
    "Image",
    "ParentImage",
    "CommandLine",
    "ParentCommandLine",
    "User",
    "ProcessId",
    "ServiceName",
    "ServiceFileName",
    "TaskName",
    "TaskContent",
    "ShareName",
    "RelativeTargetName",
    "AccessList",
    "ImageLoaded",
    "Signed",
    "TargetFilename",
    "TargetObject",
    "ServiceDisplayName",
    "RdpAddress",
    "RdpUser",
)
LOGON_KEEP = tuple(LOGON_FIELDS)
ACTIVITY_KEEP = (*ACTIVITY_FIELDS, "LogonId")


@dataclass(frozen=True)
class Activity:
    """An event inside (or near) a session: a process start, a service install, a task creation."""

    kind: str
    evidence: Evidence

    def get(self, name: str) -> str | None:
        return self.evidence.fields.get(name)

    @property
    def time(self) -> float:
        return self.evidence.time


@dataclass(frozen=True)
class Session:
    """One network logon on ``host`` and the activity of its logon session."""

    host: str
    logon_id: str
    logon_type: str
    account: str | None
    domain: str | None
    source_ip: str | None
    workstation: str | None
    source: str | None
    start: float
    logon: Evidence
    activity: tuple[Activity, ...] = ()
    source_evidence: tuple[Evidence, ...] = ()
    loopback: bool = False

    @property
    def processes(self) -> tuple[Activity, ...]:
        return tuple(a for a in self.activity if a.kind == "process")

    @property
    def source_label(self) -> str | None:
        """The resolved source host, else the bare address."""
        return self.source or self.source_ip

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "logon_id": self.logon_id,
            "logon_type": self.logon_type,
            "account": self.account,
            "domain": self.domain,
            "source": self.source_label,
            "source_ip": self.source_ip,
            "workstation": self.workstation,
            "start": iso(self.start),
            "logon": self.logon.to_dict(),
            "activity": [{"kind": a.kind, **a.evidence.to_dict()} for a in self.activity],
            "source_evidence": [e.to_dict() for e in self.source_evidence],
            "loopback": self.loopback,
        }


def activity_logon_id(columns: Columns) -> exp.Expr:
    """The logon session an activity event belongs to (lower-cased), per event type."""
    subject = columns.lower("SubjectLogonId", ("Logon_ID", 1))
    target = exp.Nullif(
        this=columns.lower("TargetLogonId", ("Logon_ID", -1)), expression=text("0x0")
    )
    process_4688 = exp.Coalesce(this=target, expressions=[subject])
    return (
        exp.Case()
        .when(exp.and_(code_in(columns, ["1"]), is_sysmon(columns)), columns.lower("LogonId"))
        .when(code_in(columns, ["4688"]), process_4688)
        .else_(subject)
    )


def activity_filter(columns: Columns) -> exp.Expr:
    access = columns.lower(*ACTIVITY_FIELDS["AccessList"])
    wrote = exp.or_(*[exp.Like(this=access, expression=text(f"%{w}%")) for w in SHARE_WRITE])
    share = exp.or_(exp.Not(this=code_in(columns, ["5145"])), wrote)
    return exp.or_(
        exp.and_(code_in(columns, ["1"]), is_sysmon(columns)),
        exp.and_(code_in(columns, list(SESSION_CODES)), not_sysmon(columns), share),
    )


def activity_select(columns: Columns, where: exp.Expr) -> exp.Select:
    """Activity rows with their canonical field names, the session id ``LogonId`` and ``source``
    (the channel, which tells event kinds with the same EventCode apart: kinds.py)."""
    fields = [columns.get(*names).as_(alias) for alias, names in ACTIVITY_FIELDS.items()]
    core = [exp.column(n, quoted=True).as_(n) for n in ("_time", "_cd", "host", "EventCode")]
    core.append(columns.get("source").as_("source"))
    return (
        exp.select(*core, *fields, activity_logon_id(columns).as_("LogonId"))
        .from_(columns.table)
        .where(where)
    )


def logon_where(columns: Columns) -> exp.Expr:
    """Network logons: 4624 of a type in ``NETWORK_LOGON_TYPES``."""
    return exp.and_(
        code_in(columns, ["4624"]),
        not_sysmon(columns),
        columns.get("LogonType", "Logon_Type").isin(*[text(t) for t in NETWORK_LOGON_TYPES]),
    )


def logon_select(columns: Columns, table: str = EVENTS) -> exp.Select:
    """Network logons, read from the store's events unless ``table`` says otherwise: they are
    join partners, each possibly needed, and a table holding them all (``columns.table``, see
    analytics/scan.py) would grow with the store."""
    fields = [columns.get(*names).as_(alias) for alias, names in LOGON_FIELDS.items()]
    core = [exp.column(n, quoted=True).as_(n) for n in ("_time", "_cd", "host", "EventCode")]
    return exp.select(*core, *fields).from_(table).where(logon_where(columns))


def network_logons(columns: Columns) -> exp.Select:
    """Every network logon (``logon_select``'s columns): from the table of them the scan kept
    (``Columns.logons``: analytics/scan.py), else from the store's events."""
    if columns.logons is None:
        return logon_select(columns)
    return exp.select(exp.Star()).from_(columns.logons)


def pair_with_logons(
    con: Any, columns: Columns, where: exp.Expr, condition: exp.Expr
) -> list[dict[str, Any]]:
    """Activity rows matching ``where``, paired with each network logon on the same host for
    which ``condition`` (over the tables ``act`` and ``logon``) holds.

    Adds ``logon_cd`` and ``logon_time`` to each row."""
    same_host = exp.EQ(
        this=exp.Lower(this=exp.column("host", "act")),
        expression=exp.Lower(this=exp.column("host", "logon")),
    )
    query = (
        exp.select(
            exp.Column(this=exp.Star(), table=exp.to_identifier("act")),
            exp.column("_cd", "logon").as_("logon_cd"),
            exp.column("_time", "logon").as_("logon_time"),
        )
        .from_("act")
        .join("logon", on=exp.and_(same_host, condition))
        .with_("logon", as_=network_logons(columns))
        .with_("act", as_=activity_select(columns, matching(con, columns, where)))
    )
    return rows(con, query)


def seconds_after_logon(offset: float) -> exp.Expr:
    """``logon._time + offset`` (offset may be negative)."""
    return exp.Add(this=exp.column("_time", "logon"), expression=exp.Literal.number(offset))


def _joined_activity(
    con: Any, columns: Columns, skew: float, where: exp.Expr
) -> list[dict[str, Any]]:
    """Activity rows matching ``where`` paired with every network logon whose session id they
    carry."""
    condition = exp.and_(
        exp.EQ(
            this=exp.column("LogonId", "act"),
            expression=exp.Lower(this=exp.column("TargetLogonId", "logon")),
        ),
        exp.GTE(this=exp.column("_time", "act"), expression=seconds_after_logon(-skew)),
    )
    return pair_with_logons(con, columns, where, condition)


def to_activity(row: Mapping[str, Any]) -> Activity:
    kind = kind_of(row) or KIND_OF.get(row["EventCode"], "other")
    return Activity(kind, Evidence.from_row(row, ACTIVITY_KEEP))


def _assign(joined: list[dict[str, Any]]) -> dict[int, list[Activity]]:
    """Each activity row to the latest logon it may belong to, grouped by logon ``_cd``."""
    best: dict[Any, dict[str, Any]] = {}
    for row in joined:
        current = best.get(row["_cd"])
        if current is None or row["logon_time"] > current["logon_time"]:
            best[row["_cd"]] = row
    grouped: dict[int, list[Activity]] = defaultdict(list)
    for row in sorted(best.values(), key=lambda r: (r["_time"], r["_cd"])):
        grouped[row["logon_cd"]].append(to_activity(row))
    return grouped


class InboundIndex:
    """Inbound connections per host in time order, so a logon finds its peer by bisection."""

    def __init__(self, conns: list[Connection]) -> None:
        self.by_host: dict[str, list[Connection]] = defaultdict(list)
        for c in sorted(conns, key=lambda c: c.time):
            if c.direction == "in" and usable_ip(c.remote_ip):
                self.by_host[c.host.lower()].append(c)
        self.times = {h: [c.time for c in cs] for h, cs in self.by_host.items()}

    def near(self, host: str, t: float, skew: float) -> list[Connection]:
        key = short_host(host).lower()
        times = self.times.get(key, [])
        lo, hi = bisect.bisect_left(times, t - skew), bisect.bisect_right(times, t + skew)
        return self.by_host[key][lo:hi] if times else []


def _peer(
    row: Mapping[str, Any], inbound: InboundIndex, book: AddressBook, skew: float
) -> Connection | None:
    """The inbound connection nearest a logon on its host, for logons without an address."""
    t = float(row["_time"])
    own = book.canonical(row["host"])
    candidates = [
        c for c in inbound.near(row["host"], t, skew) if book.host_for(c.remote_ip) != own
    ]
    return min(candidates, key=lambda c: abs(c.time - t), default=None)


def _is_loopback(text: str | None) -> bool:
    norm = normalize_ip(text)
    return norm is not None and ipaddress.ip_address(norm).is_loopback


def _session(
    row: dict[str, Any],
    activity: list[Activity],
    book: AddressBook,
    inbound: InboundIndex,
    skew: float,
) -> Session:
    ip = usable_ip(row["IpAddress"])
    workstation = row["WorkstationName"]
    source_evidence: tuple[Evidence, ...] = ()
    if ip is None and not workstation:
        peer = _peer(row, inbound, book, skew)
        if peer is not None:
            ip, source_evidence = peer.remote_ip, (peer.evidence,)
    return Session(
        host=row["host"],
        logon_id=(row["TargetLogonId"] or "").lower(),
        logon_type=row["LogonType"],
        account=row["TargetUserName"],
        domain=row["TargetDomainName"],
        source_ip=ip,
        workstation=workstation,
        source=book.resolve(ip, workstation),
        start=float(row["_time"]),
        logon=Evidence.from_row(row, LOGON_KEEP),
        activity=tuple(activity),
        source_evidence=source_evidence,
        loopback=_is_loopback(row["IpAddress"]),
    )


@dataclass(frozen=True)
class Focus:
    """The sessions a caller can use, so the engine leaves out the others: activity rows it can
    use (``activity``, over the activity projection's sources) and the logons it needs even
    without such activity (``logons``, over the logon's; ``logon_cds`` by store id). A focused
    session holds only the activity ``activity`` lets through."""

    activity: exp.Expr
    logons: exp.Expr
    logon_cds: frozenset[int] = frozenset()


def _logons(columns: Columns, focus: Focus | None, joined: Iterable[int]) -> exp.Query:
    """Network logons in time order: all of them, or those ``focus`` wants (read from
    ``columns.table``, which holds every event a logon rule could match) and those its activity
    joined (by store id, from ``network_logons``)."""
    if focus is None:
        return network_logons(columns).order_by("_time", "_cd")
    ruled = logon_select(columns, columns.table).where(focus.logons)
    cds = sorted(focus.logon_cds.union(joined))
    if not cds:
        return ruled.order_by("_time", "_cd")
    wanted = exp.column("_cd", quoted=True).isin(*[exp.Literal.number(c) for c in cds])
    return exp.union(ruled, network_logons(columns).where(wanted)).order_by("_time", "_cd")


@dataclass(frozen=True)
class SessionContext:
    """Sessions plus what was learnt building them (reused by the lateral-movement analytic)."""

    sessions: list[Session]
    book: AddressBook
    connections: list[Connection]
    columns: Columns
    con: Any


def session_context(
    store: StoreLike,
    skew: float = SKEW_SECONDS,
    focus: Focus | None = None,
    con: Any = None,
) -> SessionContext:
    """Sessions (every one, or those ``focus`` wants), on ``con`` or a new connection."""
    columns = Columns.of(store)
    con = store.connect() if con is None else con
    conns = connections(con, columns)
    book = address_book(con, columns, conns)
    where = activity_filter(columns)
    if focus is not None:
        where = exp.and_(where, focus.activity)
    grouped = _assign(_joined_activity(con, columns, skew, where))
    logons = rows(con, _logons(columns, focus, grouped))
    inbound = InboundIndex(conns)
    sessions = [_session(r, grouped.get(r["_cd"], []), book, inbound, skew) for r in logons]
    return SessionContext(sessions, book, conns, columns, con)


def logon_sessions(store: StoreLike, skew: float = SKEW_SECONDS) -> list[Session]:
    """Every network logon (types 3 and 10) in time order, with the activity of its session."""
    return session_context(store, skew).sessions
