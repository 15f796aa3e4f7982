"""Searches and ingest on DuckDB/local and on Spark (same store, same answers), timed side by side.

Usage:
    python bench/spark.py --store DIR [--master local[2]] [--repeat R] [--searches WHICH]
    python bench/spark.py --ingest RAW --out DIR [--master local[2] | --remote sc://HOST:PORT]

``--store`` is an ingested store (e.g. ``huntbook generate --events 1000000 --out RAW`` then
``huntbook ingest RAW --index botsv2 --store DIR``): the seed's six searches and a few
representative ones (``REPRESENTATIVE``: stats, timechart BY, rex, eval/where, values), or only
one of the two (``--searches seed`` or ``representative``). Each
search is timed from ``run_spl`` to the last row (first run and median of R); the Spark session
starts before the first timing (its start-up is printed apart), and the first Spark search also
registers the store's view. Row counts must match between the engines (the script stops
otherwise).

``--ingest RAW --out DIR`` ingests RAW (as index botsv2) twice, into ``DIR/local`` with this
machine's reading processes and into ``DIR/spark`` on Spark (``huntbook ingest --engine spark``),
each timed to its summary (the Spark time includes the session's start-up, printed apart), then
checks the two stores are the same: the manifest but its commit times, and byte-identical Parquet
files. DIR must not exist (the stores are left there: delete them after). With ``--remote``
the Spark ingest runs through that Spark Connect server (``--spark-remote``), already started.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import fill_placeholders, seed_searches, short_name  # noqa: E402

from huntbook.engines import EngineChoice  # noqa: E402
from huntbook.ingest import ingest  # noqa: E402
from huntbook.query import run_spl  # noqa: E402
from huntbook.store import Store  # noqa: E402

REPRESENTATIVE = [
    (
        "stats-by",
        "index=botsv2 EventCode=4624 | stats count dc(host) AS hosts by Logon_Type | sort - count",
    ),
    ("timechart-by", "index=botsv2 EventCode=1 | timechart span=1h count by host limit=5"),
    (
        "rex-top",
        'index=botsv2 EventCode=1 | rex field=Image "(?<exe>[A-Za-z0-9_]+)[.]exe$" '
        "| top limit=10 exe",
    ),
    (
        "eval-where",
        "index=botsv2 EventCode=4688 | eval n=len(Process_Command_Line) | where n > 60 "
        "| table _time host n | sort - _time | head 50",
    ),
    (
        "values",
        "index=botsv2 EventCode=1 | stats values(host) AS hosts count by ParentImage "
        "| sort - count | head 20",
    ),
]


def timed(store: Any, spl: str, engine: EngineChoice, repeat: int) -> tuple[float, float, int]:
    times, rows = [], 0
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        rows = len(run_spl(store, spl, engine=engine).rows())
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times), rows


def spark_up(master: str) -> float:
    """Start the Spark session; its start-up in seconds."""
    from huntbook.engines.spark import spark_session

    start = time.perf_counter()
    spark_session(master).sparkContext.setLogLevel("ERROR")
    return time.perf_counter() - start


def snapshot(store: Store) -> tuple[Any, list[str]]:
    """The manifest but its commit times, and the sha256 of each committed file."""
    manifest: dict[str, Any] = dict(store.manifest())
    batches = manifest.pop("batches")
    manifest["batches"] = [{k: v for k, v in b.items() if k != "committed"} for b in batches]
    files = [store.path / f for b in batches for f in b["files"]]
    return manifest, [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]


def compare_ingest(raw: Path, out: Path, master: str, remote: str | None) -> None:
    from huntbook.engines.spark import spark_session
    from huntbook.ingest.spark import spark_readers

    out.mkdir(parents=True)
    if remote is None:
        print(f"Spark start-up: {spark_up(master):.1f} s")
    session = functools.partial(spark_session, master, remote)
    readers = {"local": None, "spark": functools.partial(spark_readers, session, remote or master)}
    stores = {}
    print("| ingest | events | files | batches | seconds | events/s | read by |")
    print("|---|---|---|---|---|---|---|")
    for name, reading in readers.items():
        stores[name] = Store(out / name)
        summary = ingest(stores[name], [raw], index="botsv2", readers=reading)
        batches = len(stores[name].manifest()["batches"])
        rate = summary.events / summary.seconds
        who = f"{summary.engine}, {summary.workers} at a time"
        print(
            f"| {name} | {summary.events:,} | {len(summary.stored)} | {batches} "
            f"| {summary.seconds:.1f} | {rate:,.0f} | {who} |"
        )
    same = snapshot(stores["local"]) == snapshot(stores["spark"])
    print(f"same store (manifest but commit times, byte-identical Parquet files): {same}")
    if not same:
        raise SystemExit("the Spark ingest's store differs from the local one")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path)
    parser.add_argument("--ingest", type=Path, metavar="RAW")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--remote", help="a Spark Connect server for --ingest (sc://host:port)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--searches",
        choices=("all", "seed", "representative"),
        default="all",
        help="the seed's six, REPRESENTATIVE, or both",
    )
    args = parser.parse_args()
    if args.ingest is not None:
        if args.out is None:
            parser.error("--ingest needs --out")
        compare_ingest(args.ingest, args.out, args.master, args.remote)
        return
    if args.store is None:
        parser.error("give --store (searches) or --ingest RAW --out DIR")
    store = Store(args.store)
    print(f"Spark start-up: {spark_up(args.master):.1f} s")
    seed = seed_searches()
    filled = fill_placeholders(store, seed)
    chosen = {"all": seed + REPRESENTATIVE, "seed": seed, "representative": REPRESENTATIVE}
    searches = chosen[args.searches]
    engines = {"duckdb": EngineChoice("duckdb"), "spark": EngineChoice("spark", args.master)}
    print("| search | rows | DuckDB first s | DuckDB median s | Spark first s | Spark median s |")
    print("|---|---|---|---|---|---|")
    for title, spl in searches:
        for key, value in filled.items():
            spl = spl.replace(key, value)
        duck = timed(store, spl, engines["duckdb"], args.repeat)
        spark = timed(store, spl, engines["spark"], args.repeat)
        if duck[2] != spark[2]:
            raise SystemExit(f"{title}: DuckDB {duck[2]} rows, Spark {spark[2]}")
        name = short_name(title)[0]
        print(
            f"| {name} | {duck[2]:,} | {duck[0]:.2f} | {duck[1]:.2f} | {spark[0]:.2f} "
            f"| {spark[1]:.2f} |"
        )


if __name__ == "__main__":
    main()
