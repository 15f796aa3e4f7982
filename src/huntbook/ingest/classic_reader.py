"""Classic Splunk ``WinEventLog`` text: multi-line records, each opening with a timestamp line.

    08/23/2017 03:31:16 PM
    LogName=Security
    EventCode=4624
    ...
    Message=An account was successfully logged on.

A line holding only such a timestamp starts the next record; records are handed over one at a time,
so memory stays flat. Parsing the record is huntbook.normalize.classic's job.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterator

from huntbook.ingest.base import Member, Record, Skip

TIME_LINE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4} \d{1,2}:\d{2}:\d{2} [AP]M\s*$")


def _lines(member: Member) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    with member.open() as fh:
        for raw in fh:
            yield decoder.decode(raw).rstrip("\r\n")


def read_classic(member: Member) -> Iterator[Record | Skip]:
    """Each record as a ``classic`` Record; its position is the line it starts on."""
    lines: list[str] = []
    start = 0
    line_no = 0
    try:
        for line_no, line in enumerate(_lines(member), start=1):
            if TIME_LINE.match(line) and lines:
                yield _record(lines, start)
                lines = []
            if not lines:
                if not line.strip():
                    continue
                start = line_no
            lines.append(line)
    except (OSError, EOFError, zlib.error) as exc:
        yield Skip(f"line {line_no + 1}", f"stream ends early: {exc}")
    if lines:
        yield _record(lines, start)


def _record(lines: list[str], start: int) -> Record:
    text = "\n".join(lines).rstrip("\n")
    return Record("classic", text, text, f"line {start}")
