"""The mapping tables (mappings/*.yaml), loaded once and checked, as lookups for the normalizer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from huntbook.errors import MappingError
from huntbook.normalize.types import load_mapping, multivalue_fields


def _dict(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MappingError(f"mappings/{where}: expected a mapping")
    return data


@dataclass(frozen=True)
class CimRule:
    """One CIM field: the first present value among ``sources`` (``name[i]`` picks a value)."""

    name: str
    sources: tuple[tuple[str, int | None], ...]
    strip_domain: bool = False


@dataclass(frozen=True)
class Tables:
    """Everything the normalizer looks up, read from the YAML mappings."""

    system: tuple[tuple[tuple[str, ...], str], ...]
    header_aliases: dict[str, str]
    flat_rename: dict[str, str]
    flat_drop: frozenset[str]
    levels: dict[str, str]
    channels: dict[str, dict[str, str]]
    default_channel: dict[str, str]
    classic_channels: frozenset[str]
    classic_default: dict[str, str]
    classic_by_event: dict[str, dict[str, str]]
    inserts: dict[str, str]
    task_categories: dict[str, str]
    cim: dict[str, tuple[CimRule, ...]]
    multivalue: frozenset[str]


def _cim_source(text: str) -> tuple[str, int | None]:
    if text.endswith("]") and "[" in text:
        name, _, idx = text[:-1].partition("[")
        return name, int(idx)
    return text, None


def _cim_rules(data: dict[str, Any]) -> dict[str, tuple[CimRule, ...]]:
    out: dict[str, tuple[CimRule, ...]] = {}
    for group, rules in _dict(data.get("rules"), "cim.yaml rules").items():
        out[group] = tuple(
            CimRule(
                name, tuple(_cim_source(s) for s in spec["first"]), bool(spec.get("strip_domain"))
            )
            for name, spec in _dict(rules, f"cim.yaml {group}").items()
        )
    return out


@lru_cache(maxsize=1)
def tables() -> Tables:
    """Load and check every mapping file (raises MappingError on a malformed one)."""
    system = load_mapping("system")
    channels = load_mapping("channels")
    security = load_mapping("security")
    classic = _dict(security.get("classic"), "security.yaml classic")
    flat = _dict(system.get("flat"), "system.yaml flat")
    return Tables(
        system=tuple((tuple(path.split(".")), name) for path, name in system["system"].items()),
        header_aliases=_dict(system.get("header_aliases"), "system.yaml header_aliases"),
        flat_rename=_dict(flat.get("rename"), "system.yaml flat.rename"),
        flat_drop=frozenset(flat.get("drop", [])),
        levels={str(k): v for k, v in _dict(system.get("levels"), "system.yaml levels").items()},
        channels={
            k.lower(): v for k, v in _dict(channels.get("channels"), "channels.yaml").items()
        },
        default_channel=_dict(channels.get("default"), "channels.yaml default"),
        classic_channels=frozenset(c.lower() for c in channels.get("classic_channels", [])),
        classic_default=_dict(classic.get("default"), "security.yaml classic.default"),
        classic_by_event={
            str(k): v for k, v in _dict(classic.get("by_event", {}), "by_event").items()
        },
        inserts=_dict(security.get("inserts", {}), "security.yaml inserts"),
        task_categories={str(k): v for k, v in security.get("task_categories", {}).items()},
        cim=_cim_rules(load_mapping("cim")),
        multivalue=multivalue_fields(),
    )


@lru_cache(maxsize=1024)
def classic_names(event_code: str) -> dict[str, str]:
    """EventData name -> classic name for one EventCode: the default table plus its overrides."""
    t = tables()
    return {**t.classic_default, **t.classic_by_event.get(event_code, {})}
