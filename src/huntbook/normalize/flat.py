"""JSON objects that are not in the EVTX shape: NXLog/Security-Datasets flat objects, Winlogbeat.

Flat objects mix System facts and EventData at one level; mappings/system.yaml (``flat``) says which
keys are System facts under other names. Winlogbeat objects are turned into the EVTX shape so that
they share the EVTX normalizer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from huntbook.errors import IngestError
from huntbook.normalize.fields import Fields, text
from huntbook.normalize.tables import tables
from huntbook.normalize.timeparse import iso_to_epoch, local_to_utc

_TIME_KEYS = ("@timestamp", "TimeCreated", "timestamp", "UtcTime", "EventTime")


def flat_time(obj: dict[str, Any]) -> float:
    """The creation time: NXLog's local ``EventTime`` moved to UTC, else the first UTC stamp."""
    local, received, utc = obj.get("EventTime"), obj.get("EventReceivedTime"), obj.get("@timestamp")
    if isinstance(local, str) and isinstance(received, str) and isinstance(utc, str):
        return _finer(local_to_utc(local, received, utc), obj.get("UtcTime"))
    for key in _TIME_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value:
            return iso_to_epoch(value)
    raise IngestError("no time field (@timestamp, TimeCreated, UtcTime, EventTime)")


def _finer(seconds: float, sysmon_utc: Any) -> float:
    """Sysmon's own ``UtcTime`` where it agrees with ``EventTime`` to the second.

    NXLog's ``EventTime`` has whole seconds only; Sysmon's ``UtcTime`` carries milliseconds and is
    the time Splunk's Sysmon add-on indexes (``TIME_PREFIX=<Data Name='UtcTime'>``). Without it a
    WMI child and the 4624 that opened its session tie on the same second and their order is left
    to arrival order (windows-data.md item 7).
    """
    if not isinstance(sysmon_utc, str) or not sysmon_utc:
        return seconds
    try:
        precise = iso_to_epoch(sysmon_utc)
    except IngestError:
        return seconds
    return precise if 0 <= precise - seconds < 1 else seconds


_DROP, _TEXT, _LIST = 0, 1, 2
_PLANS: dict[str, tuple[int, str]] = {}  # memo of _key_plan without the call overhead


@lru_cache(maxsize=8192)
def _key_plan(key: str) -> tuple[int, str]:
    """What happens to a flat key: dropped, kept as text, or kept as a list; under which name."""
    t = tables()
    if key in t.flat_drop:
        return _DROP, key
    name = t.flat_rename.get(key, key)
    return (_LIST if name in t.multivalue else _TEXT), name


def flat_fields(obj: dict[str, Any]) -> tuple[Fields, float]:
    """An NXLog-style object: every key under its own name, System keys renamed per the table."""
    return flat_values(obj), flat_time(obj)


def flat_values(obj: dict[str, Any]) -> Fields:
    """The fields of ``flat_fields`` without the time."""
    code = text(obj.get("EventID"))
    if code is None:
        raise IngestError("no EventID")
    out: Fields = {}
    plans = _PLANS
    for key, value in obj.items():
        try:
            action, name = plans[key]
        except KeyError:
            action, name = plans[key] = _key_plan(key)
        if action == _TEXT:
            if type(value) is not str:
                value = str(value) if type(value) is int else text(value)
            if value:
                out[name] = value
        elif action == _LIST:
            out[name] = [v for v in (text(x) for x in _as_list(value)) if v]
    out["EventCode"] = code
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def winlogbeat_to_event(obj: dict[str, Any]) -> dict[str, Any]:
    """A Winlogbeat/ECS object (``winlog.*``) in the EVTX shape."""
    w = obj["winlog"]
    proc = w.get("process") or {}
    system = {
        "Channel": w.get("channel"),
        "Computer": w.get("computer_name") or (obj.get("host") or {}).get("name"),
        "EventID": w.get("event_id") or (obj.get("event") or {}).get("code"),
        "EventRecordID": w.get("record_id"),
        "Provider": {
            "#attributes": {"Name": w.get("provider_name"), "Guid": w.get("provider_guid")}
        },
        "Task": w.get("task"),
        "Opcode": w.get("opcode"),
        "Version": w.get("version"),
        "Keywords": ",".join(w["keywords"]) if isinstance(w.get("keywords"), list) else None,
        "Execution": {
            "#attributes": {
                "ProcessID": proc.get("pid"),
                "ThreadID": (proc.get("thread") or {}).get("id"),
            }
        },
        "TimeCreated": {
            "#attributes": {"SystemTime": w.get("time_created") or obj.get("@timestamp")}
        },
    }
    event: dict[str, Any] = {"System": system, "EventData": w.get("event_data") or {}}
    if w.get("user_data"):
        event["UserData"] = w["user_data"]
    return {"Event": event}
