"""``run_demo``: generate (cached) -> ingest as ``botsv2`` -> run the seed's playbook -> reports.

Layout of the demo folder::

    out_dir/logs/<host>/*.xml, *.log                the raw logs (generate: Sysmon, Security)
    out_dir/store/                                  the event store (index botsv2)
    out_dir/report.json, report.md, report.html     the hunt's reports
    out_dir/.demo-key                               generator version, seed and size of logs/store

A second run with the same key reuses logs and store and only re-runs the hunt.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from huntbook.demo.generator import (
    DEFAULT_EVENTS,
    DEFAULT_SEED,
    GENERATOR_VERSION,
    SECURITY_FILE,
    SYSMON_FILE,
    SYSTEM_FILE,
    generate,
)

PLAYBOOK = "wmi-lateral-movement"
INDEX = "botsv2"
KEY_FILE = ".demo-key"
LOG_FILES = (SYSMON_FILE, SECURITY_FILE, SYSTEM_FILE)
DATA_FILES = ("network.yaml", "catalog.yaml", "security.yaml", "system.yaml")


@dataclass
class DemoResult:
    """What the demo did and found; the CLI prints it."""

    out_dir: Path
    reports: dict[str, Path]
    generated: bool
    events: int
    queries: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)


def _key(seed: int, events: int) -> str:
    """What the cached logs and store depend on: generator version, its data files, seed, size."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(resources.files("huntbook.demo").joinpath(name).read_bytes())
    data = digest.hexdigest()[:16]
    return f"generator={GENERATOR_VERSION} data={data} seed={seed} events={events}\n"


def _prepare(out: Path, seed: int, events: int, say: Callable[[str], None]) -> tuple[bool, int]:
    """Make sure out/logs and out/store hold this key's data; returns (generated, events)."""
    from huntbook.store import Store
    from huntbook.workspace import Workspace

    logs, store_dir, key_file = out / "logs", out / "store", out / KEY_FILE
    key = _key(seed, events)
    fresh = not (key_file.is_file() and key_file.read_text() == key and store_dir.is_dir())
    if fresh:
        key_file.unlink(missing_ok=True)
        for folder in (logs, store_dir):
            if folder.exists():
                shutil.rmtree(folder)
        say(f"Generating about {events:,} events of the Frothly network (seed {seed}) ...")
        summary = generate(logs, events=events, seed=seed)
        say(f"Ingesting {summary.events:,} events as index {INDEX} ...")
        # Sysmon files first: the store names the shared User/user column after the first one.
        files = [f for name in LOG_FILES for f in sorted(logs.glob(f"*/{name}"))]
        Workspace(store_dir).ingest(files, index=INDEX)
        key_file.write_text(key)
    count = sum(int(r.get("count", 0)) for r in Store(store_dir).stats())
    return fresh, count


def _summary_queries(result: Any) -> list[dict[str, Any]]:
    """Hits per query, beside the hits the seed's Results table expects (None: not listed)."""
    expected = {r.query_index: r.expected_hits for r in result.results_table}
    return [
        {"title": q.title, "hits": q.hits, "status": q.status, "seed": expected.get(q.index)}
        for q in result.queries
    ]


def run_demo(
    out_dir: str | os.PathLike[str] = "huntbook-demo",
    *,
    events: int | None = None,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the seed's WMI hunt on the simulated Frothly network and write its reports.

    Args:
        out_dir: the demo folder (logs, store and reports go there).
        events: about how many events to simulate (default 30,000).
        seed: the generator's seed.
        progress: called with a line of text at each stage (the CLI prints them).

    Raises:
        HuntbookError: from generation, ingest or the hunt.
    """
    from huntbook.hunts import run_hunt
    from huntbook.store import Store

    say = progress or (lambda _text: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    size = DEFAULT_EVENTS if events is None else events
    started = time.perf_counter()
    generated, count = _prepare(out, seed, size, say)
    prepared = time.perf_counter()
    say(f"Running the playbook {PLAYBOOK!r} ...")
    result = run_hunt(Store(out / "store"), PLAYBOOK, out=out)
    finished = time.perf_counter()
    reports = {kind: out / f"report.{kind}" for kind in ("json", "md", "html")}
    return DemoResult(
        out,
        reports,
        generated,
        count,
        _summary_queries(result),
        result.edges,
        {"prepare": prepared - started, "hunt": finished - prepared},
    )
