"""Ingest throughput against the bare parsers, peak memory, and store size (BENCHMARKS.md "Ingest").

    python bench/ingest.py [--data ../shared/data] [--copies N]

Two measurements, each beside its bare baseline over the same files in the same run:

- EVTX: ``huntbook`` ingest of every .evtx under DATA/evtx against a bare loop over
  ``evtx.PyEvtxParser(path).records_json()``.
- JSON lines: ingest of the Security-Datasets recordings (unzipped first, ``--copies`` times, each
  copy made distinct so it is not skipped as a duplicate) against a bare ``json.loads`` pass per
  line (and, for reference, ``orjson.loads``).

Each ingest runs in a child process so its peak resident memory (ru_maxrss) is its own. Rates are
events per second of wall-clock time and of CPU time (user+sys of the process and its threads); the
CPU figures are the ones to compare on a shared machine. ``--repeat N`` runs every measurement N
times and keeps the fastest (CPU time on shared cores swings by 20% with the neighbours' load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import evtx
import orjson

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn: Callable[[], int]) -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    events = fn()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return {"events": events, "wall": wall, "cpu": cpu}


def best(runs: int, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run with the least CPU time out of ``runs``."""
    return min((fn() for _ in range(max(runs, 1))), key=lambda m: float(m["cpu"]))


def bare_evtx(files: list[Path]) -> int:
    count = 0
    for path in files:
        for _ in evtx.PyEvtxParser(str(path)).records_json():
            count += 1
    return count


def bare_json(files: list[Path], loads: Callable[[bytes], Any]) -> int:
    count = 0
    for path in files:
        with path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    loads(line)
                    count += 1
    return count


def child_ingest(store: str, paths: list[str]) -> None:
    """Run in the child: ingest and print timings and peak RSS as JSON (imports not timed)."""
    import huntbook.store.ingesting  # noqa: F401  # the readers and normalizers, imported up front
    from huntbook.normalize.tables import tables
    from huntbook.store import Store

    tables()

    def run() -> int:
        summary = Store(store).ingest(paths, index="bench")
        if summary.failed:
            raise SystemExit(f"failed: {[f.error for f in summary.failed]}")
        return summary.events

    result = _timed(run)
    result["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def ingest(store: Path, paths: list[Path]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(store), *map(str, paths)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def unzip_recordings(data: Path, out: Path, copies: int) -> list[Path]:
    files = []
    for archive in sorted((data / "security-datasets").glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            name = zf.namelist()[0]
            body = zf.read(name)
        for copy in range(copies):
            path = out / f"{copy:02d}-{Path(name).name}"
            path.write_bytes(body + b"\n" * copy)  # distinct content, same events
            files.append(path)
    return files


def _fresh(store: Path) -> Path:
    """``store``, emptied: a repeated ingest must not find its files already stored."""
    shutil.rmtree(store, ignore_errors=True)
    return store


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _rates(measure: dict[str, float]) -> str:
    return (
        f"{measure['events'] / measure['wall']:>9,.0f} ev/s wall "
        f"{measure['events'] / max(measure['cpu'], 1e-9):>9,.0f} ev/s cpu"
    )


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"nproc {os.cpu_count()}, {cpu}, {pages / 2**30:.1f} GiB RAM, "
        f"Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def report(name: str, bare: dict[str, float], ours: dict[str, Any], bare_label: str) -> None:
    print(f"{name}: {ours['events']:,} events")
    print(f"  {bare_label:<28} {_rates(bare)}")
    print(f"  {'huntbook ingest':<28} {_rates(ours)}   peak RSS {ours['maxrss_mib']:.0f} MiB")
    print(
        f"  ratio ingest/bare: wall {bare['wall'] / ours['wall']:.2f}x, "
        f"cpu {bare['cpu'] / ours['cpu']:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--copies", type=int, default=1, help="copies of the JSON recordings")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (fastest kept)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="huntbook-bench-"))
    try:
        evtx_files = sorted((args.data / "evtx").rglob("*.evtx"))
        n = args.repeat
        bare = best(n, lambda: _timed(lambda: bare_evtx(evtx_files)))
        ours = best(n, lambda: ingest(_fresh(work / "evtx-store"), [args.data / "evtx"]))
        report("EVTX", bare, ours, "bare evtx records_json")

        jsonl = work / "jsonl"
        jsonl.mkdir()
        files = unzip_recordings(args.data, jsonl, args.copies)
        bare = best(n, lambda: _timed(lambda: bare_json(files, json.loads)))
        fast = best(n, lambda: _timed(lambda: bare_json(files, orjson.loads)))
        ours = best(n, lambda: ingest(_fresh(work / "json-store"), [jsonl]))
        report("JSON lines", bare, ours, "bare json.loads per line")
        print(f"  {'(orjson.loads per line)':<28} {_rates(fast)}")
        json_bytes, store_bytes = _size(jsonl), _size(work / "json-store")
        print(
            f"  store {store_bytes / 2**20:.1f} MiB for {json_bytes / 2**20:.1f} MiB of JSON: "
            f"{json_bytes / store_bytes:.1f}x smaller"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_ingest(sys.argv[2], sys.argv[3:])
    else:
        main()
