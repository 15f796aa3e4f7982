"""Benchmark of the demo generator: events per second and peak memory, on this machine.

Usage: ``python bench/generate.py [--events N] [--seed S] [--out DIR] [--keep] [--json F]``

Writes N events (default 1,000,000) with ``huntbook.demo.generate`` into DIR (default
.bench/generate-N, deleted afterwards unless --keep) and prints the rate, the size on disk, the
peak resident memory and the machine (cores, CPU model, RAM), the lines BENCHMARKS.md records.
With --keep it also prepares a dataset for other benchmarks, e.g. 10 million events for the search
benchmark: ``python bench/generate.py --events 10000000 --out .bench/raw-10M --keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import time
from pathlib import Path

from huntbook.demo import DEFAULT_SEED, generate

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, object]:
    """Cores, CPU model and RAM, read from /proc where it exists."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gib = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        ram_gib = round(kib / 2**20, 1)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": ram_gib,
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    out = args.out or ROOT / ".bench" / f"generate-{args.events}"
    if out.exists():
        shutil.rmtree(out)
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = generate(out, events=args.events, seed=args.seed)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    numbers = {
        "events": summary.events,
        "seed": args.seed,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "events_per_s_wall": round(summary.events / wall),
        "events_per_s_cpu": round(summary.events / cpu),
        "bytes": size,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": machine(),
    }
    print(f"generated {summary.events:,} events in {wall:.1f} s wall / {cpu:.1f} s CPU")
    print(
        f"rate: {numbers['events_per_s_wall']:,} events/s (wall), "
        f"{numbers['events_per_s_cpu']:,} events/s (CPU)"
    )
    print(
        f"on disk: {size / 2**20:,.0f} MiB ({size / summary.events:,.0f} bytes/event); "
        f"peak RSS {numbers['peak_rss_mib']} MiB"
    )
    print(f"machine: {json.dumps(numbers['machine'])}")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")
    if args.keep:
        print(f"kept in {out}")
    else:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
