"""Turn raw records into normalized events (docs/architecture.md section 1), driven by YAML tables.

A reader (huntbook.ingest) hands over ``(kind, payload, raw)``; ``NORMALIZERS[kind]`` turns the
payload into fields and a time, and ``finish`` adds what every event gets. The tables in
``mappings/`` hold every name; docs/field-mapping.md is generated from them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huntbook.errors import IngestError
from huntbook.normalize.classic import classic_fields
from huntbook.normalize.event import event_fields
from huntbook.normalize.fields import Fields
from huntbook.normalize.finish import finish
from huntbook.normalize.flat import flat_fields, winlogbeat_to_event

__all__ = ["KINDS", "NORMALIZERS", "normalize"]


def _winlogbeat(obj: Any) -> tuple[Fields, float]:
    return event_fields(winlogbeat_to_event(obj))


NORMALIZERS: dict[str, Callable[[Any], tuple[Fields, float]]] = {
    "event": event_fields,  # EVTX JSON shape: EVTX, XML, evtx_dump
    "flat": flat_fields,  # Security-Datasets / NXLog
    "winlogbeat": _winlogbeat,  # Winlogbeat / ECS
    "classic": classic_fields,  # Splunk WinEventLog text
}
KINDS = tuple(NORMALIZERS)
# What each normalizer is handed: a record of another shape is malformed data, said as such, while
# an AttributeError/TypeError inside a normalizer is a bug and propagates.
PAYLOAD_TYPES: dict[str, type] = {"event": dict, "flat": dict, "winlogbeat": dict, "classic": str}


def normalize(
    kind: str, payload: Any, raw: str, *, index: str = "main", sourcetype: str | None = None
) -> dict[str, Any]:
    """One normalized event; raises IngestError when the record lacks what every event needs."""
    if not isinstance(payload, PAYLOAD_TYPES[kind]):
        shape = PAYLOAD_TYPES[kind].__name__
        raise IngestError(
            f"malformed {kind} record: expected {shape}, got {type(payload).__name__}"
        )
    try:
        fields, when = NORMALIZERS[kind](payload)
    except (KeyError, ValueError) as exc:
        raise IngestError(f"malformed {kind} record: {exc!r}") from exc
    return finish(fields, when, raw, index, sourcetype)
