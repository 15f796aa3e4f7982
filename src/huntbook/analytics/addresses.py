"""Which host owns which IP address, learnt from the events themselves.

Why: a network logon names its source by IP (``IpAddress`` / ``Source_Network_Address``) and at
best a NetBIOS name (``WorkstationName``); a hunter wants ``WORKSTATION5``, not ``172.18.39.5``.
No inventory is assumed: an address belongs to a host when that host's own events reveal it:

- Sysmon 3 on host H: ``SourceIp`` of a connection H initiated, ``DestinationIp`` of one it
  accepted;
- Security 5156 on H: ``SourceAddress`` outbound, ``DestAddress`` inbound (``Direction`` is
  ``%%14593``/``Outbound`` or ``%%14592``/``Inbound``; classic names ``Source_Address`` etc.);
- 4624/4625 on any host whose ``WorkstationName`` and ``IpAddress`` name the *source* together.

A host's own network events weigh more than another host's claim (see ``WEIGHTS``). Loopback,
unspecified, multicast and broadcast addresses say nothing about a host and are skipped.

API: ``connections(con, columns) -> list[Connection]`` (the network events, reused for finding the
peer of a logon that carries no address) and ``address_book(con, columns, connections) ->
AddressBook`` with ``host_for(ip)``, ``addresses_of(host)``, ``resolve(ip, workstation)`` and
``canonical(name)``.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import (
    Candidate,
    Columns,
    code_in,
    count,
    count_table,
    is_sysmon,
    not_sysmon,
    projection,
    rows,
)
from huntbook.analytics.evidence import Evidence

WEIGHTS = {"own": 10, "claimed": 1}
INBOUND = {"%%14592", "inbound"}
OUTBOUND = {"%%14593", "outbound"}

NETWORK_FIELDS: dict[str, list[Candidate]] = {
    "SourceIp": ["SourceIp", "SourceAddress", "Source_Address"],
    "DestinationIp": ["DestinationIp", "DestAddress", "Destination_Address"],
    "DestinationPort": ["DestinationPort", "DestPort", "Destination_Port"],
    "Initiated": ["Initiated"],
    "Direction": ["Direction"],
    "Image": ["Image", "Application", "Application_Name"],
}
NETWORK_KEEP = ("SourceIp", "DestinationIp", "DestinationPort", "Image")
LOGON_PAIR_FIELDS: dict[str, list[Candidate]] = {
    "ip": ["IpAddress", "Source_Network_Address"],
    "workstation": ["WorkstationName", "Workstation_Name"],
}


def short_host(name: str) -> str:
    """``WORKSTATION6.theshire.local`` -> ``WORKSTATION6``; IP addresses stay whole."""
    name = name.strip()
    if _is_ip(name):
        return name
    return name.split(".", 1)[0]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalize_ip(text: str | None) -> str | None:
    """Canonical text of an address (``::ffff:10.0.0.1`` -> ``10.0.0.1``), None when not an IP."""
    if not text:
        return None
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)
    return str(mapped or addr)


def usable_ip(text: str | None) -> str | None:
    """The normalized address when it can identify one host, else None."""
    norm = normalize_ip(text)
    if norm is None:
        return None
    addr = ipaddress.ip_address(norm)
    if addr.is_loopback or addr.is_unspecified or addr.is_multicast:
        return None
    if addr.version == 4 and (norm.endswith(".255") or norm == "255.255.255.255"):
        return None
    return norm


@dataclass(frozen=True)
class Connection:
    """One network event, oriented: ``direction`` is ``in`` or ``out`` as seen by ``host``."""

    time: float
    host: str
    direction: str | None
    src_ip: str | None
    dst_ip: str | None
    dst_port: str | None
    evidence: Evidence

    @property
    def local_ip(self) -> str | None:
        return {"in": self.dst_ip, "out": self.src_ip}.get(self.direction or "")

    @property
    def remote_ip(self) -> str | None:
        return {"in": self.src_ip, "out": self.dst_ip}.get(self.direction or "")


def _direction(row: dict[str, Any]) -> str | None:
    initiated = (row.get("Initiated") or "").lower()
    if initiated in ("true", "false"):
        return "out" if initiated == "true" else "in"
    direction = (row.get("Direction") or "").lower()
    return "in" if direction in INBOUND else "out" if direction in OUTBOUND else None


def network_where(columns: Columns) -> exp.Expr:
    """Sysmon 3 and Security 5156 events."""
    return exp.or_(
        exp.and_(code_in(columns, ["3"]), is_sysmon(columns)),
        exp.and_(code_in(columns, ["5156"]), not_sysmon(columns)),
    )


def connections(con: Any, columns: Columns) -> list[Connection]:
    """Sysmon 3 and Security 5156 events, oriented and in time order."""
    query = (
        exp.select(*projection(columns, NETWORK_FIELDS))
        .from_(columns.table)
        .where(network_where(columns))
    )
    found = []
    for row in rows(con, query.order_by("_time", "_cd")):
        found.append(
            Connection(
                float(row["_time"]),
                short_host(row["host"]),
                _direction(row),
                normalize_ip(row["SourceIp"]),
                normalize_ip(row["DestinationIp"]),
                row["DestinationPort"],
                Evidence.from_row(row, NETWORK_KEEP),
            )
        )
    return found


class AddressBook:
    """IP -> host votes, and the spelling of each host as the store has it."""

    def __init__(self, hosts: list[str]) -> None:
        self.votes: dict[str, Counter[str]] = defaultdict(Counter)
        self.spelling = {h.lower(): h for h in sorted(hosts)}

    def add(self, ip: str | None, host: str | None, weight: int) -> None:
        addr = usable_ip(ip)
        if addr and host and not _is_ip(host):
            self.votes[addr][self.canonical(host)] += weight

    def canonical(self, name: str) -> str:
        """A host name in the store's spelling (short form), or the name itself when unknown."""
        short = short_host(name)
        return self.spelling.get(short.lower(), short)

    def host_for(self, ip: str | None) -> str | None:
        addr = normalize_ip(ip)
        votes = self.votes.get(addr or "")
        if not votes:
            return None
        return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]

    def addresses_of(self, host: str) -> set[str]:
        name = self.canonical(host).lower()
        return {ip for ip in self.votes if (self.host_for(ip) or "").lower() == name}

    def resolve(self, ip: str | None, workstation: str | None) -> str | None:
        """The source host of a logon: its address if known, else its workstation name."""
        by_ip = self.host_for(ip)
        if by_ip:
            return by_ip
        if workstation and workstation.strip() not in ("", "-"):
            return self.canonical(workstation)
        return None

    def to_dict(self) -> dict[str, str]:
        return {ip: host for ip in sorted(self.votes) if (host := self.host_for(ip))}


def book_reads(columns: Columns) -> list[exp.Expr]:
    """Every value the address book counts read (what a tally must group by: analytics/scan.py),
    the host included."""
    pair = [columns.get(*n) for n in LOGON_PAIR_FIELDS.values()]
    return [exp.column("host", quoted=True), naming_logon_where(columns), *pair]


def naming_logon_where(columns: Columns) -> exp.Expr:
    """4624/4625 that name their source by address and workstation name together."""
    pair = [columns.get(*names) for names in LOGON_PAIR_FIELDS.values()]
    return exp.and_(
        code_in(columns, ["4624", "4625"]),
        not_sysmon(columns),
        *[exp.Not(this=exp.Is(this=value, expression=exp.Null())) for value in pair],
    )


def address_book(con: Any, columns: Columns, conns: list[Connection]) -> AddressBook:
    """Learn the address map from network events and from logons that name their source."""
    # every host of the store, not only those of ``table``: from the events, or their tally
    every_host = exp.select(exp.column("host", quoted=True)).distinct()
    host_rows = rows(con, every_host.from_(count_table(columns)))
    book = AddressBook([short_host(r["host"]) for r in host_rows if r["host"]])
    for conn in conns:
        book.add(conn.local_ip, conn.host, WEIGHTS["own"])
    pair = [columns.get(*names) for names in LOGON_PAIR_FIELDS.values()]
    named = [value.as_(alias) for value, alias in zip(pair, LOGON_PAIR_FIELDS, strict=True)]
    query = (  # one row per (address, name) pair with its logons counted in the engine
        exp.select(*named, count(columns).as_("logons"))
        .from_(count_table(columns))
        .where(naming_logon_where(columns))
        .group_by(*[exp.Literal.number(i + 1) for i in range(len(pair))])
    )
    for row in rows(con, query):
        book.add(row["ip"], row["workstation"], WEIGHTS["claimed"] * row["logons"])
    return book
