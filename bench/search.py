"""Benchmark of the SPL engine on a generated store: each seed search, compile time, linearity.

Usage: ``python bench/search.py [--events N] [--seed S] [--repeat R] [--compiles C] [--json F]``

The store is built once with the demo generator (``huntbook.demo.generate`` then
``huntbook.ingest.ingest`` as index botsv2) and cached under ``.bench/`` in the repository
(gitignored), one folder per size and seed. The store of N/10 events is built too, so the
linearity check compares the same searches at both sizes: a ratio near 10 (or below) means cost
grows linearly with events.

Targets on the 2-core reference machine (issue 3): the field-filter search under 1 s, the
transaction search under 10 s, compile under 5 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from huntbook.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench"
SEED_FILES = (
    ROOT / ".." / "shared" / "seed" / "wmi-lateral-movement-hunt.md",
    ROOT / "src" / "huntbook" / "playbooks" / "wmi-lateral-movement.md",
)
#: search title fragment -> (short name, target seconds or None)
SEARCHES = {
    "What Data": ("metadata", None),
    "WMI Process Execution": ("field-filter", 1.0),
    "WMI Network Connection": ("sysmon-3", None),
    "Network 4624": ("transaction", 10.0),
    "Logon ID": ("session-events", None),
    "Parent Command-Line": ("wmi-children", None),
}
COMPILE_TARGET_MS = 5.0


def seed_searches() -> list[tuple[str, str]]:
    """(title, spl) of each ```spl block in the seed report (or the shipped copy of it)."""
    for path in SEED_FILES:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            pairs = re.findall(r"^([^\n]+)\n\n```spl\n(.*?)```", text, re.M | re.S)
            return [(title.strip(), spl.strip()) for title, spl in pairs]
    raise SystemExit("no seed report found (../shared/seed or src/huntbook/playbooks)")


def short_name(title: str) -> tuple[str, float | None]:
    for fragment, meta in SEARCHES.items():
        if fragment.lower() in title.lower():
            return meta
    return title, None


# --- the cached store -----------------------------------------------------------------------------
def build_store(events: int, seed: int) -> tuple[Any, dict[str, float]]:
    """The store of ``events`` generated events, built on first use and reused afterwards."""
    from huntbook.demo import generate
    from huntbook.store import Store

    folder = CACHE / f"search-{events}-{seed}"
    store = Store(folder / "store")
    timings: dict[str, float] = {}
    if store.manifest().get("batches"):
        return store, timings
    start = time.perf_counter()
    generate(folder / "raw", events=events, seed=seed)
    timings["generate_s"] = time.perf_counter() - start
    start = time.perf_counter()
    ingest(store, [folder / "raw"], index="botsv2")
    timings["ingest_s"] = time.perf_counter() - start
    return store, timings


def event_count(store: Any) -> int:
    con = store.connect()
    return int(con.execute("SELECT count(*) FROM events").fetchone()[0])


# --- timing ---------------------------------------------------------------------------------------
def time_search(store: Any, spl: str, repeat: int) -> dict[str, Any]:
    """Wall time of running the search and fetching every row: first run and median of repeats."""
    from huntbook.query import run_spl

    times, rows = [], 0
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        rows = len(run_spl(store, spl).rows())
        times.append(time.perf_counter() - start)
    return {"first_s": times[0], "median_s": statistics.median(times), "rows": rows}


def time_compile(spl: str, fields: dict[str, str], compiles: int) -> tuple[float, float]:
    """Mean milliseconds to compile (SPL text -> sqlglot tree) and to render that tree as SQL."""
    from huntbook.query import compile_spl

    compiles = max(compiles, 1)
    start = time.perf_counter()
    for _ in range(compiles):
        query = compile_spl(spl, fields)
    middle = time.perf_counter()
    for _ in range(compiles):
        query.sql("duckdb")
    end = time.perf_counter()
    return (middle - start) / compiles * 1000, (end - middle) / compiles * 1000


def fill_placeholders(store: Any, searches: list[tuple[str, str]]) -> dict[str, str]:
    """Q4's <login_id>/<host> from the first row of the transaction search (as a hunter would)."""
    from huntbook.query import run_spl

    q3 = next(spl for title, spl in searches if short_name(title)[0] == "transaction")
    rows = run_spl(store, q3).rows()
    if not rows:
        return {"<login_id>": "0x0", "<host>": "none"}
    host = rows[0]["host"]
    host = host[0] if isinstance(host, list) else host
    return {"<login_id>": str(rows[0]["session"]), "<host>": str(host)}


def measure(store: Any, searches: list[tuple[str, str]], args: argparse.Namespace) -> list[dict]:
    fields = store.fields()
    filled = fill_placeholders(store, searches)
    results = []
    for title, spl in searches:
        for key, value in filled.items():
            spl = spl.replace(key, value)
        name, target = short_name(title)
        entry = {"search": name, "target_s": target, **time_search(store, spl, args.repeat)}
        entry["compile_ms"], entry["render_ms"] = time_compile(spl, fields, args.compiles)
        results.append(entry)
    return results


# --- report ---------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = found.group(1) if found else cpu
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.M)
        mem = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB" if found else ""
    import duckdb
    import sqlglot

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": mem,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "sqlglot": sqlglot.__version__,
    }


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "ok" if value < target else "OVER TARGET"


def print_report(report: dict[str, Any]) -> None:
    print(f"machine: {report['machine']}")
    for size in report["sizes"]:
        print(f"\nstore of {size['events']:,} events  {size.get('build', {})}")
        print(
            f"{'search':<16}{'rows':>8}{'first s':>10}{'median s':>10}{'compile ms':>12}"
            f"{'render ms':>11}  time / compile vs target"
        )
        for r in size["results"]:
            mark = verdict(r["median_s"], r["target_s"]) or "-"
            cmark = verdict(r["compile_ms"], COMPILE_TARGET_MS)
            print(
                f"{r['search']:<16}{r['rows']:>8}{r['first_s']:>10.3f}{r['median_s']:>10.3f}"
                f"{r['compile_ms']:>12.3f}{r['render_ms']:>11.3f}  {mark} / {cmark}"
            )
    if "linearity" in report:
        print("\nlinearity (median time at N / time at N/10; about 10 or less is linear):")
        for name, ratio in report["linearity"].items():
            print(f"  {name:<16}{ratio:>8.2f}")


def linearity(small: list[dict], big: list[dict]) -> dict[str, float]:
    return {
        b["search"]: b["median_s"] / s["median_s"] if s["median_s"] > 0 else float("nan")
        for s, b in zip(small, big, strict=True)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=20170823)
    parser.add_argument("--repeat", type=int, default=3, help="runs per search (median)")
    parser.add_argument("--compiles", type=int, default=200, help="compiles per search (mean)")
    parser.add_argument("--no-linearity", action="store_true", help="skip the N/10 store")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--build-only", action="store_true", help="build the cached stores, stop")
    args = parser.parse_args(argv)

    searches = seed_searches()
    sizes = [args.events] if args.no_linearity else [args.events // 10, args.events]
    if args.build_only:
        for size in sizes:
            store, build = build_store(size, args.seed)
            print(f"{event_count(store):,} events in {store.path} {build}", flush=True)
        return 0
    report: dict[str, Any] = {"machine": machine(), "sizes": []}
    for size in sizes:
        store, build = build_store(size, args.seed)
        results = measure(store, searches, args)
        report["sizes"].append(
            {"events": event_count(store), "requested": size, "build": build, "results": results}
        )
    if len(report["sizes"]) == 2:
        report["linearity"] = linearity(*(s["results"] for s in report["sizes"]))
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
