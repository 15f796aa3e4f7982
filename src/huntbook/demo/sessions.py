"""Who is logged on where and when: the workday sessions, and the short logons around them.

Workstation owners log on each morning and off each evening (type 2), unlock now and then
(type 7); an admin works on the servers (type 2 at the console, once over RDP: type 10).
Machines and users touch the DC and the file server over the network (type 3, Kerberos), always
without starting processes in those sessions: the seed's transaction search must find only the
attacker's network sessions with process activity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from huntbook.demo.activity import Context, catalog, placeholders, run_tree
from huntbook.demo.events import SYSTEM, Timeline
from huntbook.demo.logons import Origin, logoff, logon, service_ticket
from huntbook.demo.model import Account, Host, Network, Proc, Session

DAY = 86400.0
#: Admin console/RDP sessions on servers: (host, day, start hour, hours, logon type, source ip).
ADMIN_SESSIONS = (
    ("venus", 0, 10.1, 1.2, 2, "127.0.0.1"),
    ("frothlydc", 1, 15.0, 0.8, 10, "10.0.3.25"),
    ("wrk-mars", 1, 9.5, 0.7, 2, "127.0.0.1"),
    ("venus", 2, 13.0, 1.0, 2, "127.0.0.1"),
)


@dataclass(slots=True)
class Planned:
    """An interactive session known in advance (the logon id is assigned when it starts)."""

    host: Host
    account: Account
    start: float
    end: float
    logon_type: int
    source_ip: str
    session: Session | None = None

    def active(self, t: float, margin: float = 900.0) -> bool:
        return self.session is not None and self.start < t and t + margin < self.end


def plan(net: Network, rng: random.Random) -> list[Planned]:
    """The interactive sessions of the three days, in start order."""
    out: list[Planned] = []
    for day in range(net.days):
        base = net.start + day * DAY
        for host in net.hosts:
            if host.owner is None:
                continue
            start = base + 8 * 3600 + rng.uniform(0, 5400)
            end = base + 17 * 3600 + rng.uniform(0, 5400)
            out.append(Planned(host, net.users[host.owner], start, end, 2, "127.0.0.1"))
    admin = net.users[net.admins[0]]
    for name, day, hour, hours, kind, ip in ADMIN_SESSIONS:
        start = net.start + day * DAY + hour * 3600 + rng.uniform(0, 600)
        out.append(Planned(net.host(name), admin, start, start + hours * 3600, kind, ip))
    out.sort(key=lambda p: p.start)
    return out


def open_session(tl: Timeline, rng: random.Random, net: Network, planned: Planned) -> None:
    """4624 (type 2 or 10) from winlogon, then userinit, the shell and startup programs."""
    host = planned.host
    session = Session(host.new_logon_id(rng), planned.account, planned.start, planned.logon_type, 1)
    planned.session = session
    remote = planned.logon_type == 10
    origin = Origin(planned.source_ip, "0", "ADMIN-VPN" if remote else host.name.upper())
    logon(tl, planned.start, net, host, session, origin, host.base["winlogon"])
    ctx = Context(host, session, placeholders(host, session, rng))
    specs = [s for s in catalog()["logon"] if s.get("role", host.role) == host.role]

    def keep_shell(spec: dict[str, Any], proc: Proc) -> None:
        if spec.get("shell"):
            session.explorer = proc
        session.apps[proc.image.rsplit("\\", 1)[-1].upper()] = proc

    run_tree(tl, rng, planned.start + 1.5, specs, ctx, planned.end, keep_shell)


def close_session(tl: Timeline, planned: Planned) -> None:
    if planned.session is not None:
        logoff(tl, planned.end, planned.host, planned.session)


def unlock(tl: Timeline, rng: random.Random, net: Network, planned: Planned, t: float) -> None:
    """A workstation unlock: a short type 7 logon and its logoff."""
    host = planned.host
    session = Session(host.new_logon_id(rng), planned.account, t, 7, 1)
    logon(
        tl,
        t,
        net,
        host,
        session,
        Origin("127.0.0.1", "0", host.name.upper()),
        host.base["winlogon"],
    )
    logoff(tl, t + rng.uniform(0.5, 3), host, session)


def network_logon(
    tl: Timeline,
    rng: random.Random,
    net: Network,
    client: Host,
    server: Host,
    account: Account,
    t: float,
) -> None:
    """A Kerberos network logon (share, GPO, LDAP): ticket on the DC, 4624/4634 on the server."""
    dc = next(h for h in net.hosts if h.role == "dc")
    service_ticket(tl, t - rng.uniform(0.01, 0.2), dc, account, server, client.ip, rng, net)
    session = Session(server.new_logon_id(rng), account, t, 3)
    origin = Origin(client.ip, str(rng.randint(49152, 65535)), "-", "Kerberos")
    logon(tl, t, net, server, session, origin)
    logoff(tl, t + rng.uniform(0.2, 600), server, session)


#: Services that start on demand and stop when idle (System 7036 display names).
DEMAND_SERVICES = (
    "Windows Modules Installer",
    "Background Intelligent Transfer Service",
    "WinHTTP Web Proxy Auto-Discovery Service",
    "Windows Error Reporting Service",
    "Software Protection",
    "Device Setup Manager",
    "Windows Update",
    "Network Setup Service",
)


def service_logon(tl: Timeline, rng: random.Random, net: Network, host: Host, t: float) -> None:
    """Type 5: services.exe starts a demand service as SYSTEM (4672, 4624); it stops later."""
    session = host.system["system"]
    logon(tl, t, net, host, session, Origin(), host.base["services"])
    service = rng.choice(DEMAND_SERVICES)
    tl.add(t + 0.01, host, SYSTEM, 7036, {"param1": service, "param2": "running"})
    tl.add(t + rng.uniform(30, 900), host, SYSTEM, 7036, {"param1": service, "param2": "stopped"})
