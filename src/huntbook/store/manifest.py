"""The store's manifest: the one file that says which batches are committed.

A batch only exists once ``manifest.json`` names it. The manifest is replaced atomically (write a
temporary file, fsync, ``os.replace``), so a reader sees either the old or the new list, never half.
Writers serialise on an advisory lock (``fcntl.flock``) that the kernel releases when the
process dies, so a killed ingest never leaves the store locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from huntbook.errors import StoreError

FORMAT = 1
MANIFEST = "manifest.json"
LOCK = ".lock"


def empty_manifest() -> dict[str, Any]:
    """A manifest with no batches; ``columns`` maps lower-cased names to their stored spelling."""
    return {"format": FORMAT, "next_cd": 0, "next_batch": 1, "columns": {}, "batches": []}


def read_manifest(root: Path) -> dict[str, Any]:
    """Load ``root/manifest.json``; a store without one is empty."""
    path = root / MANIFEST
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return empty_manifest()
    except (OSError, orjson.JSONDecodeError) as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StoreError(f"{path}: not a huntbook store manifest (format {FORMAT})")
    return data


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Replace ``root/manifest.json`` atomically (tmp file, fsync, os.replace, fsync dir)."""
    tmp = root / f".{MANIFEST}.tmp"
    with tmp.open("wb") as fh:
        fh.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(root / MANIFEST)
    fsync_dir(root)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def store_lock(root: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the store's writer lock; yields False at once if ``blocking`` is off and it is busy."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
