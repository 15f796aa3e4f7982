"""The seed's six searches on one store, read locally and from S3 (moto's server on 127.0.0.1).

Usage: ``python bench/object_storage.py --store DIR [--repeat R] [--engine spark]`` (needs
``moto[server]``; Spark on S3 needs Hadoop's S3A connector: ``make test-jars`` and
``SPARK_CONF_DIR``, docs/scale-out.md).

The store is copied into a moto bucket and searched as ``s3://bench/store`` through DuckDB
(pyarrow's S3 filesystem registered as an fsspec filesystem, store/remote.py). moto is a Python
server on this machine, so the S3 figures measure huntbook's object-storage path plus moto, not a
real S3's latency or bandwidth. Row counts must match (the script stops otherwise).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import fill_placeholders, seed_searches, short_name  # noqa: E402

from huntbook.engines import EngineChoice  # noqa: E402
from huntbook.query import run_spl  # noqa: E402
from huntbook.store import Store, open_store  # noqa: E402


def timed(store: Store, spl: str, repeat: int, engine: EngineChoice) -> tuple[float, float, int]:
    times, rows = [], 0
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        rows = len(run_spl(store, spl, engine=engine).rows())
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times), rows


def s3_copy(local: Path) -> str:
    """Start moto on a free loopback port, point the AWS environment at it, copy the store up."""
    import pyarrow.fs as pafs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_EC2_METADATA_DISABLED="true",
    )
    fs = pafs.S3FileSystem(
        endpoint_override=endpoint, region="us-east-1", allow_bucket_creation=True
    )
    fs.create_dir("bench")
    pafs.copy_files(str(local), "bench/store", destination_filesystem=fs)
    return "s3://bench/store"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--master", default="local[2]", help="Spark's master (--engine spark)")
    args = parser.parse_args()
    engine = EngineChoice(args.engine, args.master if args.engine == "spark" else None)
    local = Store(args.store)
    remote = open_store(s3_copy(args.store))
    started = time.perf_counter()
    run_spl(local, "index=* | head 1", engine=engine)  # Spark's start-up, timed apart
    print(f"{args.engine} ready in {time.perf_counter() - started:.1f} s (a first local search)")
    searches = seed_searches()
    filled = fill_placeholders(local, searches)
    print("| search | rows | local first s | local median s | S3 (moto) first s | S3 median s |")
    print("|---|---|---|---|---|---|")
    for title, spl in searches:
        for key, value in filled.items():
            spl = spl.replace(key, value)
        here = timed(local, spl, args.repeat, engine)
        there = timed(remote, spl, args.repeat, engine)
        if here[2] != there[2]:
            raise SystemExit(f"{title}: local {here[2]} rows, S3 {there[2]}")
        print(
            f"| {short_name(title)[0]} | {here[2]:,} | {here[0]:.2f} | {here[1]:.2f} "
            f"| {there[0]:.2f} | {there[1]:.2f} |"
        )


if __name__ == "__main__":
    main()
