"""The seed's six searches on DuckDB and on Spark (same store, same answers), timed side by side.

Usage: ``python bench/spark.py --store DIR [--master local[2]] [--repeat R]``

``--store`` is an ingested store (e.g. ``huntbook generate --events 1000000 --out RAW`` then
``huntbook ingest RAW --index botsv2 --store DIR``). Each search is timed from ``run_spl`` to the
last row (first run and median of R); the Spark session starts before the first timing (its
start-up is printed apart), and the first Spark search also registers the store's view. Row
counts must match between the engines (the script stops otherwise).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import fill_placeholders, seed_searches, short_name  # noqa: E402

from huntbook.engines import EngineChoice  # noqa: E402
from huntbook.query import run_spl  # noqa: E402
from huntbook.store import Store  # noqa: E402


def timed(store: Any, spl: str, engine: EngineChoice, repeat: int) -> tuple[float, float, int]:
    times, rows = [], 0
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        rows = len(run_spl(store, spl, engine=engine).rows())
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = Store(args.store)
    from huntbook.engines.spark import spark_session

    start = time.perf_counter()
    spark_session(args.master).sparkContext.setLogLevel("ERROR")
    print(f"Spark start-up: {time.perf_counter() - start:.1f} s")
    searches = seed_searches()
    filled = fill_placeholders(store, searches)
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
