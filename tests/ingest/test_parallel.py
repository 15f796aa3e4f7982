"""Where an ingest's wall time goes with workers: nothing waits that could run meanwhile.

The readers start before the files are hashed (worker processes import meanwhile), a batch is
committed while the next tasks are read, and a worker holds its next task before it answers the
current one. The workers are forked from one process that imported the readers once.
"""

from __future__ import annotations

import io
import os
import pickle
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from tests.processes import children

from huntbook.ingest import IngestSettings, ingest
from huntbook.ingest import run as run_module
from huntbook.ingest import workers as workers_module
from huntbook.ingest.reading import ReadOutcome, ReadTask, read_files
from huntbook.ingest.run import Reading
from huntbook.store import Store
from huntbook.store.core import Store as StoreClass
from huntbook.store.parts import read_part

WAIT = 10.0  # seconds a test waits for what must happen meanwhile before it says it did not


def _lines(path: Path, events: int, first: int = 0) -> Path:
    rows = (
        {
            "EventID": 4688,
            "Channel": "Security",
            "Hostname": "WKS1",
            "TimeCreated": f"2020-09-20T12:00:{n % 60:02d}.000Z",
            "NewProcessName": f"C:\\p{n}.exe",
        }
        for n in range(first, first + events)
    )
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def _files(folder: Path, count: int) -> Path:
    folder.mkdir()
    for n in range(count):
        _lines(folder / f"{n}.json", 50, first=n * 50)
    return folder


def test_the_readers_start_before_the_files_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    hash_file = run_module.sha256_of

    def hashed(path: Path) -> str:
        seen.append("hash")
        return hash_file(path)

    @contextmanager
    def readers(tasks: int, size: int) -> Iterator[Reading]:
        seen.append(f"readers for up to {tasks} tasks, {size} bytes")
        yield Reading(lambda todo: map(read_files, todo), 1)

    monkeypatch.setattr(run_module, "sha256_of", hashed)
    folder = _files(tmp_path / "in", 2)
    size = sum(p.stat().st_size for p in folder.iterdir())
    summary = ingest(Store(tmp_path / "store"), [folder], readers=readers)
    assert summary.ok and summary.events == 100
    assert seen == [f"readers for up to 2 tasks, {size} bytes", "hash", "hash"]


def test_a_batch_is_committed_while_the_next_tasks_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = threading.Event()  # the reader was asked for an outcome while a batch was committing
    committing = threading.Event()
    overlapped: list[bool] = []
    commit = StoreClass.batch_from

    def batch_from(self: StoreClass, *args: Any, **kwargs: Any) -> Any:
        committing.set()
        overlapped.append(asked.wait(WAIT))
        committing.clear()
        return commit(self, *args, **kwargs)

    def read(todo: Iterable[ReadTask]) -> Iterator[ReadOutcome]:
        for n, task in enumerate(todo):
            if n and committing.is_set():
                asked.set()
            yield read_files(task)

    @contextmanager
    def readers(tasks: int, size: int) -> Iterator[Reading]:
        yield Reading(read, 1)

    monkeypatch.setattr(StoreClass, "batch_from", batch_from)
    folder = _files(tmp_path / "in", 3)
    settings = IngestSettings(batch_bytes=1, task_bytes=1)  # a batch per file
    store = Store(tmp_path / "store")
    summary = ingest(store, [folder], settings=settings, readers=readers)
    assert summary.ok and summary.events == 150 and len(store.manifest()["batches"]) == 3
    assert overlapped[0] is True  # the first batch was still committing when task 2 was read


def _tasks(folder: Path, out: Path) -> list[ReadTask]:
    """A reading task per JSON-lines file in ``folder``, its parts written to ``out``."""
    return [
        ReadTask(((path, ((member, "jsonl"),)),), "main", None, out, f"t{n}")
        for n, path in enumerate(sorted(folder.iterdir()))
        for member in run_module.members(path, IngestSettings().limits)
    ]


def test_a_worker_holds_its_next_task_before_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    send = workers_module.pickle.dump
    receive = workers_module._receive

    def sent(obj: Any, stream: Any) -> None:
        events.append("sent")
        send(obj, stream)

    def received(proc: Any) -> ReadOutcome:
        events.append("answered")
        return receive(proc)

    monkeypatch.setattr(workers_module.pickle, "dump", sent)
    monkeypatch.setattr(workers_module, "_receive", received)
    folder = _files(tmp_path / "in", 3)
    out = tmp_path / "parts"
    out.mkdir()
    tasks = _tasks(folder, out)
    with workers_module.reader(2) as read_all:
        assert [o.results[0].events for o in read_all(tasks)] == [50, 50, 50]
    # three tasks sent to the two workers before the first answer: one waits in a worker's pipe
    assert events[:4] == ["sent", "sent", "sent", "answered"]


def test_two_answers_in_the_pipe_at_once_are_both_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker holding two tasks answers twice in a row. Read through a buffered reader, the
    first read took both answers into its buffer, where the selector waiting on the pipe could
    not see the second: the ingest hung (seen in CI). Here the parent reads only once both answers
    are in the pipe; it must still get every outcome."""
    receive = workers_module._receive
    first = threading.Event()

    def late(proc: Any) -> ReadOutcome:
        if not first.is_set():
            first.set()
            threading.Event().wait(2.0)  # both answers are in the pipe by now
        return receive(proc)

    monkeypatch.setattr(workers_module, "_receive", late)
    folder = _files(tmp_path / "in", 2)
    out = tmp_path / "parts"
    out.mkdir()
    tasks = _tasks(folder, out)
    pool = workers_module._Pool(1)
    got: list[int] = []
    reading = threading.Thread(
        target=lambda: got.extend(o.results[0].events for o in pool.map(tasks)), daemon=True
    )
    reading.start()
    reading.join(WAIT + 5)
    hung = reading.is_alive()
    pool.close(kill=hung)  # a hung read ends with the workers' pipes
    assert not hung and got == [50, 50]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
def test_workers_are_forked_from_one_process_that_imported_once(tmp_path: Path) -> None:
    """Each worker started as ``python -m huntbook.ingest.workers`` paid the interpreter's
    start-up and the readers' imports (~0.25 CPU-s each, 6% of a two-process JSON-lines ingest);
    forked from one forker, they pay it once between them, and they leave with the pool. The
    forker runs no thread when it forks (OpenBLAS and jemalloc would each start one at import)."""
    folder = _files(tmp_path / "in", 4)
    out = tmp_path / "parts"
    out.mkdir()
    pool = workers_module._Pool(2)
    try:
        outcomes = list(pool.map(_tasks(folder, out)))
        assert children(os.getpid()) >= {pool.forker.pid}
        workers = children(pool.forker.pid)
        assert len(list(Path(f"/proc/{pool.forker.pid}/task").iterdir())) == 1
    finally:
        pool.close(kill=False)
    assert [o.results[0].events for o in outcomes] == [50] * 4
    assert len(workers) == 2
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_worker_checks_that_its_forker_is_still_there(tmp_path: Path) -> None:
    """A task carries the pid of the ingesting process; a forked worker's parent is its forker,
    which leaves when the ingesting process does: the worker reads on only while it is there."""
    folder = _files(tmp_path / "in", 1)
    out = tmp_path / "parts"
    out.mkdir()
    (task,) = _tasks(folder, out)
    answers = io.BytesIO()
    stray = io.BytesIO(pickle.dumps(replace(task, orphan_check=1)))
    workers_module.serve(stray, answers, parent=-1)  # not this process's parent: gone
    status, text = pickle.loads(answers.getvalue()[workers_module.HEADER.size :])
    assert status == "error" and "Orphaned" in text and "is gone" in text
    answers = io.BytesIO()
    kept = io.BytesIO(pickle.dumps(replace(task, parent=-1, orphan_check=1)))
    workers_module.serve(kept, answers, parent=os.getppid())
    status, outcome = pickle.loads(answers.getvalue()[workers_module.HEADER.size :])
    assert status == "ok" and outcome.results[0].events == 50


def test_the_batch_takes_a_workers_parts_without_decoding_them(tmp_path: Path) -> None:
    """Parts are read back once, memory-mapped: compressed (lz4), every column was decoded into
    new memory at commit, ~0.35 CPU-s of the ingesting process on the eight Security-Datasets
    recordings, and as much again compressing them in the workers."""
    folder = _files(tmp_path / "in", 1)
    out = tmp_path / "parts"
    out.mkdir()
    (task,) = _tasks(folder, out)
    outcome = read_files(task)
    before = pa.total_allocated_bytes()
    tables = [read_part(path) for path in outcome.parts.paths]
    assert sum(t.num_rows for t in tables) == 50
    assert pa.total_allocated_bytes() == before  # the columns are the mapped file's bytes


def test_the_forker_keeps_the_users_jemalloc_options() -> None:
    env = workers_module.forker_env({"JE_ARROW_MALLOC_CONF": "narenas:2"})
    assert env["JE_ARROW_MALLOC_CONF"] == "narenas:2,background_thread:false"
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert workers_module.forker_env({})["JE_ARROW_MALLOC_CONF"] == "background_thread:false"
