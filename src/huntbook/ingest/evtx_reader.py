"""EVTX files through the ``evtx`` package (Rust parser, its own worker threads).

Records come from ``records_json()``; a corrupt record or chunk raises inside the iterator, which
goes on with the next one, so each failure becomes a ``Skip`` and the rest of the file is kept.
The parser does not check the file's checksums: ``evtx_check.survey`` does first, and a chunk that
fails them is left out of what the parser reads (and reported), so damage never becomes altered
events.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from typing import IO

import evtx
import orjson

from huntbook.ingest.base import Member, Record, Skip
from huntbook.ingest.evtx_check import kept, survey
from huntbook.ingest.xmlrender import render_event

THREADS = 0  # 0: the parser picks one worker per core
MAX_CONSECUTIVE_ERRORS = 10_000  # a file that only errors is not worth walking to the end


def read_evtx(member: Member) -> Iterator[Record | Skip]:
    """Each record as an ``event`` Record (``_raw`` rendered as XML), each failure as a Skip."""
    try:
        with member.open() as fh:
            found = survey(member, fh)
        yield from found.skips
        source = _source(member, found.bad)
    except (OSError, EOFError, zlib.error) as exc:
        yield Skip("file header", f"unreadable: {exc}")
        return
    try:
        records = evtx.PyEvtxParser(source, number_of_threads=THREADS).records_json()
    except (RuntimeError, OSError) as exc:
        yield Skip("file header", f"not a readable EVTX file: {exc}")
        return
    position, errors = 0, 0
    while errors < MAX_CONSECUTIVE_ERRORS:
        position += 1
        try:
            record = next(records)
        except StopIteration:
            return
        except (RuntimeError, OSError) as exc:
            errors += 1
            yield Skip(f"record #{position}", str(exc).split("\n", 1)[0])
            continue
        errors = 0
        if not isinstance(record, dict):
            yield Skip(f"record #{position}", "the parser returned no record")
            continue
        try:
            obj = orjson.loads(record["data"])
        except orjson.JSONDecodeError as exc:
            yield Skip(f"record {record['event_record_id']}", f"bad record JSON: {exc}")
            continue
        yield Record("event", obj, render_event(obj), f"record {record['event_record_id']}")


def _source(member: Member, bad: set[int]) -> str | IO[bytes]:
    """What the parser reads: the file (or stream) itself, or only its chunks that are sound."""
    if bad:
        with member.open() as fh:
            return io.BytesIO(kept(fh, bad))
    return member.path if member.path else member.open()
