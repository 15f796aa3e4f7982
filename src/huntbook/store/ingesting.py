"""Drive an ingest: expand paths, read each input file as one atomic batch, tell what happened.

Per input file: hash it (the same content twice adds nothing), detect each member's format (or use
``--format``), read, normalize and write its events in one batch. A bad record is skipped and
counted; a file with nothing readable fails on its own and leaves the store as it was; the other
files go on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from huntbook.errors import IngestError, UnrecognizedFormatError
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


class _NothingRead(IngestError):
    """A file whose records were all unreadable."""


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


def _filler(
    plan: list[tuple[Member, str]],
    result: FileResult,
    entry: dict[str, Any],
    sourcetype: str | None,
) -> Callable[[BatchWriter], None]:
    index = entry["index"]

    def fill(writer: BatchWriter) -> None:
        for member, fmt in plan:
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
        result.events = entry["events"] = writer.events
        if writer.events == 0 and result.skipped_count:
            raise _NothingRead(
                f"{result.path}: no readable records ({result.skipped_count} skipped)"
            )

    return fill


def _ingest_file(
    store: Store, path: Path, named: bool, index: str, sourcetype: str | None, fmt: str | None
) -> FileResult:
    result = FileResult(str(path))
    try:
        result.sha256 = sha256_of(path)
        if store.has_input(result.sha256):
            result.status = "duplicate"
            return result
        plan = _plan(path, fmt, result)
        entry: dict[str, Any] = {
            "path": str(path.resolve()),
            "sha256": result.sha256,
            "index": index,
        }
        store.batch_from(_filler(plan, result, entry, sourcetype), [entry])
        result.status = "stored"
    except UnrecognizedFormatError as exc:
        result.status, result.error = ("failed" if named else "ignored"), str(exc)
    except (IngestError, OSError) as exc:
        result.status, result.error = "failed", str(exc)
    return result


def ingest_paths(
    store: Store,
    paths: Iterable[str | os.PathLike[str]],
    *,
    index: str,
    sourcetype: str | None,
    fmt: str | None,
    progress: Callable[[int], None] | None,
) -> IngestSummary:
    """Ingest every file under ``paths``; ``progress`` gets each file's size in bytes when done."""
    fmt = check_format(fmt) if fmt else None
    summary = IngestSummary()
    files = expand(paths)
    with store.writing():
        for path, named in files:
            summary.files.append(_ingest_file(store, path, named, index, sourcetype, fmt))
            if progress is not None:
                progress(path.stat().st_size)
    return summary
