"""Lateral movement seen without a joined logon: destination-only traces, source-side commands and
inbound connections (the ``alone``, ``source`` and ``connection`` rules of methods.yaml).

Why: a recording often holds one side only. A System log keeps the 7045 of Metasploit's psexec
but no logon; a Sysmon log keeps PSEXESVC.exe and the inbound SMB connection but no Security log;
the attacker's host keeps ``sc.exe \\\\TARGET start SVC`` while the target's payload runs as
SYSTEM outside any session; an RDP session shows only as svchost accepting 3389. A hunter still
reports these moves, and says how sure they are:

- ``alone``: an event on the destination matching a known remote-execution pattern. When the
  event records its client's address (the rule's ``(?P<source>...)`` group: the RDP channels),
  that is the source (confidence ``direct``). Otherwise its source is the peer of an inbound
  connection on one of the method's ``source_ports`` in the ``window`` before it (confidence
  ``time``), else ``unresolved source`` (confidence ``inferred``). An event
  already behind an edge found through a logon adds nothing.
- ``source``: a process on the source whose command line names the destination (the pattern's
  ``(?P<destination>...)`` group); confidence ``inferred``. It joins an edge of the same method
  between the same hosts, or stands alone. Local names (``localhost``, ``.``, the host itself)
  are local use.
- ``connection``: an inbound connection on one of the rule's ports from an address the host does
  not own (RDP's 3389 when Security holds no type 10 logon); confidence ``time``.

The candidate events are selected in the engine (each rule's event kind and patterns in SQL);
only matching rows come to Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import (
    Columns,
    code_in,
    is_sysmon,
    matching,
    not_sysmon,
    rows,
    text,
)
from huntbook.analytics.addresses import AddressBook, Connection, short_host, usable_ip
from huntbook.analytics.evidence import Evidence
from huntbook.analytics.kinds import kind_sql
from huntbook.analytics.methods import Method, MethodTable, Rule
from huntbook.analytics.rule_sql import name_tests
from huntbook.analytics.sessions import (
    ACTIVITY_FIELDS,
    Activity,
    SessionContext,
    activity_select,
    to_activity,
)

LOCAL_TARGETS = {"localhost", ".", "127.0.0.1", "::1"}
# event kind -> (EventCodes, from Sysmon?)
KIND_CODES: dict[str, tuple[tuple[str, ...], bool]] = {
    "process": (("1",), True),
    "service": (("7045", "4697"), False),
    "task": (("4698", "4702"), False),
}
TRACE_SCOPES = ("alone", "source")

# (source, source_ip, destination, account, method, evidence, confidence) -> joins or adds an edge
AddEdge = Callable[[str, str | None, str, str | None, Method, list[Evidence], str], None]


def _kind_filter(columns: Columns, kind: str) -> exp.Expr:
    if kind not in KIND_CODES:
        return kind_sql(columns, kind)
    codes, sysmon = KIND_CODES[kind]
    channel = is_sysmon(columns) if sysmon else not_sysmon(columns)
    own = exp.and_(code_in(columns, codes), channel)
    if kind != "process":
        return own
    return exp.or_(own, exp.and_(code_in(columns, ["4688"]), not_sysmon(columns)))


def _rule_sql(columns: Columns, rule: Rule) -> exp.Expr:
    """A rule's event kind, file names, substrings and patterns as a filter (values lower-cased
    and an absent field as the empty text, as the rule reads them; names first, so the engine runs
    patterns on fewer events)."""
    tests = [_kind_filter(columns, rule.event)] if rule.event else []
    tests += name_tests(columns, rule, ACTIVITY_FIELDS)
    for name, pattern in rule.patterns:
        value = exp.Coalesce(this=columns.lower(*ACTIVITY_FIELDS[name]), expressions=[text("")])
        tests.append(exp.RegexpLike(this=value, expression=text(pattern.pattern)))
    return exp.and_(*tests) if tests else exp.false()


def _trace_rules(table: MethodTable) -> list[tuple[Method, Rule]]:
    return [(m, r) for m in table.methods for r in m.rules if r.scope in TRACE_SCOPES]


def trace_filter(columns: Columns, table: MethodTable) -> exp.Expr:
    """The events an ``alone`` or ``source`` rule could match (none without such rules)."""
    found = _trace_rules(table)
    return exp.or_(*[_rule_sql(columns, rule) for _, rule in found]) if found else exp.false()


def _candidates(ctx: SessionContext, table: MethodTable) -> list[Activity]:
    if not _trace_rules(table):
        return []
    where = matching(ctx.con, ctx.columns, trace_filter(ctx.columns, table))
    query = activity_select(ctx.columns, where).order_by("_time", "_cd")
    return [to_activity(row) for row in rows(ctx.con, query)]


def _inbound_peer(
    conns: Iterable[Connection], host: str, t: float, method: Method, skew: float
) -> Connection | None:
    """The latest inbound connection to ``host`` on a source port of the method before ``t``."""
    fits = [
        c
        for c in conns
        if c.direction == "in"
        and c.host.lower() == short_host(host).lower()
        and (c.dst_port or "") in method.source_ports
        and usable_ip(c.remote_ip)
        and t - method.window <= c.time <= t + skew
    ]
    return max(fits, key=lambda c: c.time, default=None)


def _named_source(
    activity: Activity, rule: Rule, method: Method, ctx: SessionContext, add: AddEdge
) -> bool:
    """An event that records its own source address (the pattern's ``(?P<source>...)``, e.g. the
    client address of an RDP logon) and account (``(?P<account>...)``): one edge, confidence
    ``direct`` unless the rule says otherwise. False when the rule names no source."""
    address = rule.named(activity, "source")
    if not address:
        return False
    host = ctx.book.canonical(activity.evidence.host)
    remote = usable_ip(address)
    source = (ctx.book.host_for(remote) or remote) if remote else f"unresolved source {address}"
    if source.lower() != host.lower():
        account = rule.named(activity, "account") or None
        sure = rule.confidence or "direct"
        add(source, remote, host, account, method, [activity.evidence], sure)
    return True


def _alone(
    activity: Activity,
    rule: Rule,
    method: Method,
    ctx: SessionContext,
    table: MethodTable,
    add: AddEdge,
) -> None:
    if _named_source(activity, rule, method, ctx, add):
        return
    host = ctx.book.canonical(activity.evidence.host)
    peer = _inbound_peer(ctx.connections, host, activity.time, method, table.skew)
    if peer is None:
        add("unresolved source", None, host, None, method, [activity.evidence], "inferred")
        return
    source = ctx.book.host_for(peer.remote_ip) or peer.remote_ip or "unresolved source"
    if source.lower() == host.lower():
        return  # the host's own address: local use
    evidence = [activity.evidence, peer.evidence]
    add(source, peer.remote_ip, host, None, method, evidence, "time")


def _source(
    activity: Activity, rule: Rule, method: Method, book: AddressBook, add: AddEdge
) -> None:
    named = (rule.named(activity, "destination") or "").strip("\"'").rstrip("$")
    source = book.canonical(activity.evidence.host)
    if not named or named in LOCAL_TARGETS:
        return
    destination = book.host_for(named) or book.canonical(named)
    if destination.lower() == source.lower():
        return
    account = (activity.get("User") or "").rsplit("\\", 1)[-1] or None
    add(source, None, destination, account, method, [activity.evidence], "inferred")


def add_traces(ctx: SessionContext, table: MethodTable, claimed: set[Any], add: AddEdge) -> None:
    """Edges from ``alone`` and ``source`` rules; events in ``claimed`` (evidence keys of the
    edges found through logons) are already explained."""
    for activity in _candidates(ctx, table):
        if activity.evidence.key in claimed:
            continue
        for method, rule in _trace_rules(table):
            if not rule.matches(activity):
                continue
            if rule.scope == "alone":
                _alone(activity, rule, method, ctx, table, add)
            else:
                _source(activity, rule, method, ctx.book, add)
            break


def add_connections(ctx: SessionContext, table: MethodTable, add: AddEdge) -> None:
    """Edges from ``connection`` rules: inbound connections on the rule's ports."""
    rules = [(m, r) for m in table.methods for r in m.rules if r.scope == "connection"]
    for conn in ctx.connections:
        remote = usable_ip(conn.remote_ip)
        if conn.direction != "in" or remote is None:
            continue
        source = ctx.book.host_for(remote) or remote
        host = ctx.book.canonical(conn.host)
        if source.lower() == host.lower():
            continue
        for method, rule in rules:
            if (conn.dst_port or "") in rule.ports:
                add(source, remote, host, None, method, [conn.evidence], "time")
