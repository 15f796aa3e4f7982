"""Events in the EVTX JSON shape (``{"Event": {"System": ..., "EventData": ...}}``) to fields.

EVTX (``evtx`` records_json), evtx_dump JSON, Windows XML (read into this shape) and Winlogbeat
(converted to it) all come through here, so they share one mapping: mappings/system.yaml.
"""

from __future__ import annotations

from functools import lru_cache
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
        elif (t := value if type(value) is str else text(value)) not in (None, ""):
            out[name] = t


@lru_cache(maxsize=1)
def _system_plan() -> tuple[tuple[str, tuple[tuple[tuple[str, ...], str], ...]], ...]:
    """mappings/system.yaml's paths grouped by their first step, in table order.

    ``Provider.#attributes.Name`` and ``Provider.#attributes.Guid`` then share one lookup of
    ``Provider``; runs of the same first step stay where they are, so fields keep their order.
    """
    plan: list[tuple[str, list[tuple[tuple[str, ...], str]]]] = []
    for path, name in tables().system:
        if plan and plan[-1][0] == path[0]:
            plan[-1][1].append((path[1:], name))
        else:
            plan.append((path[0], [(path[1:], name)]))
    return tuple((head, tuple(leaves)) for head, leaves in plan)


def event_fields(obj: dict[str, Any]) -> tuple[Fields, float]:
    """Fields and ``_time`` of one event: System per the table, then EventData/UserData by name."""
    event = obj.get("Event", obj)
    system = event.get("System") if isinstance(event, dict) else None
    if not isinstance(system, dict):
        raise IngestError("no Event/System element")
    t = tables()
    out: Fields = {}
    for head, leaves in _system_plan():
        node = system.get(head)
        if node is None:
            continue
        for rest, name in leaves:
            value = dig(node, rest) if rest else node
            if type(value) is not str:
                value = text(value)
            if value:
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
