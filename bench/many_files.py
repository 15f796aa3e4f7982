"""Benchmark of an ingest of many tiny files: the per-file steps must not grow with the store.

Usage: ``python bench/many_files.py [--files N]``

Writes N tiny JSON-lines files (one event each, all different) twice, in two folders, and ingests
them into a new store one folder after the other: the first ingest meets an empty store, the second
a store already holding N inputs. Checking a file against the inputs already stored and the files
planned before it is a set lookup, so both take about the same time, linear in N (before, each
file scanned every stored input and rebuilt the set of planned hashes: quadratic in N).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson

from huntbook.ingest import IngestSettings, ingest
from huntbook.store import Store

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "wmi_chain.jsonl"


def tiny_files(folder: Path, count: int, first: int) -> Path:
    """``count`` one-event files whose events differ by record number (from ``first``)."""
    event = orjson.loads(DATA.read_bytes().splitlines()[0])
    folder.mkdir()
    for n in range(count):
        line = orjson.dumps({**event, "RecordNumber": first + n})
        (folder / f"e{n:05d}.jsonl").write_bytes(line + b"\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store(root / "store")
        for name, first in (("an empty store", 0), (f"a store of {args.files} inputs", args.files)):
            folder = tiny_files(root / f"in{first}", args.files, first)
            started = time.perf_counter()
            summary = ingest(store, [folder], settings=IngestSettings(workers=1))
            seconds = time.perf_counter() - started
            assert len(summary.stored) == args.files, summary.failed
            print(f"{args.files} tiny files into {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
