"""Splunk CSV exports (``_time,_raw,...``): each row's ``_raw`` read as XML or classic text."""

from __future__ import annotations

import csv
import io
import sys
import zlib
from collections.abc import Iterator

from huntbook.ingest.base import Member, Record, Skip
from huntbook.ingest.splunk_raw import raw_record

csv.field_size_limit(min(sys.maxsize, 1 << 30))


def read_csv(member: Member) -> Iterator[Record | Skip]:
    """One Record per row; rows without ``_raw`` are Skips."""
    row_no = 0
    try:
        with member.open() as fh:
            text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
            for row_no, row in enumerate(csv.DictReader(text), start=1):
                raw = row.get("_raw")
                position = f"row {row_no}"
                if not raw:
                    yield Skip(position, "row without _raw")
                    continue
                yield raw_record(raw, position)
    except (OSError, EOFError, zlib.error, csv.Error) as exc:
        yield Skip(f"row {row_no + 1}", f"unreadable CSV: {exc}")
