"""Ingest on Apache Spark: the read tasks of an ingest run on Spark's executors.

``huntbook ingest --engine spark`` plans the ingest as a local one does (ingest/run.py: hash,
detect, the same tasks of small files and 4 MB pieces of big EVTX and JSON-lines files), but the
tasks are read by Spark: each is one Spark task running ``huntbook.ingest.workers.answer``, the
function a local worker process runs (``read_files``: the same readers, normalizer and Arrow
parts). Only the outcome comes back to the driver (each file's result and the paths of the parts
the executor wrote into the store's work folder); the driver commits the batches and the manifest
in input order as a local ingest does, so the store is the same as a local ingest's.

So every executor must read the input files and write the parts at the paths the driver sees:
on ``local[N]`` they share this machine's file system; on a cluster the input and the store must
be on a file system mounted at the same path on the driver and every executor (NFS, Lustre, a
Databricks volume), and huntbook must be installed in the executors' Python. A store on object
storage is refused as for any ingest (it is read-only, store/remote.py).

Tasks go to Spark in windows of ``AHEAD`` tasks per task slot, one Spark job each, the next window
running while the driver commits the one before: the parts waiting on disk stay bounded. The
outcomes travel as pickles in a binary column (``mapInArrow``), which works on classic Spark and
on Spark Connect alike.
"""

from __future__ import annotations

import os
import pickle
import re
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any

import pyarrow as pa

from huntbook.ingest.reading import ReadOutcome, ReadTask
from huntbook.ingest.run import Reading
from huntbook.ingest.workers import WorkerError, answer, outcome_of

INTERRUPT_EVERY = 0.5  # seconds between cancels of the ingest's jobs once it stops early
AHEAD = 4  # tasks in a window per task slot (as the local pool hands out, ingest/workers.py)
CONNECT_SLOTS = 8  # task slots assumed on a Spark Connect server that does not say
JOB_TAG = "huntbook-ingest"  # the job group (tag on Connect) of the ingest's Spark jobs
LOCAL_MASTER = re.compile(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?")  # local, local[N], local[N,F]
ANSWERS = pa.schema([("n", pa.int64()), ("answer", pa.binary())])
ANSWERS_DDL = "n long, answer binary"


def _answers(
    tasks: Sequence[ReadTask], batches: Iterable[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """On an executor: read the tasks whose numbers come in ``batches``; each answer pickled.

    The check that the ingesting process is still there is Spark's here (an application's
    executors stop with its driver), so a task names this process as the one that asked.
    """
    for batch in batches:
        for n in batch.column(0).to_pylist():
            task = replace(tasks[n], parent=os.getpid())
            read = _unshared(task) or answer(task)
            yield pa.RecordBatch.from_pydict({"n": [n], "answer": [pickle.dumps(read)]}, ANSWERS)


def _unshared(task: ReadTask) -> tuple[str, str] | None:
    """An error answer when this executor does not see the task's files or the store's work
    folder (the driver made it): they are not on a file system shared at the same path."""
    missing = [p for p in (task.out_dir, *(path for path, _ in task.files)) if not p.exists()]
    if not missing:
        return None
    return (
        "error",
        f"the Spark executor on {socket.gethostname()} does not see {missing[0]}: the input "
        "files and the store must be on a file system mounted at the same path on the driver "
        "and every executor (docs/scale-out.md, Ingest on Spark)",
    )


def _connect(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def _mark(session: Any) -> None:
    """Mark the Spark jobs this thread starts as the ingest's. Classic Spark: a job group, which
    the thread that runs an Arrow collect inherits (a session tag, measured here, does not)."""
    if _connect(session):
        session.addTag(JOB_TAG)
    else:
        session.sparkContext.setJobGroup(JOB_TAG, "huntbook ingest", interruptOnCancel=True)


def _interrupt(session: Any) -> None:
    """Cancel the ingest's Spark jobs (their Python workers are stopped)."""
    if _connect(session):
        session.interruptTag(JOB_TAG)
    else:
        session.sparkContext.cancelJobGroup(JOB_TAG)


def _window(session: Any, tasks: list[ReadTask]) -> list[ReadOutcome]:
    """Read ``tasks`` on Spark, one Spark task each; their outcomes in task order."""
    frame = session.range(0, len(tasks), 1, len(tasks))
    _mark(session)
    try:
        table = frame.mapInArrow(partial(_answers, tasks), ANSWERS_DDL).toArrow()
    except Exception as exc:  # py4j and Spark Connect raise many types
        raise WorkerError(f"the Spark job reading the input failed: {_why(exc)}") from exc
    answers = dict(
        zip(table.column("n").to_pylist(), table.column("answer").to_pylist(), strict=True)
    )
    # the answers of our own executors, to the tasks we sent
    return [outcome_of(*pickle.loads(answers[n])) for n in range(len(tasks))]  # noqa: S301


def _why(exc: BaseException) -> str:
    """Spark's reason, without the JVM's stack: its error class and the last line it gives of
    the Python error (an executor without huntbook: ``ModuleNotFoundError``)."""
    condition = getattr(exc, "getCondition", lambda: None)() or type(exc).__name__
    lines = [line.strip() for line in str(exc).splitlines() if "Error:" in line]
    return f"{condition}: {lines[-1]}" if lines else condition


def _slots(session: Any) -> int:
    """Tasks the session's executors run at once: N for a ``local[N]`` master (huntbook sets
    ``spark.default.parallelism`` above it there, engines/spark.py), else the default
    parallelism (a cluster's executor cores), ``CONNECT_SLOTS`` if a Connect server says none."""
    if _connect(session):
        return int(session.conf.get("spark.default.parallelism", None) or CONNECT_SLOTS)
    context = session.sparkContext
    local = LOCAL_MASTER.fullmatch(context.master)
    if local is None:
        slots: int = context.defaultParallelism
        return slots
    cores = local.group(1) or "1"
    return (os.cpu_count() or 1) if cores == "*" else int(cores)


class _SparkReader:
    """Tasks to outcomes in task order, read on Spark a window at a time, one window ahead."""

    def __init__(self, session: Any, slots: int, pool: ThreadPoolExecutor) -> None:
        self.session = session
        self.window = slots * AHEAD
        self.pool = pool
        self.running: deque[Future[list[ReadOutcome]]] = deque()

    def map(self, tasks: Iterable[ReadTask]) -> Iterator[ReadOutcome]:
        todo = list(tasks)
        windows = [todo[i : i + self.window] for i in range(0, len(todo), self.window)]
        running = self.running
        for window in windows:
            running.append(self.pool.submit(_window, self.session, window))
            if len(running) > 1:
                yield from running.popleft().result()
        while running:
            yield from running.popleft().result()

    def stop(self) -> None:
        """Interrupt the windows being read, again until they end: a job still being planned
        has no tag yet."""
        for future in self.running:
            future.cancel()
        while not all(future.done() for future in self.running):
            _interrupt(self.session)
            wait(self.running, timeout=INTERRUPT_EVERY)


@contextmanager
def spark_readers(
    open_session: Callable[[], Any], where: str, tasks: int, size: int
) -> Iterator[Reading]:
    """Spark's executors read the ingest's tasks, on the session ``open_session`` gives
    (engines/spark.py's ``spark_session`` for a master or a Spark Connect server, named by
    ``where``). If the ingest stops early (an error, Ctrl-C), its Spark jobs are cancelled.

    ``tasks`` and ``size`` (bytes of input) do not matter: Spark reads whatever there is.

    Raises:
        EngineError: pyspark or Java missing, or no Spark Connect server answers.
    """
    session = open_session()
    slots = _slots(session)
    pool = ThreadPoolExecutor(1, thread_name_prefix="huntbook-spark-ingest")
    reader = _SparkReader(session, slots, pool)
    ok = False
    try:
        yield Reading(reader.map, slots, f"Spark {where}")
        ok = True
    finally:
        if not ok:
            reader.stop()
        pool.shutdown(wait=True)
