"""Processes of a test run, found through Linux's /proc (empty elsewhere): the ingest's forker
and reading workers (ingest/workers.py) are looked for with these."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        if f"PPid:\t{pid}" in lines:
            found.add(int(status.parent.name))
    return found


def descendants(pid: int) -> set[int]:
    """``pid``'s children, theirs, and so on."""
    found = children(pid)
    return found.union(*map(descendants, found))
