"""JSON lines and JSON arrays: Security-Datasets/NXLog, Winlogbeat/ECS, evtx_dump, Splunk exports.

Each object is classified by its shape (``CLASSIFIERS``, first match wins): an ``Event`` key is the
EVTX JSON shape (evtx_dump), ``winlog`` is Winlogbeat, ``result``/``_raw`` is a Splunk export whose
``_raw`` is parsed as XML or classic text, anything else with an ``EventID`` is a flat NXLog object.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from huntbook.ingest.base import Member, Record, Skip
from huntbook.ingest.lines import lines, text_blocks
from huntbook.ingest.splunk_raw import raw_record

MAX_ARRAY_BYTES = 512 << 20


def _splunk(obj: dict[str, Any], position: str) -> Record | Skip:
    result = obj.get("result", obj)
    raw = result.get("_raw") if isinstance(result, dict) else None
    if not isinstance(raw, str):
        return Skip(position, "Splunk export row without _raw")
    return raw_record(raw, position)


CLASSIFIERS: tuple[tuple[Callable[[dict[str, Any]], bool], str], ...] = (
    (lambda o: isinstance(o.get("Event"), dict) or isinstance(o.get("System"), dict), "event"),
    (lambda o: isinstance(o.get("winlog"), dict), "winlogbeat"),
    (lambda o: "result" in o or "_raw" in o, "splunk"),
    (lambda o: "EventID" in o, "flat"),
)


_NOT_FLAT = ("Event", "System", "winlog", "result", "_raw")  # keys the other classifiers test


def classify(obj: Any, raw: str, position: str) -> Record | Skip:
    """One decoded JSON value as a Record of the right kind (or a Skip saying why not).

    The common case, a flat NXLog object, is recognized first by the keys it lacks: the same
    answer as walking ``CLASSIFIERS``, without four calls per line.
    """
    if type(obj) is dict and "EventID" in obj and not any(k in obj for k in _NOT_FLAT):
        return Record("flat", obj, raw, position)
    if not isinstance(obj, dict):
        return Skip(position, f"a JSON {type(obj).__name__}, not an object")
    for test, kind in CLASSIFIERS:
        if test(obj):
            return _splunk(obj, position) if kind == "splunk" else Record(kind, obj, raw, position)
    return Skip(position, "JSON object with no EventID, Event, winlog or _raw")


def _text(line: bytes) -> str:
    """The line as text without its line break, decoded once (no intermediate copies)."""
    end = len(line)
    while end and line[end - 1] in _EOL:
        end -= 1
    return str(memoryview(line)[:end], "utf-8", "replace")


_EOL = b"\r\n"


def read_jsonl(member: Member) -> Iterator[Record | Skip]:
    """One JSON object a line; an unreadable line is a Skip and the next line goes on."""
    line_no = member.first_line - 1
    try:
        with member.open() as fh:
            for line_no, line in lines(member, text_blocks(fh)):
                position = f"line {line_no}"
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield Skip(position, f"bad JSON: {exc}")
                    continue
                yield classify(obj, _text(line), position)
    except (OSError, EOFError, zlib.error) as exc:
        yield Skip(f"line {line_no + 1}", f"stream ends early: {exc}")


def read_json_array(member: Member) -> Iterator[Record | Skip]:
    """A JSON document holding an array of objects (read whole: arrays do not stream cheaply)."""
    try:
        with member.open() as fh:
            data = fh.read(MAX_ARRAY_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        yield Skip("byte 0", f"stream ends early: {exc}")
        return
    if len(data) > MAX_ARRAY_BYTES:
        yield Skip(
            "byte 0", f"JSON array over {MAX_ARRAY_BYTES >> 20} MB: convert it to JSON lines"
        )
        return
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield Skip(f"byte {exc.pos}", f"bad JSON: {exc}")
        return
    for i, obj in enumerate(items if isinstance(items, list) else [items], start=1):
        yield classify(obj, orjson.dumps(obj).decode(), f"item {i}")
