"""Splunk CSV exports (``_time,_raw,...``): each row's ``_raw`` read as XML or classic text."""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterator

from huntbook.errors import InputLimitError
from huntbook.ingest.base import Member, Record, Skip
from huntbook.ingest.splunk_raw import raw_record


def read_csv(member: Member) -> Iterator[Record | Skip]:
    """One Record per row; rows without ``_raw`` are Skips; a field over the line limit fails."""
    row_no = 0
    csv.field_size_limit(member.limits.line_bytes)  # module-wide, set by each read
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
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputLimitError(
                f"{member.name}: row {row_no + 1} has a field longer than "
                f"{member.limits.line_bytes:,} characters (--max-line-bytes)"
            ) from exc
        yield Skip(f"row {row_no + 1}", f"unreadable CSV: {exc}")
    except (OSError, EOFError, zlib.error) as exc:
        yield Skip(f"row {row_no + 1}", f"unreadable CSV: {exc}")
