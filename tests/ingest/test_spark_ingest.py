"""``huntbook ingest --engine spark``: Spark's executors read, the store is the local ingest's.

One Spark session (local[2]) for the module, shared with the other Spark tests of the run
(``spark_session`` gives the process's one session); skips without pyspark or Java.
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from evtx_bytes import FILE_HEADER, evtx_file

from huntbook.errors import EngineError, StoreError
from huntbook.ingest import IngestSettings, Member, ingest, members
from huntbook.ingest.pieces import EVTX_CHUNK
from huntbook.ingest.reading import ReadTask
from huntbook.ingest.workers import WorkerError
from huntbook.store import Store
from huntbook.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data"
MASTER = "local[2]"  # the test run's one SparkSession (tests/conftest.py) runs there


def _on_spark() -> Any:
    """What ``Workspace.ingest(engine="spark")`` reads with, on ``MASTER``."""
    from huntbook.engines.spark import spark_session
    from huntbook.ingest.spark import spark_readers

    return functools.partial(spark_readers, functools.partial(spark_session, MASTER), MASTER)


def _snapshot(store: Store) -> dict[str, Any]:
    """Everything a search can see of a store: its rows and columns in order, and its manifest
    (columns, case variants, batches with their files, inputs and field catalog) but the
    commit times."""
    manifest: dict[str, Any] = dict(store.manifest())
    manifest["batches"] = [
        {k: v for k, v in batch.items() if k != "committed"} for batch in manifest["batches"]
    ]
    with store.connect() as con:
        cursor = con.execute("SELECT * FROM events ORDER BY _cd")
        manifest["rows"] = cursor.fetchall()
        manifest["columns"] = [d[0] for d in cursor.description]
    manifest["store_columns"] = store.columns()
    return manifest


def _outcomes(summary: Any) -> list[tuple[Any, ...]]:
    return [
        (f.path, f.status, f.fmt, f.events, f.skipped_count, f.error, dict(f.sourcetypes))
        for f in summary.files
    ]


def _both(
    tmp_path: Path, paths: list[Path], settings: IngestSettings
) -> tuple[Store, Store, Any, Any]:
    local, on_spark = Store(tmp_path / "local"), Store(tmp_path / "spark")
    one = ingest(local, paths, index="diff", settings=settings)
    two = ingest(on_spark, paths, index="diff", settings=settings, readers=_on_spark())
    return local, on_spark, one, two


def test_the_fixtures_make_the_same_store_on_spark(spark: Any, tmp_path: Path) -> None:
    # a task per file and small batches: several Spark windows and batches
    settings = IngestSettings(workers=1, task_bytes=1, batch_bytes=4096)
    local, on_spark, one, two = _both(tmp_path, [DATA], settings)
    assert _outcomes(one) == _outcomes(two) and one.events == 18
    assert (two.engine, two.workers, one.engine) == (f"Spark {MASTER}", 2, "local")
    assert len(local.manifest()["batches"]) > 1
    assert _snapshot(on_spark) == _snapshot(local)
    again = ingest(on_spark, [DATA], index="diff", readers=_on_spark())
    assert {f.status for f in again.files} == {"duplicate"}


@pytest.mark.shared
def test_the_shared_recordings_make_the_same_store_on_spark(
    spark: Any, shared_data: Path, tmp_path: Path
) -> None:
    """EVTX files (the biggest cut in 4-chunk pieces), Security-Datasets archives (Sysmon and
    Security events: case variants)."""
    paths = [
        shared_data / "evtx" / "DeepBlueCLI",
        shared_data / "evtx" / "chainsaw",
        shared_data / "lateral-movement" / "schtask_create.zip",
        shared_data / "security-datasets" / "empire_launcher_vbs.zip",
    ]
    settings = IngestSettings(workers=1, piece_bytes=4 * EVTX_CHUNK)
    local, on_spark, one, two = _both(tmp_path, paths, settings)
    assert _outcomes(one) == _outcomes(two)
    assert one.events > 3_000 and not one.failed
    assert len(local.manifest().get("variants", {})) > 0
    assert _snapshot(on_spark) == _snapshot(local)


def _main(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> tuple[Any, Any]:
    from huntbook.cli import main

    monkeypatch.setattr(sys, "argv", ["huntbook", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code, capsys.readouterr()


def test_a_partial_file_exits_3_and_a_failed_one_10_on_spark(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    partial = tmp_path / "partial.jsonl"
    partial.write_bytes(b'{"EventID": 4624, "Chan\n' + (DATA / "wmi_chain.jsonl").read_bytes())
    store = ["--store", str(tmp_path / "s"), "--engine", "spark"]
    code, out = _main(
        ["ingest", str(partial), *store, "--spark-master", MASTER], monkeypatch, capsys
    )
    assert code == 3, out
    assert f"read on Spark {MASTER} (2 tasks at a time)" in out.out
    assert f"{partial}: 3 events stored, 1 records or stretches could not be read" in out.out
    assert out.err.endswith("Warning: 1 file stored only in part (listed above)\n")
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(evtx_file(3)[: FILE_HEADER + 300])
    code, out = _main(["ingest", str(cut), *store], monkeypatch, capsys)
    assert code == 10, out
    assert f"{cut}: no readable records (2 skipped; first: {cut} (chunk 0): cut short" in out.out


def test_a_task_that_breaks_on_an_executor_is_reported(spark: Any, tmp_path: Path) -> None:
    broken = Member("broken", functools.partial(int, "not a stream"))  # ValueError on open
    (tmp_path / "x.jsonl").write_bytes(b"")
    task = ReadTask(((tmp_path / "x.jsonl", ((broken, "jsonl"),)),), "main", None, tmp_path, "t")
    with (
        _on_spark()(1, 1) as reading,
        pytest.raises(WorkerError, match="ValueError"),
    ):
        list(reading.read([task]))


def test_an_executor_that_does_not_see_the_files_stops_the_ingest_naming_them(
    spark: Any, tmp_path: Path
) -> None:
    (member,) = members(DATA / "wmi_chain.jsonl")
    plan = ((DATA / "wmi_chain.jsonl", ((member, "jsonl"),)),)
    elsewhere = tmp_path / "not-shared"  # a work folder the executors do not have
    task = ReadTask(plan, "main", None, elsewhere, "t")
    with (
        _on_spark()(1, 1) as reading,
        pytest.raises(
            WorkerError, match=f"does not see {elsewhere}: the input files and the store"
        ),
    ):
        list(reading.read([task]))


def test_an_ingest_stopped_early_interrupts_its_spark_jobs(spark: Any, tmp_path: Path) -> None:
    """Ctrl-C (or any error) while Spark reads the next window: its jobs are interrupted, not
    waited for."""
    from huntbook.ingest.spark import AHEAD

    path = tmp_path / "x.jsonl"
    path.write_bytes(b"")
    sleeps = Member("sleeps", functools.partial(time.sleep, 600))
    quick = Member("quick", functools.partial(open, DATA / "wmi_chain.jsonl", "rb"))

    def task(member: Member) -> ReadTask:
        return ReadTask(((path, ((member, "jsonl"),)),), "main", None, tmp_path, "t")

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt), _on_spark()(1, 1) as reading:
        window = reading.workers * AHEAD  # the second window sleeps 10 minutes
        outcomes = reading.read([task(quick)] * window + [task(sleeps)])
        assert next(outcomes).results[0].events == 3
        raise KeyboardInterrupt
    assert time.perf_counter() - started < 120


def test_an_unknown_ingest_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="unknown ingest engine 'sprak'. Did you mean 'spark'"):
        Workspace(tmp_path / "s").ingest([DATA], engine="sprak")


def test_a_store_on_object_storage_is_refused_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="read-only|only read"):
        Workspace("s3://bucket/store").ingest([DATA], engine="spark")
