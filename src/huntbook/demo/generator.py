"""``generate``: the simulated network's raw logs, deterministic and streamed to disk.

The three days are walked in one-minute slices. In each slice the fixed agenda (logons, logoffs,
the attack, benign WMI) runs, then background episodes are drawn until the running total reaches
its share of the requested size (a workday curve: busier 08:00-18:00), then every buffered event
older than the slice's end is written. One seeded ``random.Random`` drives everything and nothing
iterates over an unordered collection, so the same seed and size give byte-identical files.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from huntbook.demo import story as story_mod
from huntbook.demo.background import Background
from huntbook.demo.events import SECURITY, SYSMON, SYSTEM, Pending, Timeline
from huntbook.demo.model import Network, load_network
from huntbook.demo.render import classic_system_text, classic_text, sysmon_xml
from huntbook.demo.sessions import DAY, Planned, close_session, open_session, plan
from huntbook.errors import HuntbookError

#: Bump when the output for a given seed and size changes (cache key of ``run_demo``).
GENERATOR_VERSION = 6
DEFAULT_SEED = 20170823
DEFAULT_EVENTS = 30_000
SLICE = 60.0
MANIFEST = ".manifest.json"
#: File names as Windows exports them. The Sysmon file sorts first on purpose: the store names a
#: column after the first spelling it sees, and Sysmon's ``User`` must not become the classic
#: add-on's CIM ``user`` (DuckDB column names are case-insensitive), or ``User=...`` finds nothing.
SYSMON_FILE = "Microsoft-Windows-Sysmon-Operational.xml"
SECURITY_FILE = "Security.log"
SYSTEM_FILE = "System.log"

Action = Callable[[Timeline, random.Random], None]


@dataclass
class GenerateSummary:
    """What ``generate`` wrote: files and event counts per host and log."""

    out_dir: Path
    seed: int
    requested: int
    events: int
    files: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "generator_version": GENERATOR_VERSION,
            "seed": self.seed,
            "requested": self.requested,
            "events": self.events,
            "files": self.files,
        }


class _Files:
    """Per host: Sysmon XML, Security and System classic text, each with its record numbers."""

    def __init__(self, out_dir: Path, net: Network) -> None:
        self.net = {h.name: h for h in net.hosts}
        self.handles: dict[tuple[str, str], IO[str]] = {}
        self.records: dict[tuple[str, str], int] = {}
        self.counts: dict[str, int] = {}
        self.names: dict[tuple[str, str], str] = {}
        for host in net.hosts:
            folder = out_dir / host.name
            folder.mkdir(parents=True, exist_ok=True)
            for channel, name, first in (
                (SYSMON, SYSMON_FILE, 41_000),
                (SECURITY, SECURITY_FILE, 183_000),
                (SYSTEM, SYSTEM_FILE, 9_000),
            ):
                key = (host.name, channel)
                self.handles[key] = (folder / name).open(
                    "w", encoding="utf-8", newline="\n", buffering=1 << 20
                )
                self.records[key] = first + 977 * host.index
                self.names[key] = f"{host.name}/{name}"
                self.counts[self.names[key]] = 0

    def write(self, events: Iterable[Pending]) -> None:
        for ev in events:
            key = (ev.host, ev.channel)
            record = self.records[key] = self.records[key] + 1
            host = self.net[ev.host]
            if ev.channel == SECURITY:
                text = classic_text(ev.time, ev.eid, ev.data, host.fqdn, record)
            elif ev.channel == SYSTEM:
                text = classic_system_text(ev.time, ev.eid, ev.data, host.fqdn, record)
            else:
                thread = 1000 + (record * 7919) % 3000 // 4 * 4
                text = sysmon_xml(
                    ev.time, ev.eid, ev.data, host.fqdn, record, (host.sysmon_pid, thread)
                )
            self.counts[self.names[key]] += 1
            self.handles[key].write(text)

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _open(net: Network, planned: Planned, tl: Timeline, rng: random.Random) -> None:
    open_session(tl, rng, net, planned)


def _close(planned: Planned, tl: Timeline, rng: random.Random) -> None:
    close_session(tl, planned)


def _agenda(net: Network, planned: list[Planned]) -> list[tuple[float, int, Action]]:
    """Fixed happenings in time order: session starts and ends, the story's steps."""
    items: list[tuple[float, Action]] = []
    for p in planned:
        items.append((p.start, partial(_open, net, p)))
        items.append((p.end, partial(_close, p)))
    items.extend(story_mod.build(net, planned).steps)
    items.sort(key=lambda item: item[0])
    return [(t, i, action) for i, (t, action) in enumerate(items)]


def _workday_weight(t: float, start: float) -> float:
    hour = ((t - start) % DAY) / 3600
    return 1.0 if 8 <= hour < 18 else 0.3


def _run(
    net: Network, rng: random.Random, events: int, sink: Callable[[Iterable[Pending]], None]
) -> int:
    from huntbook.demo.activity import boot

    boot(net, rng)
    planned = plan(net, rng)
    agenda = _agenda(net, planned)
    background = Background(net, planned)
    tl = Timeline()
    slices = int(net.days * DAY / SLICE)
    weights = [_workday_weight(net.start + k * SLICE, net.start) for k in range(slices)]
    total_weight = sum(weights)
    done_weight = 0.0
    background_count = 0
    pos = 0
    for k in range(slices):
        end = net.start + (k + 1) * SLICE
        while pos < len(agenda) and agenda[pos][0] < end:
            agenda[pos][2](tl, rng)
            pos += 1
        done_weight += weights[k]
        target = events * done_weight / total_weight
        while background_count < target:
            before = tl.emitted
            background.episode(tl, rng, net.start + k * SLICE + rng.uniform(0, SLICE))
            background_count += tl.emitted - before
        sink(tl.drain(end))
    # Collection stops at the window's end: exits of processes still running then are not logged.
    return tl.emitted - len(tl)


def _fixed_events(seed: int) -> int:
    """How many events the fixed agenda alone makes (a dry run that writes nothing)."""
    count = 0

    def counter(events: Iterable[Pending]) -> None:
        nonlocal count
        count += sum(1 for _ in events)

    _run(load_network(), random.Random(seed), 0, counter)
    return count


def generate(
    out_dir: str | os.PathLike[str], *, events: int | None = None, seed: int = DEFAULT_SEED
) -> GenerateSummary:
    """Write the simulated network's raw logs under ``out_dir`` (one folder per host).

    Args:
        out_dir: destination folder; ``<host>/Microsoft-Windows-Sysmon-Operational.xml`` (Sysmon,
            XmlWinEventLog), ``<host>/Security.log`` and ``<host>/System.log`` (classic
            WinEventLog text) and ``.manifest.json`` are (over)written.
        events: about how many events to write in total (default 30,000). The attack and the
            workday logons are always there; background activity fills up to this size.
        seed: the random seed; the same seed and size give byte-identical files.

    Raises:
        HuntbookError: the size is negative.
    """
    requested = DEFAULT_EVENTS if events is None else int(events)
    if requested < 0:
        raise HuntbookError(f"--events must be >= 0, got {requested}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    background = max(requested - _fixed_events(seed), 0)
    net = load_network()
    files = _Files(out, net)
    try:
        written = _run(net, random.Random(seed), background, files.write)
    finally:
        files.close()
    summary = GenerateSummary(out, seed, requested, written, dict(sorted(files.counts.items())))
    (out / MANIFEST).write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return summary
