"""Drive an ingest: expand paths, read input files in atomic batches, say what happened.

Per input file: hash it (the same content twice adds nothing), detect each member's format (or use
``--format``), read, normalize and write its events. A bad record is skipped and counted; a file
with nothing readable fails on its own and adds nothing; the other files go on.

Small files share a batch (up to ``batch_bytes`` of input) because each batch costs a Parquet file
and a manifest write: a folder of sixty small EVTX files is one batch, not sixty. A batch is still
all or nothing: if anything unexpected breaks it, nothing of it is kept and its files are retried
one batch each, so one broken file cannot take its neighbours down.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huntbook.errors import HuntbookError, IngestError, UnrecognizedFormatError
from huntbook.ingest import (
    READERS,
    Member,
    Skip,
    check_format,
    detect_format,
    expand,
    members,
    sha256_of,
)
from huntbook.normalize import normalize
from huntbook.store.core import Store
from huntbook.store.summary import FileResult, IngestSummary
from huntbook.store.writer import BatchWriter

BATCH_BYTES = 32 << 20


@dataclass
class _Job:
    """One input file ready to read: where it is, its members' formats, its result."""

    path: Path
    plan: list[tuple[Member, str]]
    result: FileResult
    entry: dict[str, Any] = field(default_factory=dict)


def _plan(path: Path, fmt: str | None, result: FileResult) -> list[tuple[Member, str]]:
    """Each member with its format; unrecognized members of an archive are skipped and noted."""
    plan: list[tuple[Member, str]] = []
    unknown: list[str] = []
    for member in members(path):
        try:
            plan.append((member, fmt or detect_format(member)))
        except UnrecognizedFormatError as exc:
            unknown.append(str(exc))
    if not plan:
        raise UnrecognizedFormatError(
            "; ".join(unknown) or f"{path}: nothing to read (empty archive)"
        )
    for reason in unknown:
        result.skip(str(path), "member", reason)
    return plan


def _prepare(
    store: Store, path: Path, named: bool, fmt: str | None, pending: set[str]
) -> tuple[FileResult, _Job | None]:
    """Hash and plan one file; no job when it is a duplicate, unrecognized or unreadable."""
    result = FileResult(str(path))
    try:
        result.sha256 = sha256_of(path)
        if store.has_input(result.sha256) or result.sha256 in pending:
            result.status = "duplicate"
            return result, None
        return result, _Job(path, _plan(path, fmt, result), result)
    except UnrecognizedFormatError as exc:
        result.status, result.error = ("failed" if named else "ignored"), str(exc)
    except (IngestError, OSError) as exc:
        result.status, result.error = "failed", str(exc)
    return result, None


def _read(job: _Job, writer: BatchWriter, index: str, sourcetype: str | None) -> None:
    """Every record of one file into ``writer``; bad records are skipped and counted."""
    result = job.result
    before = writer.events
    for member, fmt in job.plan:
        result.fmt = result.fmt or fmt
        for item in READERS[fmt](member):
            if isinstance(item, Skip):
                result.skip(member.name, item.position, item.reason)
                continue
            try:
                event = normalize(
                    item.kind, item.payload, item.raw, index=index, sourcetype=sourcetype
                )
            except IngestError as exc:
                result.skip(member.name, item.position, str(exc))
                continue
            writer.add(event)
            result.sourcetypes[event["sourcetype"]] += 1
    result.events = writer.events - before


def _write_batch(store: Store, jobs: list[_Job], index: str, sourcetype: str | None) -> None:
    """Read ``jobs`` into one batch and commit it; files with nothing readable add nothing."""
    entries: list[dict[str, Any]] = []

    def fill(writer: BatchWriter) -> None:
        for job in jobs:
            _read(job, writer, index, sourcetype)
            result = job.result
            if result.events == 0 and result.skipped_count:
                result.status = "failed"
                result.error = (
                    f"{result.path}: no readable records ({result.skipped_count} skipped)"
                )
                continue
            result.status = "stored"
            job.entry = {
                "path": str(job.path.resolve()),
                "sha256": result.sha256,
                "index": index,
                "events": result.events,
            }
            entries.append(job.entry)

    store.batch_from(fill, entries)


def _fresh(job: _Job) -> _Job:
    return _Job(job.path, job.plan, FileResult(job.result.path, sha256=job.result.sha256))


def _commit(store: Store, jobs: list[_Job], index: str, sourcetype: str | None) -> list[FileResult]:
    """One batch for ``jobs``; if it breaks, one batch per file so only the broken one fails."""
    if not jobs:
        return []
    try:
        _write_batch(store, jobs, index, sourcetype)
        return [j.result for j in jobs]
    except (HuntbookError, OSError) as exc:
        if len(jobs) == 1:
            jobs[0].result.status, jobs[0].result.error = "failed", f"{jobs[0].path}: {exc}"
            return [jobs[0].result]
    return [r for job in jobs for r in _commit(store, [_fresh(job)], index, sourcetype)]


def ingest_paths(
    store: Store,
    paths: Iterable[str | os.PathLike[str]],
    *,
    index: str,
    sourcetype: str | None,
    fmt: str | None,
    progress: Callable[[int], None] | None,
    batch_bytes: int = BATCH_BYTES,
) -> IngestSummary:
    """Ingest every file under ``paths``; ``progress`` gets each file's size in bytes when done."""
    fmt = check_format(fmt) if fmt else None
    results: dict[str, FileResult] = {}
    files = expand(paths)
    group: list[_Job] = []
    size = 0

    def flush() -> None:
        nonlocal group, size
        for result in _commit(store, group, index, sourcetype):
            results[result.path] = result
            if progress is not None:
                progress(Path(result.path).stat().st_size)
        group, size = [], 0

    with store.writing():
        for path, named in files:
            result, job = _prepare(store, path, named, fmt, {j.result.sha256 for j in group})
            results[str(path)] = result
            if job is None:
                if progress is not None:
                    progress(path.stat().st_size)
                continue
            group.append(job)
            size += path.stat().st_size
            if size >= batch_bytes:
                flush()
        flush()
    return IngestSummary([results[str(p)] for p, _ in files])
