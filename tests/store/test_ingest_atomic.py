"""Ingest is idempotent and atomic per batch, even when the process is killed at a random moment."""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.processes import descendants

from huntbook.ingest import DEFAULT_SETTINGS, IngestSettings, Member, ingest, reading
from huntbook.ingest.reading import ReadTask, read_files
from huntbook.ingest.workers import WorkerError, reader, worker_count
from huntbook.store import Store, writer

DATA = Path(__file__).resolve().parents[1] / "data"
FILES, LINES = 20, 100
INGEST = (
    "import sys; from huntbook.store import Store; "
    "from huntbook.ingest import IngestSettings, ingest; print('ready', flush=True); "
    "ingest(Store(sys.argv[1]), [sys.argv[2]], "
    "settings=IngestSettings(batch_bytes=0, workers=int(sys.argv[3])))"
)


def _inputs(folder: Path) -> Path:
    """FILES distinct JSON-lines files of LINES events each (the chain's 4624, renumbered)."""
    first = orjson.loads((DATA / "wmi_chain.jsonl").read_bytes().splitlines()[0])
    folder.mkdir()
    for f in range(FILES):
        lines = (orjson.dumps({**first, "RecordNumber": f * LINES + i}) for i in range(LINES))
        (folder / f"part{f:02d}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return folder


def _check_whole_batches(store: Store) -> int:
    """Every committed batch is complete: its files hold exactly the events its inputs say."""
    manifest = store.manifest()
    con = store.connect()
    total = con.execute("SELECT count(*) FROM events").fetchone()[0]
    assert total == sum(b["events"] for b in manifest["batches"])
    assert total == sum(i["events"] for b in manifest["batches"] for i in b["inputs"])
    assert total % LINES == 0
    shas = [i["sha256"] for i in store.inputs()]
    assert len(shas) == len(set(shas))
    cds = [r[0] for r in con.execute("SELECT _cd FROM events ORDER BY _cd").fetchall()]
    assert cds == sorted(set(cds))
    return int(total)


def test_ingesting_twice_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    first = ingest(store, [DATA], index="a")
    manifest = (tmp_path / "s" / "manifest.json").read_bytes()
    files = sorted(p.name for p in (tmp_path / "s").rglob("*.parquet"))
    again = ingest(store, [DATA], index="a")
    assert first.events > 0 and again.events == 0
    assert len(again.duplicates) == len(first.stored)
    assert (tmp_path / "s" / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in (tmp_path / "s").rglob("*.parquet")) == files


def _gone(pids: set[int], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() for p in pids):
            return True
        time.sleep(0.1)
    return False


def test_the_same_content_twice_in_one_ingest_is_stored_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jsonl", "b.jsonl"):  # one content under two names
        (folder / name).write_bytes((DATA / "wmi_chain.jsonl").read_bytes())
    for name in ("x.jsonl", "y.jsonl"):  # a file that fails is no reason to skip its copy
        (folder / name).write_bytes(b"{broken\n")
    summary = ingest(Store(tmp_path / "s"), sorted(folder.iterdir()))
    assert [(Path(f.path).name, f.status) for f in summary.files] == [
        ("a.jsonl", "stored"),
        ("b.jsonl", "duplicate"),
        ("x.jsonl", "failed"),
        ("y.jsonl", "failed"),
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_ingest_leaves_whole_batches_and_a_rerun_completes(
    tmp_path: Path, workers: int
) -> None:
    inputs = _inputs(tmp_path / "in")
    path = tmp_path / "store"
    rng = random.Random(20170823)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    seen = []
    for _ in range(3):
        command = [sys.executable, "-c", INGEST, str(path), str(inputs), str(workers)]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"  # imports done
        time.sleep(rng.uniform(0.0, 0.8))
        left = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _gone(left), "reading workers outlived the ingest that started them"
        seen.append(_check_whole_batches(Store(path)))
    assert seen == sorted(seen)
    summary = ingest(Store(path), [inputs], settings=IngestSettings(batch_bytes=0))
    assert len(summary.stored) + len(summary.duplicates) == FILES
    assert _check_whole_batches(Store(path)) == FILES * LINES
    assert not list((path / "tmp").glob("*"))


def test_small_files_share_a_batch_and_a_broken_one_fails_alone(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    (inputs / "part05.jsonl").write_bytes(b"\x00not json at all\n")
    store = Store(tmp_path / "s")
    summary = ingest(store, [inputs])
    assert [f.status for f in summary.files].count("stored") == FILES - 1
    assert len(store.manifest()["batches"]) == 1
    assert _check_whole_batches(store) == (FILES - 1) * LINES
    assert ingest(Store(tmp_path / "s"), [inputs]).events == 0


def test_a_file_that_breaks_while_read_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(tmp_path / "in")
    real = reading.normalize

    def breaks_on_one_file(kind: str, payload: Any, raw: str, **kw: Any) -> dict[str, Any]:
        event = real(kind, payload, raw, **kw)
        if event.get("EventRecordID") == str(7 * LINES + 3):
            event["Image"] = ["a", "b"]  # a list for a field that is not multivalue: StoreError
        return event

    monkeypatch.setattr(reading, "normalize", breaks_on_one_file)
    monkeypatch.setattr(reading, "COMPILED", {})  # the Python path, where normalize is called
    store = Store(tmp_path / "s")
    summary = ingest(store, [inputs])
    failed = [f for f in summary.files if f.status == "failed"]
    assert [Path(f.path).name for f in failed] == ["part07.jsonl"]
    assert "not declared multivalue" in failed[0].error
    assert _check_whole_batches(store) == (FILES - 1) * LINES


@pytest.mark.parametrize("task_bytes", [DEFAULT_SETTINGS.task_bytes, 1])  # files share a task?
def test_a_batch_that_breaks_at_commit_is_retried_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, task_bytes: int
) -> None:
    real = writer.BatchWriter.assemble

    def fails_with_many_files(self: writer.BatchWriter) -> list[Path]:
        if len(self.gathered.paths) > 1:
            raise OSError("no space left on device")
        return real(self)

    monkeypatch.setattr(writer.BatchWriter, "assemble", fails_with_many_files)
    store = Store(tmp_path / "s")
    summary = ingest(
        store, [_inputs(tmp_path / "in")], settings=IngestSettings(task_bytes=task_bytes)
    )
    assert [f.status for f in summary.files] == ["stored"] * FILES
    assert len(store.manifest()["batches"]) == FILES  # each file read again, a batch of its own
    assert _check_whole_batches(store) == FILES * LINES


def test_workers_build_the_same_store_as_one_process(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    stores = [Store(tmp_path / f"s{n}") for n in (1, 2)]
    for n, store in enumerate(stores, start=1):
        # a task per file: work for both workers
        settings = IngestSettings(workers=n, batch_bytes=LINES * 1500, task_bytes=1)
        summary = ingest(store, [inputs], settings=settings)
        assert summary.ok and summary.events == FILES * LINES and summary.workers == n
    one, two = ([b["events"] for b in s.manifest()["batches"]] for s in stores)
    assert one == two and len(one) > 1
    with stores[0].connect() as a, stores[1].connect() as b:
        query = "SELECT * EXCLUDE (_raw) FROM events ORDER BY _cd"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def _task(tmp_path: Path, member: Member, **extra: int) -> ReadTask:
    plan = ((member, "jsonl"),)
    return ReadTask(((tmp_path / "x.jsonl", plan),), "main", None, tmp_path, "t", **extra)


def test_a_worker_that_fails_outside_read_files_rules_is_reported(tmp_path: Path) -> None:
    broken = Member("broken", functools.partial(int, "not a stream"))  # ValueError on open
    with reader(2) as read, pytest.raises(WorkerError, match="ValueError"):
        list(read([_task(tmp_path, broken), _task(tmp_path, broken)]))


def test_a_worker_that_dies_is_reported(tmp_path: Path) -> None:
    dies = Member("dies", functools.partial(os._exit, 3))
    with reader(2) as read, pytest.raises(WorkerError, match="died .exit status 3"):
        list(read([_task(tmp_path, dies), _task(tmp_path, dies)]))


def test_a_reader_left_behind_by_its_ingest_stops(tmp_path: Path) -> None:
    lines = Member("lines", functools.partial(open, DATA / "wmi_chain.jsonl", "rb"))
    with pytest.raises(reading.Orphaned, match="is gone"):
        read_files(_task(tmp_path, lines, parent=-1, orphan_check=1))
    assert not list(tmp_path.glob("t-*"))  # nothing of it left


def test_how_many_workers_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert worker_count(None, 10, 1 << 20) == 1  # small input: starting workers costs more
    assert worker_count(None, 61, 8_518_399) == 1  # the shared EVTX folder: mostly chunk slack
    assert worker_count(None, 10, 64 << 20) == 4  # one per core
    assert worker_count(None, 2, 64 << 20) == 2  # never more than tasks
    assert worker_count(3, 10, 1) == 3  # asked for
    monkeypatch.setattr(sys, "platform", "win32")
    assert worker_count(3, 10, 64 << 20) == 1  # no select() on pipes there
