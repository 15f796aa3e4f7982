"""A Splunk export's ``_raw`` (JSON or CSV) read as the record it holds: XML or classic text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from huntbook.ingest.base import Record, Skip
from huntbook.ingest.classic_reader import TIME_LINE
from huntbook.ingest.xml_reader import element_to_event


def raw_record(raw: str, position: str) -> Record | Skip:
    """``<Event ...>`` becomes an ``event`` Record, a timestamp-led text a ``classic`` one."""
    text = raw.lstrip()
    if text.startswith("<"):
        try:
            return Record("event", element_to_event(ET.fromstring(text)), raw, position)
        except ET.ParseError as exc:
            return Skip(position, f"_raw is not well-formed XML: {exc}")
    if TIME_LINE.match(text.split("\n", 1)[0].rstrip("\r")):
        return Record("classic", text, raw, position)
    return Skip(position, "_raw is neither event XML nor classic WinEventLog text")
