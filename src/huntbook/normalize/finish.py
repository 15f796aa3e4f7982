"""What every event gets whatever its shape: Splunk's default fields, classic names, CIM names.

Shape-specific normalizers (event.py, flat.py, classic.py) hand over their fields; this module adds
``index``, ``host``, ``source``, ``sourcetype``, ``_raw``, ``_time``, fills the classic header and
System names from each other, builds the add-on's classic names for Security events that arrived as
EventData, and the CIM names (mappings/cim.yaml).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from huntbook.normalize.fields import Fields
from huntbook.normalize.tables import Tables, classic_names, tables


@lru_cache(maxsize=4096)
def short_host(name: str) -> str:
    """``WORKSTATION6.theshire.local`` -> ``WORKSTATION6``; IP addresses stay whole."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name.split(".", 1)[0]
    return name


def _aliases(out: Fields, t: Tables) -> None:
    for alias, target in t.header_aliases.items():
        if target in out and alias not in out:
            out[alias] = out[target]
        elif alias in out and target not in out:
            out[target] = out[alias]


@lru_cache(maxsize=1024)
def channel_spec(channel: str) -> tuple[str, str, str]:
    """``(canonical channel, source, sourcetype)`` of a channel name, per mappings/channels.yaml."""
    t = tables()
    spec = t.channels.get(channel.lower(), {})
    canonical = spec.get("channel", channel)
    source = spec.get("source", t.default_channel["source"]).format(Channel=canonical)
    return canonical, source, spec.get("sourcetype", t.default_channel["sourcetype"])


def _channel(out: Fields) -> tuple[str, str]:
    canonical, source, sourcetype = channel_spec(str(out.get("Channel") or ""))
    if canonical:
        out["Channel"] = out["LogName"] = canonical
    return source, sourcetype


@lru_cache(maxsize=1024)
def _classic_plan(event_code: str) -> tuple[tuple[str, str, bool], ...]:
    multivalue = tables().multivalue
    return tuple((k, n, n in multivalue) for k, n in classic_names(event_code).items())


def _classic_from_event_data(out: Fields, t: Tables) -> None:
    """Security EventData -> the classic message names, multivalue subject first.

    The table's order (Subject* before Target*) is the message's order; it also fixes the order for
    flat JSON objects, whose keys come in no particular order.
    """
    added: Fields = {}
    inserts = t.inserts
    for key, name, is_list in _classic_plan(str(out["EventCode"])):
        value = out.get(key)
        if value is None or type(value) is not str:
            continue
        if value in inserts:
            value = inserts[value]
        if is_list:
            added.setdefault(name, []).append(value)
        elif name not in added:
            added[name] = value
    for name, value in added.items():
        out.setdefault(name, value)


def _pick(value: Any, index: int | None) -> str | None:
    """The usable text of a CIM source: ``[i]`` of a list, a scalar only for ``[0]``/``[-1]``/none.

    ``""`` and ``-`` (the add-on's "no value") are not usable.
    """
    if isinstance(value, list):
        if index is None:
            index = 0
        value = value[index] if -len(value) <= index < len(value) else None
    elif index not in (None, 0, -1):
        return None
    return value if isinstance(value, str) and value and value != "-" else None


@lru_cache(maxsize=8)
def _cim_plan(group: str) -> tuple[tuple[str, tuple[tuple[str, int | None], ...], bool], ...]:
    """The CIM rules of one group as plain tuples (no attribute lookups per event)."""
    return tuple((r.name, r.sources, r.strip_domain) for r in tables().cim[group])


def _cim(out: Fields, group: str) -> None:
    get = out.get
    for target, sources, strip_domain in _cim_plan(group):
        if target in out:
            continue
        for name, index in sources:
            value = get(name)
            if value is None:
                continue
            value = _pick(value, index)
            if value is not None:
                out[target] = value.rsplit("\\", 1)[-1] if strip_domain else value
                break


def _security(out: Fields, t: Tables) -> None:
    _classic_from_event_data(out, t)  # no-op for classic text: it has no EventData names
    code = str(out["EventCode"])
    if code in t.task_categories:
        out.setdefault("TaskCategory", t.task_categories[code])
    level = out.get("Level")
    if isinstance(level, str) and level in t.levels:
        out.setdefault("Type", t.levels[level])


def finish(
    out: Fields, when: float, raw: str, index: str, sourcetype: str | None
) -> dict[str, Any]:
    """The normalized event (docs/architecture.md section 1) from one record's fields."""
    t = tables()
    _aliases(out, t)
    source, default_sourcetype = _channel(out)
    channel = str(out.get("Channel") or "").lower()
    if channel in t.classic_channels:
        _security(out, t)
        _cim(out, "classic")
    elif default_sourcetype.startswith("XmlWinEventLog:Microsoft-Windows-Sysmon"):
        _cim(out, "sysmon")
    computer = out.get("Computer")
    event: dict[str, Any] = {
        "_time": when,
        "_raw": raw,
        "index": index,
        "host": short_host(computer) if isinstance(computer, str) and computer else None,
        "source": source,
        "sourcetype": sourcetype or default_sourcetype,
        "EventCode": out.pop("EventCode"),
    }
    for key in ("_time", "_raw", "index", "host", "source", "sourcetype"):
        out.pop(key, None)
    event.update(out)
    return event
