"""Events in the EVTX JSON shape (``{"Event": {"System": ..., "EventData": ...}}``) to fields.

EVTX (``evtx`` records_json), evtx_dump JSON, Windows XML (read into this shape) and Winlogbeat
(converted to it) all come through here, so they share one mapping: mappings/system.yaml.
"""

from __future__ import annotations

from typing import Any

from huntbook.errors import IngestError
from huntbook.normalize.fields import Fields, dig, put_leaves, text, texts
from huntbook.normalize.tables import tables
from huntbook.normalize.timeparse import iso_to_epoch

_EXTRA_SECTIONS = ("UserData", "ProcessingErrorData", "DebugData", "BinaryEventData")


def event_code(value: Any) -> str | None:
    """``EventID`` as text; it may be ``{"#attributes": {"Qualifiers": 0}, "#text": 600}``."""
    return text(value)


def _event_data(out: Fields, data: Any) -> None:
    """Named ``<Data>`` under their names; unnamed (positional) ones as the multivalue ``Data``."""
    if not isinstance(data, dict):
        if data not in (None, ""):
            out["Data"] = texts(data)
        return
    for name, value in data.items():
        if name == "#attributes":
            continue
        if name in ("Data", "#text"):
            out.setdefault("Data", []).extend(texts(value))
        elif name == "Binary":
            out.setdefault("Binary", text(value))
        elif (t := text(value)) not in (None, ""):
            out[name] = t


def event_fields(obj: dict[str, Any]) -> tuple[Fields, float]:
    """Fields and ``_time`` of one event: System per the table, then EventData/UserData by name."""
    event = obj.get("Event", obj)
    system = event.get("System") if isinstance(event, dict) else None
    if not isinstance(system, dict):
        raise IngestError("no Event/System element")
    t = tables()
    out: Fields = {}
    for path, name in t.system:
        value = text(dig(system, path))
        if value not in (None, ""):
            out[name] = value
    code = event_code(system.get("EventID"))
    if code is None:
        raise IngestError("no System/EventID")
    out["EventCode"] = code
    stamp = out.get("TimeCreated")
    if not stamp:
        raise IngestError("no System/TimeCreated/@SystemTime")
    _event_data(out, event.get("EventData"))
    for section in _EXTRA_SECTIONS:
        if section in event:
            put_leaves(out, event[section], t.multivalue)
    return out, iso_to_epoch(stamp)
