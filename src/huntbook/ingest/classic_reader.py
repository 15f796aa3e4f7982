"""Classic Splunk ``WinEventLog`` text: multi-line records, each opening with a timestamp line.

    08/23/2017 03:31:16 PM
    LogName=Security
    EventCode=4624
    ...
    Message=An account was successfully logged on.

A line holding only such a timestamp starts the next record; records are handed over one at a time,
so memory stays flat. Parsing the record is huntbook.normalize.classic's job.

Exports from Windows tools come in UTF-8, UTF-16 (with a byte-order mark) or the ANSI code page
(Windows-1252, ``pgüstävo``): each line is read as UTF-8 if it is valid UTF-8, else as Windows-1252;
bytes neither can read (five Windows-1252 leaves undefined) become U+FFFD and are reported.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from huntbook.errors import InputLimitError
from huntbook.ingest.base import Member, Record, Skip
from huntbook.ingest.lines import lines, text_blocks

TIME_LINE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4} \d{1,2}:\d{2}:\d{2} [AP]M\s*$")
FALLBACK = "cp1252"  # the ANSI code page of western Windows


def decode_line(raw: bytes) -> tuple[str, int]:
    """A line as text (UTF-8, else Windows-1252) and how many of its bytes neither could read."""
    try:
        return raw.decode(), 0
    except UnicodeDecodeError:
        text = raw.decode(FALLBACK, errors="replace")
        return text, text.count("\ufffd")


class _Reading:
    """The record being gathered: its lines, where it starts, how big it is."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self.lines: list[str] = []
        self.start = 0
        self.last = 0  # the number of the last line taken
        self.size = 0

    def add(self, line_no: int, line: str) -> Record | None:
        """Take a line; the record it ends (a timestamp line starts the next), if any."""
        done = None
        if TIME_LINE.match(line) and self.lines:
            done = self.record()
        if not self.lines:
            self.start, self.size = line_no, 0
        gap = line_no - self.last - 1 if self.lines else 0  # blank lines inside the record
        self.size += len(line) + gap + 1
        if self.size > self.member.limits.line_bytes:
            raise InputLimitError(
                f"{self.member.name}: the record starting on line {self.start} is longer than "
                f"{self.member.limits.line_bytes:,} bytes (--max-line-bytes)"
            )
        self.lines.extend([""] * gap)
        self.lines.append(line)
        self.last = line_no
        return done

    def record(self) -> Record:
        text = "\n".join(self.lines)
        self.lines = []
        return Record("classic", text, text, f"line {self.start}")


def read_classic(member: Member) -> Iterator[Record | Skip]:
    """Each record as a ``classic`` Record; its position is the line it starts on."""
    reading = _Reading(member)
    line_no = 0
    try:
        with member.open() as fh:
            for line_no, raw in lines(member, text_blocks(fh)):
                line, bad = decode_line(raw.rstrip(b"\r"))
                if bad:
                    yield Skip(
                        f"line {line_no}",
                        f"{bad} byte(s) neither UTF-8 nor Windows-1252, kept as U+FFFD",
                    )
                done = reading.add(line_no, line)
                if done is not None:
                    yield done
    except (OSError, EOFError, zlib.error) as exc:
        yield Skip(f"line {line_no + 1}", f"stream ends early: {exc}")
    if reading.lines:
        yield reading.record()
