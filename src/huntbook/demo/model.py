"""The simulated network's moving parts: accounts, hosts, logon sessions and processes.

Loaded from ``network.yaml``. Logon ids come from disjoint per-host ranges so that no two hosts ever
share one: the seed's transaction search groups by logon id across *all* hosts, and a collision
would invent a WMI session that never happened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml

from huntbook.demo import ids


@dataclass(frozen=True, slots=True)
class Account:
    """Who a process or logon runs as, in every spelling the logs use."""

    name: str  # SubjectUserName: billy.tun, SYSTEM, VENUS$
    domain: str  # SubjectDomainName: FROTHLY, NT AUTHORITY
    sid: str  # S-1-5-21-...-1105
    display: str  # classic "Security ID" as the forwarder resolves it: FROTHLY\billy.tun
    admin: bool = False

    @property
    def qualified(self) -> str:
        """Sysmon's ``User``: DOMAIN\\name."""
        return f"{self.domain}\\{self.name}"


NULL_ACCOUNT = Account("-", "-", "S-1-0-0", "NULL SID")


@dataclass(slots=True)
class Session:
    """A logon session: the unit the seed's transaction search groups by."""

    logon_id: int
    account: Account
    start: float
    logon_type: int
    terminal: int = 0  # TerminalSessionId
    explorer: Proc | None = None
    apps: dict[str, Proc] = field(default_factory=dict)

    def guid(self, host: str) -> str:
        return ids.logon_guid(host, self.start, self.logon_id)


@dataclass(slots=True)
class Proc:
    """A running process, enough to write its Sysmon and Security events."""

    host: Host
    pid: int
    guid: str
    image: str
    cmd: str
    session: Session
    cwd: str
    integrity: str
    parent: Proc | None = None
    sysmon: bool = True  # False: the Sysmon config excludes it (only 4688/4689 show it)


@dataclass(slots=True)
class Host:
    """One machine with its counters (pids, Sysmon GUIDs, logon ids) and long-lived processes."""

    name: str
    ip: str
    role: str
    sysmon_pid: int
    index: int
    owner: str | None
    dns_domain: str
    machine: Account
    next_pid: int = 0x1000
    next_guid: int = 0x00A0_0000
    next_logon: int = 0
    base: dict[str, Proc] = field(default_factory=dict)
    system: dict[str, Session] = field(default_factory=dict)

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.dns_domain}"

    def new_pid(self, rng: random.Random) -> int:
        self.next_pid += 4 * rng.randint(1, 60)
        if self.next_pid > 0xFFF0:
            self.next_pid = 0x400
        return self.next_pid

    def new_guid(self, start: float) -> str:
        self.next_guid += 1
        return ids.process_guid(self.name, start, self.next_guid + self.index * 0x0100_0000)

    def new_logon_id(self, rng: random.Random) -> int:
        """Logon ids grow through the run in a 16M range per host: no two hosts share one, and a
        host repeats one only after about 64,000 logons."""
        self.next_logon += rng.randint(0x8, 0x200)
        return 0x0200_0000 + self.index * 0x0100_0000 + (self.next_logon % 0x00FF_FFFF)


@dataclass(slots=True)
class Network:
    """Everything ``network.yaml`` describes, resolved into objects."""

    domain: str
    dns_domain: str
    start: float
    days: int
    hosts: list[Host]
    users: dict[str, Account]
    admins: list[str]
    well_known: dict[str, Account]

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)


@cache
def _spec() -> dict[str, Any]:
    text = resources.files("huntbook.demo").joinpath("network.yaml").read_text(encoding="utf-8")
    spec: dict[str, Any] = yaml.safe_load(text)
    return spec


def _well_known() -> dict[str, Account]:
    return {
        "system": Account("SYSTEM", "NT AUTHORITY", "S-1-5-18", "NT AUTHORITY\\SYSTEM", True),
        "network": Account(
            "NETWORK SERVICE", "NT AUTHORITY", "S-1-5-20", "NT AUTHORITY\\NETWORK SERVICE"
        ),
        "local": Account(
            "LOCAL SERVICE", "NT AUTHORITY", "S-1-5-19", "NT AUTHORITY\\LOCAL SERVICE"
        ),
    }


def load_network() -> Network:
    """Build a fresh network (fresh counters): every ``generate`` run starts from the same state."""
    spec = _spec()
    domain, dns, dsid = spec["domain"], spec["dns_domain"], spec["domain_sid"]
    users = {
        u["name"]: Account(
            u["name"], domain, f"{dsid}-{u['rid']}", f"{domain}\\{u['name']}", u["admin"]
        )
        for u in spec["users"]
    }
    hosts = []
    for i, h in enumerate(spec["hosts"]):
        machine_name = h["name"].upper() + "$"
        machine = Account(machine_name, domain, f"{dsid}-{1200 + i}", f"{domain}\\{machine_name}")
        hosts.append(
            Host(h["name"], h["ip"], h["role"], h["sysmon_pid"], i, h["user"], dns, machine)
        )
    start = datetime.fromisoformat(spec["start"].replace("Z", "+00:00")).astimezone(UTC)
    return Network(
        domain, dns, start.timestamp(), spec["days"], hosts, users, spec["admins"], _well_known()
    )
