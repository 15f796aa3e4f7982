"""Read input files in worker processes, one file per task, outcomes in input order.

Normalizing is Python work per event and per field (BENCHMARKS.md "Ingest"), so one process uses
one core whatever the machine has. With more than one worker, each task (a file, or a few small
files) is read by ``read_files`` in a worker process and only its outcome (results and part paths,
ingest/reading.py) comes back;
the ingesting process commits in input order, so the store is the same whatever the number of
workers.

Workers are ``python -m huntbook.ingest.workers`` children talking pickle over their stdin and
stdout, not a ``multiprocessing`` pool: nothing of the ingesting process (locks, threads of
DuckDB, Arrow or the EVTX parser) is forked, and the caller's ``__main__`` is not imported again,
so a script without an ``if __name__ == "__main__"`` guard does not ingest twice. A worker whose
ingesting process is gone sees its stdin close and stops. Workers run in a session of their own:
Ctrl-C at the terminal interrupts the ingesting process only, which stops them (no worker prints
a KeyboardInterrupt traceback).
"""

from __future__ import annotations

import os
import pickle
import selectors
import struct
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import product
from typing import IO, Any

import pyarrow as pa

from huntbook.errors import IngestError
from huntbook.ingest.reading import ReadOutcome, ReadTask, read_files
from huntbook.store.parts import POOL

# Below this, starting workers (~0.4 s of wall time on 2 cores) costs more than they save: one
# process reads EVTX at ~55 MB/s (its chunks are mostly slack) and JSON lines at ~25 MB/s, so the
# EVTX folder of the shared data (8.5 MB, 1,212 records) took 0.93 s with 2 workers, 0.55 s in one.
PARALLEL_MIN_BYTES = 24 << 20
MAX_WORKERS = 8
AHEAD = 4  # tasks handed out per worker beyond the oldest outcome not yet taken
QUEUED = 2  # tasks sent to a worker at once: it starts the next without waiting for the parent
# An answer's length ahead of it: the parent reads each answer whole from the pipe itself, never
# through a buffered reader, which could take a second answer into its buffer where the
# selector waiting on the pipe cannot see it (with QUEUED tasks, a worker answers twice in a row).
HEADER = struct.Struct("<Q")
STOP_SECONDS = 10

Reader = Callable[[Iterable[ReadTask]], Iterator[ReadOutcome]]


def worker_count(requested: int | None, tasks: int, size: int) -> int:
    """How many processes read: ``requested`` (0 or None: one per core, for big enough input).

    One on Windows, whose ``select`` takes sockets only, not the workers' pipes.
    """
    if sys.platform == "win32":
        return 1
    if requested:
        return max(1, min(requested, tasks))
    if size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, tasks, MAX_WORKERS))


class WorkerError(IngestError):
    """A worker failed in a way ``read_files`` does not report as a file error: a bug, a crash."""


class _Pool:
    """Worker processes, each reading one task at a time; ``map`` gives outcomes in task order."""

    def __init__(self, size: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        command = [sys.executable, "-m", __name__]
        self.procs = [
            subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
            for _ in range(size)
        ]

    def map(self, tasks: Iterable[ReadTask]) -> Iterator[ReadOutcome]:
        todo = list(tasks)
        sent, wanted = 0, 0
        done: dict[int, ReadOutcome] = {}
        queued: dict[subprocess.Popen[bytes], deque[int]] = {proc: deque() for proc in self.procs}
        ahead = AHEAD * len(self.procs)
        with selectors.DefaultSelector() as selector:
            for proc in self.procs:
                selector.register(_pipe(proc.stdout), selectors.EVENT_READ, proc)
            while wanted < len(todo):
                for depth, proc in product(range(QUEUED), self.procs):  # in turns
                    if len(queued[proc]) <= depth and sent < min(len(todo), wanted + ahead):
                        pickle.dump(todo[sent], _pipe(proc.stdin))
                        _pipe(proc.stdin).flush()
                        queued[proc].append(sent)
                        sent += 1
                if wanted in done:
                    yield done.pop(wanted)
                    wanted += 1
                    continue
                for key, _ in selector.select():
                    proc = key.data
                    done[queued[proc].popleft()] = _receive(proc)

    def close(self, *, kill: bool) -> None:
        for proc in self.procs:
            if kill:
                proc.kill()
            elif proc.stdin is not None:
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None  # noqa: S101  # every worker is started with both pipes
    return stream


def _status(proc: subprocess.Popen[bytes]) -> int | None:
    """The exit status of a worker whose pipe closed (it may take a moment to be reaped)."""
    try:
        return proc.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        return None


def _receive(proc: subprocess.Popen[bytes]) -> ReadOutcome:
    fd = _pipe(proc.stdout).fileno()
    try:
        (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size))
        status, value = pickle.loads(_read_exactly(fd, size))  # noqa: S301  # our own child's
    except (EOFError, pickle.UnpicklingError) as exc:
        raise WorkerError(
            f"a reading worker process died (exit status {_status(proc)}); batches committed "
            "before it are kept"
        ) from exc
    return outcome_of(status, value)


def _read_exactly(fd: int, size: int) -> bytes:
    """``size`` bytes from the pipe ``fd``, unbuffered; EOFError if it closes first."""
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


@contextmanager
def reader(workers: int) -> Iterator[Reader]:
    """A function from tasks to their outcomes, in task order, read by ``workers`` processes."""
    if workers <= 1:
        yield lambda tasks: map(read_files, tasks)
        return
    pool = _Pool(workers)
    ok = False
    try:
        yield pool.map
        ok = True
    finally:
        pool.close(kill=not ok)


def answer(task: ReadTask) -> tuple[str, Any]:
    """``("ok", outcome)`` of reading ``task``, or ``("error", text)`` if reading broke."""
    try:
        return ("ok", read_files(task))
    except Exception:  # noqa: BLE001  # reported to the ingesting process, which raises it
        return ("error", traceback.format_exc())


def outcome_of(status: str, value: Any) -> ReadOutcome:
    """The outcome in a worker's ``answer``; WorkerError if reading broke there."""
    if status != "ok":
        raise WorkerError(f"a reading worker failed:\n{value}")
    outcome: ReadOutcome = value
    return outcome


def serve(tasks: IO[bytes], answers: IO[bytes]) -> None:
    """A worker's loop: a pickled task in; ``("ok", outcome)`` or ``("error", text)`` out."""
    while True:
        try:
            task = pickle.load(tasks)  # noqa: S301  # sent by the ingesting process that started us
        except EOFError:
            return
        data = pickle.dumps(answer(task))
        try:
            answers.write(HEADER.pack(len(data)) + data)
            answers.flush()
        except BrokenPipeError:  # the ingesting process is gone: nobody to answer
            return


def _main() -> None:
    pa.set_memory_pool(POOL)  # this process is ours: every Arrow buffer from the lean pool
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the answers
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    _main()
