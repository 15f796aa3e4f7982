"""Benchmark of the seed's hunt and ``huntbook findings`` on a generated store: wall time, peak
memory, and where the time goes.

Usage: ``python bench/hunt.py [--events N] [--seed S] [--store DIR] [--repeat R] [--stages]
[--json F]``

The store is built once with the demo generator (``huntbook.demo.generate`` then
``Workspace.ingest`` as index botsv2, as ``huntbook ingest`` builds it) and cached under
``.bench/hunt-N-seed/`` (or taken as given with ``--store``, e.g. one built by
``bench/generate.py --keep`` and ``huntbook ingest``).
Whole-process figures: ``huntbook hunt run wmi-lateral-movement --store S --out TMP`` (the seed's
playbook, reports written) and ``huntbook findings --store S --format json``, each in a child
process timed from its start to its exit (Python start-up, imports, searches, analytics, reports),
with the child's own peak resident memory (``wait4``); the fastest of ``--repeat`` runs. On a
store that keeps the analytics' per-batch summaries (``<store>/summaries``, analytics/summary.py:
every store ``huntbook ingest`` creates, unless ``--no-summaries``), the first run writes them and
later runs read them: ``--repeat 2`` shows both in ``runs s``; a store without the folder is
scanned in memory every run. Point it at a copy of a store that must stay as it is.

``--stages`` runs the hunt once more inside this process (its analytics after its searches, not
beside them) with a timer around each stage of ``STAGES`` (the searches, the analytics' one scan,
each analytic, naming evidence files, writing the reports) and prints the seconds each took and
the rows each stage's queries brought into Python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench"
sys.path.insert(0, str(ROOT / "bench"))

from generate import machine  # noqa: E402

PLAYBOOK = "wmi-lateral-movement"
HUNTBOOK = [sys.executable, "-m", "huntbook"]
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "seed hunt": lambda store, out: [
        *HUNTBOOK,
        "hunt",
        "run",
        PLAYBOOK,
        "--store",
        str(store),
        "--out",
        str(out),
    ],
    "findings": lambda store, out: [
        *HUNTBOOK,
        "findings",
        "--store",
        str(store),
        "--format",
        "json",
    ],
}
# stage name -> (module, function) timed by --stages; nested stages count inside their parent
STAGES: dict[str, tuple[str, str]] = {
    "searches (six SPL queries)": ("huntbook.hunts.runner", "_run_queries"),
    "one scan for the analytics": ("huntbook.hunts.findings", "scan"),
    "lateral movement": ("huntbook.hunts.findings", "ANALYTICS:lateral_movement"),
    "  connections": ("huntbook.analytics.sessions", "connections"),
    "  address book": ("huntbook.analytics.sessions", "address_book"),
    "  sessions (logons + activity)": ("huntbook.analytics.lateral_movement", "session_context"),
    "  nearby events": ("huntbook.analytics.lateral_movement", "_nearby"),
    "  traces": ("huntbook.analytics.lateral_movement", "add_traces"),
    "  connection rules": ("huntbook.analytics.lateral_movement", "add_connections"),
    "  explicit credentials": ("huntbook.analytics.lateral_movement", "_add_explicit"),
    "powershell": ("huntbook.hunts.findings", "ANALYTICS:powershell"),
    "visibility": ("huntbook.hunts.findings", "ANALYTICS:visibility"),
    "evidence files and records": ("huntbook.hunts.findings", "_name_sources"),
    "report files": ("huntbook.hunts.writer", "write_reports"),
}


# --- the cached store -----------------------------------------------------------------------------
def build_store(events: int, seed: int, given: Path | None) -> Any:
    """The store at ``given``, or the one of ``events`` generated events (built on first use)."""
    from huntbook.store import Store

    if given is not None:
        return Store(given)
    folder = CACHE / f"hunt-{events}-{seed}"
    store = Store(folder / "store")
    if (store.path / "manifest.json").exists() and store.manifest().get("batches"):
        return store
    from huntbook.demo import generate
    from huntbook.workspace import Workspace

    generate(folder / "raw", events=events, seed=seed)
    # as `huntbook ingest` builds it: a new store keeps the analytics' summaries
    Workspace(store.path).ingest([folder / "raw"], index="botsv2")
    return store


def event_count(store: Any) -> int:
    return int(store.connect().execute("SELECT count(*) FROM events").fetchone()[0])


# --- whole processes ------------------------------------------------------------------------------
def run_child(argv: list[str]) -> dict[str, Any]:
    """Wall seconds, peak RSS (MiB) and exit status of one child process."""
    start = time.perf_counter()
    with Path(os.devnull).open("wb") as null:
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "exit": proc.returncode,
        "stderr": stderr.decode(errors="replace")[-400:] if proc.returncode else "",
    }


def whole_runs(store_path: Path, repeat: int) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, command in COMMANDS.items():
        runs = []
        for _ in range(max(repeat, 1)):
            with tempfile.TemporaryDirectory() as out:
                runs.append(run_child(command(store_path, Path(out))))
        best = min(runs, key=lambda r: r["wall_s"])
        found[name] = {**best, "walls_s": [r["wall_s"] for r in runs]}
    return found


# --- stages ---------------------------------------------------------------------------------------
class Timer:
    """Seconds spent in each stage and rows fetched by the analytics' queries while inside it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.rows: dict[str, int] = defaultdict(int)
        self.active: list[str] = []
        self.total_rows = 0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.active.append(name)
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.cpu[name] += time.process_time() - cpu
                self.active.pop()

        return timed

    def count_rows(self, fn: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        def counted(*args: Any, **kwargs: Any) -> list[Any]:
            found = fn(*args, **kwargs)
            self.total_rows += len(found)
            for name in self.active:
                self.rows[name] += len(found)
            return found

        return counted


def instrument(timer: Timer) -> None:
    """Put a timer around each stage of STAGES (looked up where its caller finds it)."""
    for name, (module_name, attr) in STAGES.items():
        module = import_module(module_name)
        if attr.startswith("ANALYTICS:"):
            key = attr.split(":", 1)[1]
            fn, empty = module.ANALYTICS[key]
            module.ANALYTICS[key] = (timer.wrap(name, fn), empty)
            continue
        setattr(module, attr, timer.wrap(name, getattr(module, attr)))
    for module_name in (
        "scan",
        "sessions",
        "lateral_movement",
        "traces",
        "addresses",
        "powershell_findings",
        "visibility",
    ):
        module = import_module(f"huntbook.analytics.{module_name}")
        if hasattr(module, "rows"):
            module.rows = timer.count_rows(module.rows)


def per_search(timer: Timer) -> None:
    """Time each search of the hunt (a templated one with all its runs) as a stage of its own."""
    from huntbook.hunts import runner

    real = runner._run_query

    def timed(store: Any, query: Any, *args: Any) -> Any:
        name = f"  search {query.index}: {query.title}"
        return timer.wrap(name, real)(store, query, *args)

    runner._run_query = timed


def stages(store: Any) -> dict[str, dict[str, float]]:
    from huntbook.hunts.runner import run_hunt

    timer = Timer()
    instrument(timer)
    per_search(timer)
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out:
        result = run_hunt(store, PLAYBOOK, out=out, overlap=False)  # one stage at a time
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    names = [*STAGES, *sorted(n for n in timer.seconds if n.startswith("  search "))]
    table = {
        n: {"s": round(timer.seconds[n], 3), "cpu_s": round(timer.cpu[n], 3), "rows": timer.rows[n]}
        for n in names
    }
    table["run_hunt (all of the above)"] = {
        "s": round(total, 3),
        "cpu_s": round(total_cpu, 3),
        "rows": timer.total_rows,
    }
    hits = [q.hits for q in result.queries]
    print(f"seed hits: {hits}; edges: {len(result.findings.lateral_movement)}")
    return table


# --- report ---------------------------------------------------------------------------------------
def print_report(report: dict[str, Any]) -> None:
    print(f"{report['events']:,} events in {report['store']}")
    print(f"machine: {report['machine']}; load average {report['load']}")
    print("| command | wall s (fastest) | CPU s | peak RSS MiB | runs s | exit |")
    print("|---|---|---|---|---|---|")
    for name, r in report["whole"].items():
        runs = ", ".join(f"{w:.2f}" for w in r["walls_s"])
        print(
            f"| {name} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['peak_rss_mib']} | {runs} "
            f"| {r['exit']} |"
        )
        if r["stderr"]:
            print(r["stderr"])
    if report.get("stages"):
        print("| stage | wall s | CPU s | rows into Python |")
        print("|---|---|---|---|")
        for name, s in report["stages"].items():
            print(f"| {name} | {s['s']:.3f} | {s['cpu_s']:.3f} | {s['rows']:,} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20170823)
    parser.add_argument("--store", type=Path, help="an existing store (else built and cached)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (fastest)")
    parser.add_argument("--stages", action="store_true", help="also time each stage in-process")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    store = build_store(args.events, args.seed, args.store)
    report: dict[str, Any] = {
        "events": event_count(store),
        "store": str(store.path),
        "machine": machine(),
        "load": os.getloadavg(),
        "whole": whole_runs(Path(store.path), args.repeat),
    }
    if args.stages:
        report["stages"] = stages(store)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
