"""The store's manifest: the one file that says which batches are committed.

A batch only exists once ``manifest.json`` names it. The manifest is replaced atomically (write a
temporary file, fsync, ``os.replace``), so a reader sees either the old or the new list, never half.
A folder without a manifest is no store: only ingest creates one (``Store.writing(create=True)``).
Writers serialise on an advisory lock (``fcntl.flock``) that the kernel releases when the
process dies, so a killed ingest never leaves the store locked; the holder writes its pid in the
lock file, so a writer that has to wait can say for whom.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NotRequired, TypedDict, cast

import orjson

from huntbook.errors import StoreError, StoreMissingError

FORMAT = 1
MANIFEST = "manifest.json"
LOCK = ".lock"

Catalog = dict[str, dict[str, dict[str, str]]]  # index -> sourcetype -> field -> type


class InputDamage(TypedDict, total=False):
    """What the manifest keeps of an input stored only in part (nothing for a whole one)."""

    skipped: int  # records (or stretches) that could not be read
    damage: list[str]  # the first few of them: "position: reason"


class MemberEntry(TypedDict):
    """One member of an archive input and how many events it gave."""

    name: str  # its name inside the archive
    events: int


class InputMembers(TypedDict, total=False):
    """An archive input's members that gave events, in row order (nothing for a plain file)."""

    members: list[MemberEntry]


class InputEntry(InputDamage, InputMembers):
    """One input file a batch holds the events of."""

    path: str  # absolute, as ingested
    sha256: str  # of its content: the same content is not ingested twice
    index: str
    events: int


class BatchEntry(TypedDict):
    """One committed batch: its Parquet files and where its events came from."""

    id: str  # b000001, ...
    files: list[str]  # relative to the store, in row order
    bytes: NotRequired[list[int]]  # each file's size; absent in stores written before sizes were
    events: int
    first_cd: int  # _cd of its first row
    inputs: list[InputEntry]
    catalog: Catalog  # the fields this batch stored
    committed: str  # ISO-8601 UTC


class Manifest(TypedDict):
    """``manifest.json``: the committed batches and what the next batch continues from."""

    format: int
    next_cd: int
    next_batch: int
    columns: dict[str, str]  # lower-cased name -> the spelling that owns the column
    variants: NotRequired[dict[str, str]]  # case variant -> its column (``user~1``)
    batches: list[BatchEntry]


def empty_manifest() -> Manifest:
    """A manifest with no batches; ``columns`` maps lower-cased names to their stored spelling."""
    return {"format": FORMAT, "next_cd": 0, "next_batch": 1, "columns": {}, "batches": []}


def read_manifest(root: Path) -> Manifest:
    """Load ``root/manifest.json``; StoreMissingError when there is none (no store there)."""
    path = root / MANIFEST
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise missing_store(root) from exc
    except OSError as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from exc
    return parse_manifest(data, path)


def missing_store(root: object) -> StoreMissingError:
    """The error for a path with no manifest: only ingest creates a store."""
    return StoreMissingError(
        f"no event store at {root}; create one with `huntbook ingest FILES --store {root}`"
    )


def parse_manifest(data: bytes, path: object) -> Manifest:
    """The manifest in ``data`` (read from ``path``, which errors name)."""
    try:
        loaded = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        raise StoreError(f"{path}: not a huntbook store manifest (format {FORMAT})")
    return cast(Manifest, loaded)


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Replace ``root/manifest.json`` atomically (tmp file, fsync, os.replace, fsync dir)."""
    tmp = root / f".{MANIFEST}.tmp"
    with tmp.open("wb") as fh:
        fh.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(root / MANIFEST)
    fsync_path(root)


def fsync_path(path: Path) -> None:
    """Flush a file's data, or a folder's entries (a rename inside it), to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _holder(fd: int) -> int | None:
    """The pid the lock's holder wrote in the lock file (None before it has written it)."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def store_lock(root: Path, on_wait: Callable[[int | None], None] | None = None) -> Iterator[None]:
    """Hold the store's writer lock; if another process holds it, tell ``on_wait`` its pid, wait."""
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(_holder(fd))
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)
