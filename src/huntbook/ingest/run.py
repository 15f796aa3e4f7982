"""Drive an ingest: expand paths, read input files, hand them to the store in atomic batches.

Per input file: hash it (the same content twice adds nothing), detect each member's format (or use
``--format``), then read, normalize and write its events as parts (ingest/reading.py), in worker
processes when the input is big enough (ingest/workers.py). A bad record is skipped and counted and
its file is stored in part (``FileResult.partial``, remembered in the manifest); a file with nothing
readable, or over a safety limit (``huntbook.ingest.Limits``), or not a regular file, fails on its
own and adds nothing; the other files go on. The store only persists: it commits each batch's parts
(``Store.batch_from``) and knows nothing of files, formats or readers.

Small files share a batch (up to ``batch_bytes`` of input) because each batch costs a Parquet file
and a manifest write: a folder of sixty small EVTX files is one batch, not sixty. A batch is still
all or nothing: if anything unexpected breaks it, nothing of it is kept and its files are read
again and committed one batch each, so one broken file cannot take its neighbours down. Batches are
committed in input order, so the store does not depend on the number of workers.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from huntbook.errors import HuntbookError, IngestError, StoreError, UnrecognizedFormatError
from huntbook.ingest.base import DEFAULT_SETTINGS, IngestSettings, Limits, Member
from huntbook.ingest.detect import check_format, detect_format
from huntbook.ingest.pieces import pieces
from huntbook.ingest.reading import Plan, ReadOutcome, ReadTask, joined, read_files
from huntbook.ingest.sources import check_regular, expand, members, sha256_of
from huntbook.ingest.summary import FileResult, IngestSummary
from huntbook.ingest.workers import Reader, reader, worker_count
from huntbook.store.parts import lean_arrow_memory

if TYPE_CHECKING:
    from huntbook.store.core import Store
    from huntbook.store.manifest import InputEntry
    from huntbook.store.writer import BatchWriter


@dataclass
class _Job:
    """One input file ready to read: where it is, its members' formats, its result."""

    path: Path
    plan: list[tuple[Member, str]]
    result: FileResult
    size: int  # bytes on disk


def _plan(
    path: Path, fmt: str | None, result: FileResult, limits: Limits
) -> list[tuple[Member, str]]:
    """Each member with its format; unrecognized members of an archive are ignored and noted."""
    plan: list[tuple[Member, str]] = []
    unknown: list[str] = []
    for member in members(path, limits):
        try:
            plan.append((member, fmt or detect_format(member)))
        except UnrecognizedFormatError as exc:
            unknown.append(str(exc))
    if not plan:
        raise UnrecognizedFormatError(
            "; ".join(unknown) or f"{path}: nothing to read (empty archive)"
        )
    result.ignored.extend(unknown)
    return plan


def _prepare(
    path: Path, named: bool, fmt: str | None, seen: set[str], limits: Limits
) -> tuple[FileResult, _Job | None]:
    """Hash and plan one file; no job when it is a duplicate, unrecognized or unreadable.

    ``seen``: the content hashes already in the store or planned in this ingest; a planned file's
    hash is added to it.
    """
    result = FileResult(str(path))
    try:
        check_regular(path)
        result.sha256 = sha256_of(path)
        if result.sha256 in seen:
            result.status = "duplicate"
            return result, None
        job = _Job(path, _plan(path, fmt, result, limits), result, path.stat().st_size)
        seen.add(result.sha256)
        return result, job
    except UnrecognizedFormatError as exc:
        result.status, result.error = ("failed" if named else "ignored"), str(exc)
    except (IngestError, OSError) as exc:
        result.status, result.error = "failed", str(exc)
    return result, None


def _settle(job: _Job, read: FileResult) -> bool:
    """Fold what reading gave into the file's result; whether the file has events to commit."""
    result = job.result
    result.absorb(read)
    if result.events == 0 and result.skipped_count:
        result.status = "failed"
        first = result.skipped[0] if result.skipped else ""
        result.error = (
            f"{result.path}: no readable records ({result.skipped_count} skipped; first: {first})"
        )
        return False
    result.status = "stored"
    return True


def _fresh(job: _Job) -> _Job:
    fresh = FileResult(job.result.path, sha256=job.result.sha256, ignored=job.result.ignored)
    return _Job(job.path, job.plan, fresh, job.size)


def _tasks_of(jobs: list[_Job], task_bytes: int) -> Iterator[list[_Job]]:
    """Consecutive files in groups of ~``task_bytes``: a big file alone, small ones together."""
    group: list[_Job] = []
    size = 0
    for job in jobs:
        group.append(job)
        size += job.size
        if size >= task_bytes:
            yield group
            group, size = [], 0
    if group:
        yield group


def _files(group: list[_Job]) -> tuple[tuple[Path, Plan], ...]:
    """The files of a task, each with its members' formats."""
    return tuple((job.path, tuple(job.plan)) for job in group)


_Done = list[tuple[list[_Job], ReadOutcome]]  # the files of each task read, and what reading gave


@dataclass(frozen=True)
class Reading:
    """What reads an ingest's tasks: ``read`` (tasks to outcomes, in task order), how many tasks
    it reads at once, and on what (``"local"``: this machine's processes; ``"Spark local[2]"``)."""

    read: Reader
    workers: int
    engine: str = "local"


# Given at most how many tasks and the bytes of input (known before the files are hashed and cut),
# what reads them (ingest/spark.py: on Spark).
Readers = Callable[[int, int], AbstractContextManager[Reading]]


@contextmanager
def local_readers(requested: int | None, tasks: int, size: int) -> Iterator[Reading]:
    """``requested`` worker processes on this machine (None or 0: ``worker_count`` decides)."""
    count = worker_count(requested, tasks, size)
    with reader(count) as read:
        yield Reading(read, count)


@dataclass
class _Run:
    """One ingest: read the files (maybe in workers), commit them in batches, in input order."""

    store: Store
    index: str
    sourcetype: str | None
    staging: Path  # where files are read to parts before a batch takes them
    progress: Callable[[int], None]  # bytes of input read
    settings: IngestSettings
    tasks: int = 0
    workers: int = 1  # processes that read (or tasks read at once on Spark), once decided
    engine: str = "local"  # what read them (Reading.engine)

    def _task(self, files: tuple[tuple[Path, Plan], ...]) -> ReadTask:
        self.tasks += 1
        return ReadTask(files, self.index, self.sourcetype, self.staging, f"t{self.tasks:06d}")

    def tasks_of(self, group: list[_Job]) -> list[ReadTask]:
        """One task for a group of files; a task per piece for a big file that can be cut."""
        if len(group) == 1 and len(group[0].plan) == 1:
            job, (member, fmt) = group[0], group[0].plan[0]
            cut = pieces(member, fmt, self.settings.piece_bytes)
            if len(cut) > 1:
                return [self._task(((job.path, ((piece, fmt),)),)) for piece in cut]
        return [self._task(_files(group))]

    def commit_all(self, jobs: list[_Job], reading: Reading) -> Iterator[FileResult]:
        """Each file's result once its batch is committed; a batch is ~``batch_bytes`` of input.

        A file is never split between batches: its pieces are read as tasks of their own, maybe
        by several workers, and joined before the batch takes them. Batches are committed in
        input order by a thread of their own, so the next tasks are handed out and read while a
        batch's Parquet file is written.
        """
        batch_bytes = self.settings.batch_bytes
        task_bytes = min(self.settings.task_bytes, batch_bytes)  # a task is in one batch
        units = [(group, self.tasks_of(group)) for group in _tasks_of(jobs, task_bytes)]
        self.workers, self.engine = reading.workers, reading.engine
        outcomes = reading.read([task for _, unit in units for task in unit])
        done: _Done = []
        size = 0
        with ThreadPoolExecutor(1, thread_name_prefix="huntbook-commit") as committer:
            pending: deque[Future[list[FileResult]]] = deque()
            for group, unit in units:
                group_size = sum(job.size for job in group)
                read_back = []
                for n in range(len(unit)):  # progress as pieces come back, not only per file
                    read_back.append(next(outcomes))
                    self.progress(group_size * (n + 1) // len(unit) - group_size * n // len(unit))
                done.append((group, joined(read_back)))
                size += group_size
                if size >= batch_bytes:
                    pending.append(committer.submit(self.commit, done))
                    done, size = [], 0
                while pending and pending[0].done():
                    yield from pending.popleft().result()
            pending.append(committer.submit(self.commit, done))
            while pending:
                yield from pending.popleft().result()

    def commit(self, done: _Done) -> list[FileResult]:
        """One batch for ``done``; if it breaks, each file is read again and committed alone.

        A task that broke while read is left out and its files are read again one by one; a
        file that breaks alone (read or committed on its own) fails.
        """
        if not done:
            return []
        broken = [(g, o) for g, o in done if o.error]
        if broken:
            whole = [(g, o) for g, o in done if not o.error]
            return self.commit(whole) + [r for g, o in broken for r in self._alone(g, o.error)]
        try:
            self._write_batch(done)
            return [job.result for group, _ in done for job in group]
        except (HuntbookError, OSError) as exc:
            error = str(exc)
        for _, outcome in done:
            outcome.parts.delete()
        return self._alone([job for group, _ in done for job in group], error)

    def _alone(self, jobs: list[_Job], error: str) -> list[FileResult]:
        """``jobs`` that broke together: one fails with ``error``; several are each read again
        and committed in a batch of their own."""
        if len(jobs) == 1:
            job = jobs[0]
            job.result.status = "failed"
            job.result.error = error if error.startswith(str(job.path)) else f"{job.path}: {error}"
            return [job.result]
        results = []
        for job in map(_fresh, jobs):
            results.extend(self.commit([([job], read_files(self._task(_files([job]))))]))
        return results

    def _write_batch(self, done: _Done) -> None:
        """Commit the files of ``done`` as one batch; files with nothing readable add nothing."""
        entries: list[InputEntry] = [
            {
                "path": str(job.path.resolve()),
                "sha256": job.result.sha256,
                "index": self.index,
                "events": job.result.events,
                **job.result.damage(),
                **job.result.archive(),
            }
            for group, outcome in done
            for job, read in zip(group, outcome.results, strict=True)
            if _settle(job, read)
        ]

        def fill(writer: BatchWriter) -> None:
            for _, outcome in done:
                writer.absorb(outcome.parts)

        self.store.batch_from(fill, entries)


def _prepare_all(
    store: Store,
    files: list[tuple[Path, bool]],
    fmt: str | None,
    limits: Limits,
    results: dict[str, FileResult],
    tick: Callable[[int], None],
) -> list[_Job]:
    """A job for each file to read; every file's result in ``results`` (final for the others)."""
    seen = {entry["sha256"] for entry in store.inputs()}  # and each file planned below
    jobs: list[_Job] = []
    for path, named in files:
        result, job = _prepare(path, named, fmt, seen, limits)
        results[str(path)] = result
        if job is None:
            tick(path.stat().st_size)
        else:
            jobs.append(job)
    return jobs


def _expected(files: list[tuple[Path, bool]], settings: IngestSettings) -> tuple[int, int]:
    """At most how many tasks ``files`` make (a piece of ``piece_bytes`` each, or one per file)
    and their bytes, before they are hashed, planned and cut (to start the readers early)."""
    sizes = [_size_of(path) for path, _ in files]
    tasks = sum(max(1, -(-size // settings.piece_bytes)) for size in sizes)
    return tasks, sum(sizes)


def _size_of(path: Path) -> int:
    """The size of ``path`` on disk; 0 if it cannot be seen (its ``_prepare`` reports why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def ingest(
    store: Store,
    paths: Iterable[str | os.PathLike[str]],
    *,
    index: str = "main",
    sourcetype: str | None = None,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
    settings: IngestSettings = DEFAULT_SETTINGS,
    readers: Readers | None = None,
) -> IngestSummary:
    """Ingest every file under ``paths`` into ``store`` in atomic batches of about
    ``settings.batch_bytes`` of input; ``progress`` gets each file's size in bytes when done.

    ``settings.workers``: processes that read files (None or 0: one per core when the input is big
    enough, ingest/workers.py); batches are committed in input order either way. ``readers``:
    what reads the files instead of this machine's processes (``huntbook.ingest.spark``: Spark's
    executors); the store is the same either way.
    """
    if not index:
        raise StoreError("index must not be empty")
    started = time.perf_counter()
    fmt = check_format(fmt) if fmt else None
    files = expand(paths)
    tick = progress or (lambda size: None)
    results: dict[str, FileResult] = {}
    readers = readers or partial(local_readers, settings.workers)
    with store.writing(create=True), lean_arrow_memory():
        staging = store.work_dir(f"read-{os.getpid()}")
        run = _Run(store, index, sourcetype, staging, tick, settings)
        try:
            # the readers start (worker processes import) while the files are hashed
            with readers(*_expected(files, settings)) as reading:
                jobs = _prepare_all(store, files, fmt, settings.limits, results, tick)
                for result in run.commit_all(jobs, reading):
                    results[result.path] = result
        finally:
            shutil.rmtree(run.staging, ignore_errors=True)
    summary = IngestSummary(
        [results[str(p)] for p, _ in files], workers=run.workers, engine=run.engine
    )
    summary.seconds = time.perf_counter() - started
    return summary
