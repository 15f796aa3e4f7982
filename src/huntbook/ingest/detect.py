"""Which reader fits a stream: decided from its first bytes (magic, first characters, first lines).

Each format has a probe; the first probe that accepts wins. ``FORMATS`` is the order they are
tried, and the "unrecognized format" error names them all. Line formats are judged on a sample of
lines (``SAMPLE_LINES``), not the first alone: a file whose first line is damaged, or a heading, is
still read, and its bad lines are skipped and reported by the reader.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import orjson

from huntbook.errors import IngestError, UnrecognizedFormatError, did_you_mean
from huntbook.ingest.base import Member
from huntbook.ingest.json_reader import CLASSIFIERS

HEAD_BYTES = 65_536
SAMPLE_LINES = 20
_CLASSIC_TIME = re.compile(rb"^\d{1,2}/\d{1,2}/\d{2,4} \d{1,2}:\d{2}:\d{2} [AP]M\s*$")
_XML_EVENT = re.compile(rb"<(?:\w+:)?Event[\s>]")


def _text_start(head: bytes) -> bytes:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 (wevtutil, PowerShell redirection)
        head = head[: len(head) // 2 * 2].decode("utf-16", errors="replace").encode()
    return head.lstrip(b"\xef\xbb\xbf").lstrip()


def _is_evtx(head: bytes) -> bool:
    return head.startswith(b"ElfFile\x00")


def _is_xml(head: bytes) -> bool:
    text = _text_start(head)
    return text.startswith(b"<") and _XML_EVENT.search(text) is not None


def _sample(head: bytes) -> list[bytes]:
    """Up to SAMPLE_LINES whole lines that are not blank (the last, maybe cut, left out)."""
    text = _text_start(head)
    whole = text if len(head) < HEAD_BYTES else text[: text.rfind(b"\n") + 1]
    return [line for line in whole.splitlines() if line.strip()][:SAMPLE_LINES] or [text]


def _is_classic(head: bytes) -> bool:
    """A timestamp line followed by a ``key=value`` line, among the first lines."""
    lines = _sample(head)
    return any(
        _CLASSIC_TIME.match(line) is not None and b"=" in after
        for line, after in zip(lines, lines[1:], strict=False)
    )


def _event_object(line: bytes) -> bool | None:
    """Whether a line is a JSON object shaped like an event; None if it is no JSON object."""
    if not line.lstrip().startswith(b"{"):
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return isinstance(obj, dict) and any(test(obj) for test, _ in CLASSIFIERS)


def _is_jsonl(head: bytes) -> bool:
    """Most sampled lines JSON objects, one at least shaped like an event (not a pretty-printed
    manifest, whose lines are no JSON objects)."""
    found = [_event_object(line) for line in _sample(head)]
    objects = [f for f in found if f is not None]
    return any(objects) and len(objects) * 2 >= len(found)


def _is_json_array(head: bytes) -> bool:
    return _text_start(head).startswith(b"[")


def _is_splunk_csv(head: bytes) -> bool:
    first = _text_start(head).split(b"\n", 1)[0]
    return b"," in first and b"_raw" in first


PROBES: dict[str, Callable[[bytes], bool]] = {
    "evtx": _is_evtx,
    "xml": _is_xml,
    "wineventlog": _is_classic,
    "jsonl": _is_jsonl,
    "json": _is_json_array,
    "csv": _is_splunk_csv,
}
FORMATS = tuple(PROBES)


def read_head(member: Member) -> bytes:
    """The first bytes of a stream (a truncated or corrupt compressed file raises IngestError)."""
    try:
        with member.open() as fh:
            return fh.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise IngestError(f"{member.name}: unreadable ({exc})") from exc


def detect_format(member: Member) -> str:
    """The format name of a stream; raises UnrecognizedFormatError naming what was tried."""
    head = read_head(member)
    for name, probe in PROBES.items():
        if probe(head):
            return name
    raise UnrecognizedFormatError(
        f"{member.name}: unrecognized format (tried {', '.join(FORMATS)})"
    )


def check_format(name: str) -> str:
    """A user-given --format, validated against the known names (with a did-you-mean)."""
    key = name.lower()
    if key not in PROBES:
        hint = did_you_mean(key, FORMATS)
        raise UnrecognizedFormatError(
            f"unknown format {name!r} (known: {', '.join(FORMATS)}).{hint}"
        )
    return key
