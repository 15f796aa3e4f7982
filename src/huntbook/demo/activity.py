"""Process activity from catalog.yaml: boot-time processes and background process trees."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from huntbook.demo import ids
from huntbook.demo.events import Timeline, file_create, finish, image_load, registry_set, spawn
from huntbook.demo.model import Host, Network, Proc, Session

SYSTEM_DIR = "C:\\Windows\\system32\\"
DOCS = (
    "Q3 brewing schedule",
    "hop suppliers",
    "invoice 0823",
    "staff rota",
    "recipes",
    "budget 2017",
)
#: The well-known sessions every host has from boot: SYSTEM, NETWORK SERVICE, LOCAL SERVICE.
SYSTEM_SESSIONS = {
    "system": ids.SYSTEM_LOGON,
    "network": ids.NETWORK_SERVICE_LOGON,
    "local": ids.LOCAL_SERVICE_LOGON,
}


@cache
def catalog() -> dict[str, Any]:
    """The process catalog (catalog.yaml)."""
    text = resources.files("huntbook.demo").joinpath("catalog.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders; braces that are not placeholders (CLSIDs) stay."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def boot(net: Network, rng: random.Random) -> None:
    """Give every host its well-known sessions and long-running processes (started before t0)."""
    for host in net.hosts:
        booted = net.start - rng.uniform(0.5, 6) * 86400
        for kind, logon_id in SYSTEM_SESSIONS.items():
            host.system[kind] = Session(logon_id, net.well_known[kind], booted, 5)
        for name, spec in catalog()["base"].items():
            session = host.system[spec["account"]]
            pid = host.new_pid(rng)
            guid = host.new_guid(booted + rng.uniform(5, 60))
            host.base[name] = Proc(
                host, pid, guid, spec["image"], spec["cmd"], session, SYSTEM_DIR, "System"
            )


@dataclass(slots=True)
class Context:
    """What a tree needs to run: where, as whom, and the placeholder values."""

    host: Host
    session: Session
    values: dict[str, str]


def placeholders(host: Host, session: Session, rng: random.Random) -> dict[str, str]:
    return {
        "user": session.account.name,
        "sid": session.account.sid,
        "host": host.name,
        "doc": rng.choice(DOCS),
        "n": str(rng.randint(1, 9)),
    }


def _parent(spec: dict[str, Any], started: list[Proc], ctx: Context) -> Proc | None:
    ref = spec["parent"]
    if isinstance(ref, int):
        return started[ref]
    if ref == "explorer":
        return ctx.session.explorer
    return ctx.host.base[ref]


def _side_effects(
    tl: Timeline,
    rng: random.Random,
    t: float,
    proc: Proc,
    spec: dict[str, Any],
    values: dict[str, str],
) -> None:
    for i, dll in enumerate(spec.get("loads", ())):
        image_load(tl, t + 0.01 * (i + 1), proc, fill(dll, values))
    for path in spec.get("files", ()):
        file_create(tl, t + rng.uniform(0.05, 2.0), proc, fill(path, values))
    for key, details in spec.get("regs", ()):
        registry_set(tl, t + rng.uniform(0.05, 3.0), proc, fill(key, values), fill(details, values))


def run_tree(
    tl: Timeline,
    rng: random.Random,
    t: float,
    procs: list[dict[str, Any]],
    ctx: Context,
    session_end: float | None = None,
    on_start: Callable[[dict[str, Any], Proc], None] | None = None,
) -> list[Proc]:
    """Start a tree of processes at ``t``; schedule each one's exit from its ``life``."""
    started: list[Proc] = []
    starts: list[float] = []
    for spec in procs:
        parent = _parent(spec, started, ctx)
        if parent is None:
            break
        ref = spec["parent"]
        inside = isinstance(ref, int)
        lo, hi = spec.get("delay", (0.0, 0.0))
        at = (starts[ref] if inside else t) + rng.uniform(lo, hi) + 0.001
        proc = spawn(
            tl,
            rng,
            at,
            parent,
            fill(spec["image"], ctx.values),
            fill(spec["cmd"], ctx.values),
            session=None if inside else ctx.session,
            cwd=fill(spec["cwd"], ctx.values) if "cwd" in spec else None,
            integrity=spec.get("integrity") or (None if inside else _integrity(ctx.session)),
            sysmon=spec.get("sysmon", True),
        )
        _side_effects(tl, rng, at, proc, spec, ctx.values)
        if on_start:
            on_start(spec, proc)
        started.append(proc)
        starts.append(at)
        _schedule_exit(tl, rng, at, proc, spec, session_end)
    return started


def _integrity(session: Session) -> str:
    return "System" if session.logon_type == 5 else "Medium"


def _schedule_exit(
    tl: Timeline,
    rng: random.Random,
    at: float,
    proc: Proc,
    spec: dict[str, Any],
    session_end: float | None,
) -> None:
    life = spec.get("life", (1, 10))
    if life == "session":
        if session_end is not None:
            finish(tl, session_end - rng.uniform(1, 5), proc)
        return
    end = at + rng.uniform(*life)
    if session_end is not None:
        end = min(end, session_end - rng.uniform(5, 10))
    finish(tl, max(end, at + 0.05), proc)
