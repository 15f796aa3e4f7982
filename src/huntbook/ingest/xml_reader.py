"""Windows event XML: one or many ``<Event>`` elements (wevtutil, Get-WinEvent, XmlWinEventLog).

The stream is cut into ``<Event>...</Event>`` spans in bounded memory (so a wevtutil ``<Events>``
wrapper, one event per line, or events back to back all work), each span is parsed on its own
(namespace-aware: the tag's local name counts) and turned into the EVTX JSON shape, so XML and EVTX
share one normalizer. ``_raw`` is the span as it was.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from typing import Any

from huntbook.errors import InputLimitError
from huntbook.ingest.base import Member, Record, Skip

BLOCK = 1 << 20
_TAIL = 32
_START = re.compile(r"<(?:\w+:)?Event[\s>]")
_END = re.compile(r"</(?:\w+:)?Event\s*>")
_SECTIONS_AS_DATA = ("EventData",)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _plain(elem: ET.Element) -> Any:
    """An element as evtx-JSON: text, or ``{"#attributes": ..., "#text": ..., child: ...}``."""
    children = list(elem)
    text = (elem.text or "").strip() or None
    if not children and not elem.attrib:
        return text
    out: dict[str, Any] = {}
    if elem.attrib:
        out["#attributes"] = {_local(k): v for k, v in elem.attrib.items()}
    if text is not None:
        out["#text"] = text
    for child in children:
        key, value = _local(child.tag), _plain(child)
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


def _event_data(elem: ET.Element) -> dict[str, Any]:
    """``<Data Name='X'>v</Data>`` as ``{X: v}``; unnamed ones as ``{"Data": {"#text": [...]}}``."""
    out: dict[str, Any] = {}
    positional: list[str] = []
    for child in elem:
        tag, name = _local(child.tag), child.get("Name")
        if tag == "Data" and name is not None:
            out[name] = child.text or ""
        elif tag == "Data":
            positional.append(child.text or "")
        else:
            out[tag] = _plain(child)
    if positional:
        out["Data"] = {"#text": positional}
    return out


def element_to_event(root: ET.Element) -> dict[str, Any]:
    """An ``<Event>`` element in the EVTX JSON shape (``{"Event": {"System": ..., ...}}``)."""
    event: dict[str, Any] = {}
    for section in root:
        name = _local(section.tag)
        if name in _SECTIONS_AS_DATA:
            event[name] = _event_data(section)
        elif name != "RenderingInfo":
            event[name] = _plain(section)
    return {"Event": event}


def _decoder(first: bytes) -> codecs.IncrementalDecoder:
    encoding = "utf-16" if first[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    return codecs.getincrementaldecoder(encoding)(errors="replace")


def _spans(member: Member) -> Iterator[tuple[int, str]]:
    """``(offset, text)`` of every ``<Event>`` element in the stream, in bounded memory."""
    buffer, consumed, decoder = "", 0, None
    with member.open() as fh:
        while True:
            block = fh.read(BLOCK)
            decoder = decoder or _decoder(block)
            buffer += decoder.decode(block, final=not block)
            pos = 0
            while (start := _START.search(buffer, pos)) and (
                end := _END.search(buffer, start.end())
            ):
                yield consumed + start.start(), buffer[start.start() : end.end()]
                pos = end.end()
            # keep an unfinished element, or a tail that may hold the start of a tag
            keep = start.start() if start else max(pos, len(buffer) - _TAIL)
            consumed += keep
            buffer = buffer[keep:]
            if len(buffer) > member.limits.line_bytes:
                raise InputLimitError(
                    f"{member.name}: an <Event> element at char {consumed:,} is longer than "
                    f"{member.limits.line_bytes:,} bytes (--max-line-bytes), or never ends"
                )
            if not block:
                return


def read_xml(member: Member) -> Iterator[Record | Skip]:
    """Each ``<Event>`` as an ``event`` Record; an element that does not parse is a Skip."""
    count = 0
    try:
        for offset, text in _spans(member):
            count += 1
            try:
                root = ET.fromstring(text)
            except ET.ParseError as exc:
                yield Skip(f"event #{count} (char {offset})", f"bad XML: {exc}")
                continue
            yield Record("event", element_to_event(root), text, f"event #{count}")
    except (OSError, EOFError, zlib.error) as exc:
        yield Skip(f"after event #{count}", f"stream ends early: {exc}")
