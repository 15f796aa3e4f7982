"""Read input files into parts: the unit of work of an ingest, in this process or a worker.

``read_files`` takes a picklable ``ReadTask`` (files, their members' formats, where to write) and
returns a ``ReadOutcome``: each file's result (format, events per sourcetype, skipped records) and
the parts written (store/parts.py). It never touches the store itself: the ingesting process
hands the parts to a batch the store commits (ingest/run.py), so a worker that dies or is
left behind by a killed ingest cannot leave anything half-written in the store.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from huntbook.errors import HuntbookError, IngestError
from huntbook.ingest import READERS
from huntbook.ingest.base import Member, Skip
from huntbook.ingest.columnar import READ, REFUSALS, Refused, read_block, runs
from huntbook.ingest.summary import FileResult
from huntbook.normalize import normalize
from huntbook.store.parts import Parts, PartWriter

ORPHAN_CHECK = 4096  # records between two checks that the ingesting process is still there


class Orphaned(HuntbookError):
    """The process that asked for this read is gone: stop writing parts nobody will take."""


Plan = tuple[tuple[Member, str], ...]  # a file's members with their formats


@dataclass(frozen=True)
class ReadTask:
    """Files to read into one series of parts (small files share parts), and where to write.

    Every ``orphan_check`` records the reader checks that the process that asked (``parent``) is
    still there.
    """

    files: tuple[tuple[Path, Plan], ...]
    index: str
    sourcetype: str | None
    out_dir: Path
    prefix: str
    parent: int = field(default_factory=os.getpid)
    orphan_check: int = ORPHAN_CHECK


@dataclass
class ReadOutcome:
    """What reading gave: each file's result and the parts, or the error that stopped it.

    On error nothing is kept (the parts are deleted): a file that broke cannot be told apart from
    its neighbours in shared parts, so the caller reads each file again on its own.
    """

    results: list[FileResult]
    parts: Parts
    error: str = ""


def joined(outcomes: list[ReadOutcome]) -> ReadOutcome:
    """The outcomes of the pieces of one file as one: a piece that broke breaks the file."""
    if len(outcomes) == 1:
        return outcomes[0]
    result = merged([r for outcome in outcomes for r in outcome.results])
    parts = Parts()
    for outcome in outcomes:
        parts.extend(outcome.parts)
    error = next((o.error for o in outcomes if o.error), "")
    if error:
        parts.delete()
    return ReadOutcome([result], parts, error)


def merged(results: list[FileResult]) -> FileResult:
    """The results of reading the pieces of one file, as the file's."""
    out = FileResult(results[0].path)
    for result in results:
        out.absorb(result)
    return out


def read_files(task: ReadTask) -> ReadOutcome:
    """Read, normalize and write ``task``'s files as parts; a bad record is skipped and counted."""
    writer = PartWriter(task.out_dir, task.prefix)
    results: list[FileResult] = []
    try:
        for path, plan in task.files:
            result = FileResult(str(path))
            before = writer.events
            results.append(result)
            for member, fmt in plan:
                result.fmt = result.fmt or fmt
                start = writer.events
                _read_member(task, member, fmt, writer, result)
                _count_member(result, path, member, writer.events - start)
            result.events = writer.events - before
        parts = writer.close()
    except (HuntbookError, OSError) as exc:
        writer.written.delete()
        if isinstance(exc, Orphaned):
            raise
        return ReadOutcome(results, Parts(), error=_naming(results[-1].path, str(exc)))
    return ReadOutcome(results, parts)


def _count_member(result: FileResult, path: Path, member: Member, events: int) -> None:
    """Events per archive member (named ``path:member``) in read order; a plain file has none."""
    prefix = f"{path}:"
    if member.path is None and member.name.startswith(prefix) and events:
        name = member.name[len(prefix) :]
        result.members[name] = result.members.get(name, 0) + events


def _naming(path: str, message: str) -> str:
    """``message`` with the file's path in front, unless it starts with it already."""
    return message if message.startswith(path) else f"{path}: {message}"


def _read_member(
    task: ReadTask, member: Member, fmt: str, writer: PartWriter, result: FileResult
) -> None:
    compiled = COMPILED.get(fmt)
    if compiled is None:
        _read_records(task, member, fmt, writer, result)
    else:
        compiled(task, member, writer, result)


def _read_runs(task: ReadTask, member: Member, writer: PartWriter, result: FileResult) -> None:
    """JSON lines read into columns by Arrow (ingest/columnar.py), run by run; a run it refuses
    is read by the Python path, so the store is the same either way."""
    for item in runs(member):
        _check_parent(task, member)
        if isinstance(item, Skip):
            result.skip(member.name, _where(member, item.position), item.reason)
            continue
        try:
            block, counts = read_block(item, member, task.index, task.sourcetype)
        except Refused as exc:
            REFUSALS[str(exc)] += 1
            _read_records(task, item.member(member), "jsonl", writer, result)
            continue
        writer.add_block(block)
        result.sourcetypes.update(counts)
        READ["runs"] += 1
        READ["events"] += block.table.num_rows


COMPILED: dict[str, Callable[[ReadTask, Member, PartWriter, FileResult], None]] = {
    "jsonl": _read_runs
}  # formats read by a compiled path first


def _check_parent(task: ReadTask, member: Member) -> None:
    if task.parent not in (os.getppid(), os.getpid()):
        raise Orphaned(f"{member.name}: the ingesting process {task.parent} is gone")


def _read_records(
    task: ReadTask, member: Member, fmt: str, writer: PartWriter, result: FileResult
) -> None:
    for n, item in enumerate(READERS[fmt](member), start=1):
        if n % task.orphan_check == 0:
            _check_parent(task, member)
        if isinstance(item, Skip):
            result.skip(member.name, _where(member, item.position), item.reason)
            continue
        try:
            event = normalize(
                item.kind, item.payload, item.raw, index=task.index, sourcetype=task.sourcetype
            )
        except IngestError as exc:
            result.skip(member.name, _where(member, item.position), str(exc))
            continue
        writer.add(event)
        result.sourcetypes[event["sourcetype"]] += 1


def _where(member: Member, position: str) -> str:
    return f"{member.piece}, {position}" if member.piece else position
