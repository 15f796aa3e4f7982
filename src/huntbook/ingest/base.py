"""What readers hand to the normalizer, and what they report when part of a file is unreadable.

A reader is a function ``(member) -> Iterator[Record | Skip]``. It never stops at a bad record: it
yields a ``Skip`` naming the position (record number, line, byte offset) and goes on where it
can, so one corrupt chunk costs only that chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

MiB = 1 << 20


class Record(NamedTuple):
    """One raw record: ``kind`` names its normalizer (huntbook.normalize.NORMALIZERS)."""

    kind: str
    payload: Any
    raw: str
    position: str


class Skip(NamedTuple):
    """A record or a stretch of a file that could not be read."""

    position: str
    reason: str


@dataclass(frozen=True)
class Limits:
    """How much one input may make huntbook read: a guard against damaged and hostile files.

    ``member_bytes``: what one archive member (``.zip``, ``.gz``, ``.tar(.gz)``) may decompress
    to; ``line_bytes``: the longest line or record (a JSON line, a text line, an XML ``<Event>``,
    a CSV field). The real data's longest line is 32 KB; Windows caps an EVTX record at a chunk
    (64 KB).
    """

    member_bytes: int = 4096 * MiB
    line_bytes: int = 8 * MiB


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class IngestSettings:
    """How an ingest cuts its work (ingest/run.py); the defaults suit any input.

    ``batch_bytes``: input committed as one atomic batch (small files share one: each batch costs
    a Parquet file and a manifest write); ``task_bytes``: input read into shared parts as one task
    of a worker; ``piece_bytes``: a bigger file that can be cut (EVTX, lines) is read in pieces of
    this size, maybe by several workers; ``workers``: processes that read (None or 0: one per core
    for big enough input); ``limits``: what one input may make huntbook read.
    """

    batch_bytes: int = 32 * MiB
    task_bytes: int = 2 * MiB
    piece_bytes: int = 4 * MiB
    workers: int | None = None
    limits: Limits = DEFAULT_LIMITS


DEFAULT_SETTINGS = IngestSettings()


@dataclass(frozen=True)
class Member:
    """One readable stream: a plain file, a file inside an archive, or a piece of a big file.

    ``path`` is set for plain files on disk (the EVTX parser reads those itself, with its threads);
    ``open`` returns a binary stream in every case. ``piece`` names the stretch of the file a piece
    holds (``chunks 32-63``), said before each position reported from it; ``first_line`` is the
    line number of a line-based piece's first line, so its lines are numbered as in the file.
    An EVTX piece starts at chunk ``first_chunk``; ``ends_file`` is False for a piece cut before
    the file's end (what the file header says of the whole file is checked by the pieces holding
    its start and its end).
    """

    name: str
    open: Callable[[], IO[bytes]]
    path: str | None = None
    piece: str = ""
    first_line: int = 1
    limits: Limits = DEFAULT_LIMITS
    first_chunk: int = 0
    ends_file: bool = True


Reader = Callable[[Member], Iterator[Record | Skip]]
