"""The lateral-movement methods, as data: ``methods.yaml`` loaded into rules that match events.

Why a table: how WMI, PsExec, WinRM, DCOM, RDP and scheduled tasks show up in logs is knowledge
that grows with every recording; adding a method or a trait is one YAML entry, not code. The file's
header documents the rule language (scope, event, image/parent_image, command-line substrings,
logon type, anchor).

API: ``load_methods() -> MethodTable`` (cached); ``Rule.matches(activity)``; ``Method.rules``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from huntbook.analytics._yaml import table
from huntbook.analytics.kinds import extra_kinds
from huntbook.analytics.sessions import Activity
from huntbook.errors import MappingError

SCOPES = ("session", "nearby", "logon", "alone", "source", "connection")
# condition -> the activity field it tests: by file name (the end of a path or share) ...
NAME_FIELDS = {"image": "Image", "parent_image": "ParentImage", "share": "ShareName"}
# ... or by substring
TEXT_FIELDS = {"command_line": "CommandLine", "parent_command_line": "ParentCommandLine"}
FIELD_OF = {**NAME_FIELDS, **TEXT_FIELDS}
CONDITIONS = ("event", *FIELD_OF, "match", "port", "logon_type", "loopback", "planted")
BUILTIN_KINDS = ("process", "service", "task", "share")


def _file_name(path: str | None) -> str:
    return (path or "").replace("/", "\\").rsplit("\\", 1)[-1].lower()


@dataclass(frozen=True)
class Rule:
    """One recognisable trace of a method (see methods.yaml for the language)."""

    scope: str
    anchor: bool
    event: str | None
    images: dict[str, frozenset[str]]
    substrings: dict[str, tuple[str, ...]]
    logon_types: frozenset[str]
    loopback: bool | None = None
    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()  # (field, regex on its lower-case value)
    ports: frozenset[str] = frozenset()
    confidence: str | None = None  # how sure a match makes the edge, when not its scope's default
    planted: bool = (
        False  # nearby image_load: the DLL was written by the SMB server (in the engine)
    )

    def named(self, activity: Activity, group: str) -> str | None:
        """The text a ``(?P<group>...)`` of this rule's patterns caught in the activity."""
        for name, pattern in self.patterns:
            found = pattern.search((activity.get(name) or "").lower())
            if found and group in pattern.groupindex:
                return found.group(group)
        return None

    def matches(self, activity: Activity) -> bool:
        """Whether an activity event satisfies every condition of this rule."""
        if self.event and activity.kind != self.event:
            return False
        if not all(p.search((activity.get(n) or "").lower()) for n, p in self.patterns):
            return False
        for key, names in self.images.items():
            if _file_name(activity.get(FIELD_OF[key])) not in names:
                return False
        for key, parts in self.substrings.items():
            value = (activity.get(FIELD_OF[key]) or "").lower()
            if not any(p in value for p in parts):
                return False
        return True

    def matches_logon(self, logon_type: str | None, loopback: bool = False) -> bool:
        """A ``logon`` rule against the 4624 itself (type, and whether it came over loopback)."""
        if self.loopback is not None and self.loopback != loopback:
            return False
        return self.scope == "logon" and (
            not self.logon_types or (logon_type or "") in self.logon_types
        )


@dataclass(frozen=True)
class Method:
    name: str
    attack: str
    window: float
    rules: tuple[Rule, ...]
    self_edges: bool = False
    source_ports: frozenset[str] = frozenset()  # `alone` rules: inbound ports that name a source
    refines: tuple[str, ...] = ()  # methods whose edge on the same route this one takes in


@dataclass(frozen=True)
class MethodTable:
    skew: float
    ignore_accounts: tuple[str, ...]
    methods: tuple[Method, ...]
    explicit: Method
    confidence: dict[str, str]  # rule scope -> how sure a match of that scope makes the edge
    ranks: tuple[str, ...]  # confidences, surest first
    explicit_sure: str

    @property
    def max_window(self) -> float:
        return max([m.window for m in self.methods] + [0.0])

    def nearby_ignored(self, account: str | None) -> bool:
        name = (account or "").lower()
        return any(fnmatch.fnmatchcase(name, p.lower()) for p in self.ignore_accounts)


def _rule(raw: dict[str, Any], where: str) -> Rule:
    unknown = set(raw) - {*CONDITIONS, "scope", "anchor", "confidence"}
    if unknown or raw.get("scope") not in SCOPES:
        raise MappingError(
            f"methods.yaml {where}: bad rule {raw!r} (unknown keys {sorted(unknown)})"
        )
    if raw.get("event") not in (None, *BUILTIN_KINDS, *extra_kinds()):
        raise MappingError(f"methods.yaml {where}: unknown event kind {raw['event']!r}")
    images: dict[str, frozenset[str]] = {
        k: frozenset(v.lower() for v in raw[k]) for k in NAME_FIELDS if k in raw
    }
    subs: dict[str, tuple[str, ...]] = {
        k: tuple(v.lower() for v in raw[k]) for k in TEXT_FIELDS if k in raw
    }
    try:
        patterns = tuple((k, re.compile(v)) for k, v in raw.get("match", {}).items())
    except re.error as exc:
        raise MappingError(f"methods.yaml {where}: bad pattern in {raw!r}: {exc}") from exc
    return Rule(
        raw["scope"],
        bool(raw.get("anchor")),
        raw.get("event"),
        images,
        subs,
        frozenset(str(t) for t in raw.get("logon_type", ())),
        raw.get("loopback"),
        patterns,
        frozenset(str(p) for p in raw.get("port", ())),
        raw.get("confidence"),
        bool(raw.get("planted")),
    )


def _method(raw: dict[str, Any]) -> Method:
    name = raw.get("name")
    if not isinstance(name, str):
        raise MappingError(f"methods.yaml: a method needs a name: {raw!r}")
    rules = tuple(_rule(r, name) for r in raw.get("rules", ()))
    window = float(raw.get("window", 0))
    return Method(
        name,
        str(raw.get("attack", "")),
        window,
        rules,
        bool(raw.get("self_edges")),
        frozenset(str(p) for p in raw.get("source_ports", ())),
        tuple(str(m) for m in raw.get("refines", ())),
    )


@lru_cache(maxsize=1)
def load_methods() -> MethodTable:
    """Parse methods.yaml (shipped with the package) into a :class:`MethodTable`."""
    data = table("methods.yaml")
    if not isinstance(data, dict) or not isinstance(data.get("methods"), list):
        raise MappingError("methods.yaml: expected a mapping with a 'methods' list")
    explicit = data.get("explicit_credentials", {})
    return MethodTable(
        skew=float(data.get("skew", 5)),
        ignore_accounts=tuple(data.get("nearby_ignore_accounts", ())),
        methods=tuple(_method(m) for m in data["methods"]),
        explicit=Method(
            explicit.get("name", "explicit credentials"),
            str(explicit.get("attack", "")),
            float(explicit.get("window", 120)),
            (),
        ),
        confidence={k: str(v) for k, v in data["confidence"].items()},
        ranks=tuple(data["confidence_ranks"]),
        explicit_sure=str(explicit.get("confidence", "direct")),
    )
