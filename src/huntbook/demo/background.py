"""Background episodes: the network's ordinary noise, drawn by weight, scaled to the requested size.

Every episode keeps its events within minutes of its start (long-running processes excepted), so
the time-ordered buffer stays small, and none of them starts a process inside a network logon.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from huntbook.demo.activity import Context, catalog, placeholders, run_tree
from huntbook.demo.events import Timeline
from huntbook.demo.logons import explicit_credentials
from huntbook.demo.model import Host, Network
from huntbook.demo.sessions import Planned, network_logon, service_logon, unlock

Episode = Callable[[Timeline, random.Random, float], None]


class Background:
    """Draws background episodes for the hosts of ``net``, given who is logged on (``planned``)."""

    def __init__(self, net: Network, planned: list[Planned]) -> None:
        self.net = net
        self.planned = planned
        self.trees: list[dict[str, Any]] = catalog()["trees"]
        self.tree_weights = [t["weight"] for t in self.trees]
        self.kinds: list[tuple[Episode, float]] = [
            (self.process_tree, 20.0),
            (self.file_share, 2.0),
            (self.machine_logon, 2.0),
            (self.service_start, 0.7),
            (self.unlock, 0.4),
        ]
        self.kind_weights = [w for _, w in self.kinds]
        self.servers = [h for h in net.hosts if h.role != "workstation"]
        self.workstations = [h for h in net.hosts if h.role == "workstation"]
        self.dc = next(h for h in net.hosts if h.role == "dc")

    def episode(self, tl: Timeline, rng: random.Random, t: float) -> None:
        kind = rng.choices(self.kinds, self.kind_weights)[0][0]
        kind(tl, rng, t)

    def _session(self, host: Host, t: float) -> Planned | None:
        for p in self.planned:
            if p.host is host and p.active(t):
                return p
        return None

    def process_tree(self, tl: Timeline, rng: random.Random, t: float) -> None:
        tree = rng.choices(self.trees, self.tree_weights)[0]
        host = rng.choice([h for h in self.net.hosts if h.role in tree["roles"]])
        account = tree["account"]
        planned = None
        if account in ("user", "admin"):
            planned = self._session(host, t)
            if planned is None or planned.session is None or planned.session.explorer is None:
                return None  # nobody at the keyboard: the budget loop draws another episode
            session = planned.session
        else:
            session = host.system[account]
        ctx = Context(host, session, placeholders(host, session, rng))
        procs = run_tree(tl, rng, t, tree["procs"], ctx, planned.end if planned else None)
        if tree["name"] == "task-host" and rng.random() < 0.25:
            explicit_credentials(
                tl, t + 0.3, procs[0], self.net.users["service3"], "localhost", self.net
            )
        return None

    def file_share(self, tl: Timeline, rng: random.Random, t: float) -> None:
        """A user on their workstation opens a share on a server (venus, wrk-mars)."""
        client = rng.choice(self.workstations)
        planned = self._session(client, t)
        server = rng.choice([h for h in self.servers if h.role == "server"])
        account = planned.account if planned else client.machine
        network_logon(tl, rng, self.net, client, server, account, t)

    def machine_logon(self, tl: Timeline, rng: random.Random, t: float) -> None:
        """A machine account talks to the DC (group policy, LDAP), or the DC to a machine."""
        if rng.random() < 0.8:
            client = rng.choice([h for h in self.net.hosts if h is not self.dc])
            network_logon(tl, rng, self.net, client, self.dc, client.machine, t)
        else:
            target = rng.choice(self.workstations)
            network_logon(tl, rng, self.net, self.dc, target, self.dc.machine, t)

    def service_start(self, tl: Timeline, rng: random.Random, t: float) -> None:
        host = rng.choice(self.net.hosts)
        service_logon(tl, rng, self.net, host, t)

    def unlock(self, tl: Timeline, rng: random.Random, t: float) -> None:
        host = rng.choice(self.workstations)
        planned = self._session(host, t)
        if planned is not None:
            unlock(tl, rng, self.net, planned, t)
