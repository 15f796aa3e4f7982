"""Read input files in worker processes, one file per task, outcomes in input order.

Normalizing is Python work per event and per field (BENCHMARKS.md "Ingest"), so one process uses
one core whatever the machine has. With more than one worker, each task (a file, or a few small
files) is read by ``read_files`` in a worker process and only its outcome (results and part paths,
ingest/reading.py) comes back;
the ingesting process commits in input order, so the store is the same whatever the number of
workers.

Workers are forked from one ``python -m huntbook.ingest.workers`` child (the forker), which
imports the readers once and then forks every worker: a worker pays no start-up or imports of its
own (~0.25 CPU-s each, BENCHMARKS.md "Ingest"). Nothing of the ingesting process (locks, threads of
DuckDB, Arrow or the EVTX parser) is forked, and the caller's ``__main__`` is not imported again,
so a script without an ``if __name__ == "__main__"`` guard does not ingest twice. The forker forks
before it runs anything but imports, with no thread running (``SINGLE_THREADED``). Each worker talks
pickle with the ingesting process over a pair of pipes of its own. The forker stays until the
ingesting process closes its control pipe, reporting a worker's exit status when asked; a worker
whose ingesting process is gone sees its task pipe close, or its forker gone, and stops. The
forker and its workers run in a session of their own: Ctrl-C at the terminal interrupts the
ingesting process only, which stops them (no worker prints a KeyboardInterrupt traceback).
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
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
# The forker forks only while no thread of its own runs: numpy's OpenBLAS and Arrow's jemalloc each
# start one at import otherwise (Python 3.12 warns that fork() in a threaded process may deadlock).
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}
STATUS = struct.Struct("<q")  # a worker's exit status, as its forker reports it
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


@dataclass
class _Worker:
    """The ingesting process's ends of one worker's pipes: tasks go out, answers come back."""

    index: int  # its place among the forker's workers
    tasks: IO[bytes]
    answers: int  # a file descriptor, read unbuffered (HEADER)
    forker: subprocess.Popen[bytes]


class _Pool:
    """Worker processes, each reading one task at a time; ``map`` gives outcomes in task order."""

    def __init__(self, size: int) -> None:
        env = {**os.environ, **forker_env(os.environ)}
        pipes = [(os.pipe(), os.pipe()) for _ in range(size)]  # (tasks, answers) of each worker
        theirs = [fd for tasks, answers in pipes for fd in (tasks[0], answers[1])]
        self.forker = subprocess.Popen(
            [sys.executable, "-m", __name__, *map(str, theirs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            pass_fds=theirs,
            start_new_session=True,
        )
        for fd in theirs:
            os.close(fd)
        self.procs = [
            _Worker(n, os.fdopen(tasks[1], "wb"), answers[0], self.forker)
            for n, (tasks, answers) in enumerate(pipes)
        ]

    def map(self, tasks: Iterable[ReadTask]) -> Iterator[ReadOutcome]:
        todo = list(tasks)
        sent, wanted = 0, 0
        done: dict[int, ReadOutcome] = {}
        queued: dict[int, deque[int]] = {worker.index: deque() for worker in self.procs}
        ahead = AHEAD * len(self.procs)
        with selectors.DefaultSelector() as selector:
            for worker in self.procs:
                selector.register(worker.answers, selectors.EVENT_READ, worker)
            while wanted < len(todo):
                for depth, worker in product(range(QUEUED), self.procs):  # in turns
                    if len(queued[worker.index]) <= depth and sent < min(len(todo), wanted + ahead):
                        pickle.dump(todo[sent], worker.tasks)
                        worker.tasks.flush()
                        queued[worker.index].append(sent)
                        sent += 1
                if wanted in done:
                    yield done.pop(wanted)
                    wanted += 1
                    continue
                for key, _ in selector.select():
                    worker = key.data
                    done[queued[worker.index].popleft()] = _receive(worker)

    def close(self, *, kill: bool) -> None:
        """Stop the workers: at once if ``kill``, else once each has read what it was sent (at
        most STOP_SECONDS); the forker reaps them and leaves."""
        for worker in self.procs:
            worker.tasks.close()
        _pipe(self.forker.stdin).close()
        if kill:
            self._signal(signal.SIGTERM)  # the workers end; the forker ignores it and reaps them
        try:
            self.forker.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.forker.wait()
        _pipe(self.forker.stdout).close()
        for worker in self.procs:
            os.close(worker.answers)

    def _signal(self, number: int) -> None:
        """Signal the forker's process group: it and its workers (the forker not reaped yet, the
        group is still ours)."""
        with suppress(ProcessLookupError):
            os.killpg(self.forker.pid, number)


def forker_env(environ: Mapping[str, str]) -> dict[str, str]:
    """What the forker's environment adds to ``environ``: this interpreter's import path, and no
    library thread started at import (SINGLE_THREADED, after any jemalloc options of the user's)."""
    malloc = [environ.get("JE_ARROW_MALLOC_CONF", ""), SINGLE_THREADED["JE_ARROW_MALLOC_CONF"]]
    return {
        **SINGLE_THREADED,
        "JE_ARROW_MALLOC_CONF": ",".join(filter(None, malloc)),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None  # noqa: S101  # the forker is started with both pipes
    return stream


def _status(worker: _Worker) -> int | None:
    """The exit status of a worker whose pipe closed, asked of its forker (None if it cannot say
    within STOP_SECONDS)."""
    forker = worker.forker
    try:
        _pipe(forker.stdin).write(b"%d\n" % worker.index)
        _pipe(forker.stdin).flush()
    except BrokenPipeError:
        return None
    with selectors.DefaultSelector() as selector:
        selector.register(_pipe(forker.stdout), selectors.EVENT_READ)
        if not selector.select(STOP_SECONDS):
            return None
    try:
        (status,) = STATUS.unpack(_read_exactly(_pipe(forker.stdout).fileno(), STATUS.size))
    except EOFError:
        return None
    return int(status)


def _receive(worker: _Worker) -> ReadOutcome:
    try:
        (size,) = HEADER.unpack(_read_exactly(worker.answers, HEADER.size))
        status, value = pickle.loads(_read_exactly(worker.answers, size))  # noqa: S301  # ours
    except (EOFError, pickle.UnpicklingError) as exc:
        raise WorkerError(
            f"a reading worker process died (exit status {_status(worker)}); batches committed "
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


def serve(tasks: IO[bytes], answers: IO[bytes], parent: int) -> None:
    """A worker's loop: a pickled task in; ``("ok", outcome)`` or ``("error", text)`` out.

    ``parent``: the worker's forker, which lives as long as the ingesting process keeps it: the
    process a task's reading checks is still there (``ReadTask.parent``).
    """
    while True:
        try:
            task = pickle.load(tasks)  # noqa: S301  # sent by the ingesting process that started us
        except EOFError:
            return
        data = pickle.dumps(answer(replace(task, parent=parent)))
        try:
            answers.write(HEADER.pack(len(data)) + data)
            answers.flush()
        except BrokenPipeError:  # the ingesting process is gone: nobody to answer
            return


def _fork(fds: list[int], index: int) -> int:
    """Fork the worker that reads tasks from ``fds[2 * index]`` and answers on the next one."""
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        forker = os.getppid()
        mine = fds[2 * index : 2 * index + 2]
        for fd in set(fds) - set(mine):
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # the forker's control pipe is not the worker's
        os.dup2(2, 1)  # anything printed goes to stderr, not into an answer
        os.close(null)
        with os.fdopen(mine[0], "rb") as tasks, os.fdopen(mine[1], "wb") as answers:
            serve(tasks, answers, forker)
        status = 0
    except BaseException:  # noqa: BLE001  # a worker's own bug: said as any Python process would
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(status)  # never back into the forker's loop


def fork_workers(fds: list[int], control: IO[bytes], replies: IO[bytes]) -> None:
    """The forker: fork a worker per pair of ``fds``, then answer ``control``'s questions (a
    worker's index a line) with that worker's exit status, until ``control`` closes.

    Then it reaps its workers and leaves, unless the ingesting process is gone: then it leaves at
    once, and its workers, their forker gone, stop reading (``serve``'s ``parent``).
    """
    ingesting = os.getppid()
    pids = [_fork(fds, n) for n in range(len(fds) // 2)]
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the ingesting process stops the workers
    for fd in fds:
        os.close(fd)
    running = set(pids)
    for line in control:
        pid = pids[int(line)]
        _, status = os.waitpid(pid, 0)
        running.discard(pid)
        try:
            replies.write(STATUS.pack(os.waitstatus_to_exitcode(status)))
            replies.flush()
        except BrokenPipeError:  # the ingesting process is gone: nobody to answer
            return
    if os.getppid() == ingesting:
        for pid in running:
            os.waitpid(pid, 0)


def _main() -> None:
    pa.set_memory_pool(POOL)  # this process is ours: every Arrow buffer from the lean pool
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the replies
    fork_workers([int(fd) for fd in sys.argv[1:]], sys.stdin.buffer, replies)


if __name__ == "__main__":
    _main()
