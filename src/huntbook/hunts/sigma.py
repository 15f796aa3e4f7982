"""Translate a playbook query to a Sigma rule, when Sigma can say the same thing.

Sigma expresses one event matching field conditions. So a query translates when its base search is
an AND of ``field=value`` terms (a parenthesised ``OR`` of one field becomes a value list) and its
pipes only shape output (``table``, ``fields``, ``dedup``, ``sort``, ``head``, ``reverse``).
Correlations (``transaction``), aggregations (``stats``), computed fields (``eval``, ``rex``) and
templates (``<login_id>``) do not, and ``to_sigma`` says which construct stopped it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.pivots import placeholder_names
from huntbook.hunts.spltext import Term, base_search, split_pipes, terms

SHAPING_COMMANDS = {"table", "fields", "dedup", "sort", "head", "reverse", "rename"}
NAMESPACE = uuid.UUID("6f1d7c55-6b3e-4d0c-9a53-2f7c0b7c4e11")

# sourcetype (lower-case) -> Sigma logsource; WinEventLog's service depends on the event code.
LOGSOURCES: dict[str, dict[str, str]] = {
    "xmlwineventlog:microsoft-windows-sysmon/operational": {
        "product": "windows",
        "service": "sysmon",
    },
    "xmlwineventlog": {"product": "windows", "service": "sysmon"},
}
WINEVENTLOG_SERVICES: dict[str, str] = {
    "7045": "system",
    "4103": "powershell",
    "4104": "powershell",
    "400": "powershell-classic",
    "800": "powershell-classic",
    "91": "windows-remote-management",
    "106": "taskscheduler",
}
FIELD_NAMES = {"EventCode": "EventID"}
SKIPPED_FIELDS = {"index", "sourcetype", "source"}


@dataclass(frozen=True)
class SigmaOutcome:
    """A rule (as a dict ready for YAML) or the reason there is none."""

    rule: dict[str, Any] | None
    reason: str = ""


def to_sigma(playbook: Playbook, query: Query, date: dt.date | None = None) -> SigmaOutcome:
    """The Sigma rule for ``query``, or why Sigma cannot express it."""
    if placeholder_names(query.spl):
        return SigmaOutcome(None, "a template (placeholders) is a pivot, not a detection")
    segments = split_pipes(query.spl)
    if not segments or query.spl.lstrip().startswith("|"):
        return SigmaOutcome(None, "a generating command (e.g. | metadata) reads no events")
    for segment in segments[1:]:
        name = segment.split(None, 1)[0].lower()
        if name not in SHAPING_COMMANDS:
            return SigmaOutcome(
                None, f"'| {name}' has no Sigma equivalent (Sigma matches single events)"
            )
    detection, reason = _detection(terms(base_search(query.spl)))
    if detection is None:
        return SigmaOutcome(None, reason)
    return SigmaOutcome(_rule(playbook, query, detection, date or dt.date.today()))


@dataclass
class _Detection:
    """The parts of a Sigma ``detection``: one selection, ``NOT`` terms as filters."""

    selection: dict[str, Any] = field(default_factory=dict)
    filters: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        named = {f"filter_{i + 1}": f for i, f in enumerate(self.filters)}
        condition = "selection" + (" and not 1 of filter_*" if named else "")
        return {"selection": self.selection, **named, "condition": condition}


def _detection(items: list[Term]) -> tuple[_Detection | None, str]:
    """An AND of field matches, ``(a=1 OR a=2)`` groups and ``NOT`` of either; else why not."""
    found = _Detection()
    negate = False
    i = 0
    while i < len(items):
        term = items[i]
        if term.kind == "op" and term.text in ("AND", "NOT"):
            negate = negate or term.text == "NOT"
            i += 1
            continue
        if term.kind == "paren" and term.text == "(":
            close = _closing(items, i)
            group = _or_group(items[i + 1 : close])
            if group is None:
                return None, "a parenthesised group other than an OR of one field"
            i = close + 1
        elif term.kind == "match" and not term.negated:
            group, i = (term.field, [term.value]), i + 1
        else:
            return None, f"'{term.text}' (free text, a bare OR or !=) is not a plain field match"
        target = {} if negate else found.selection
        _add(target, found.context, *group)
        if negate and target:
            found.filters.append(target)
        negate = False
    if not found.selection:
        return None, "no field conditions to match"
    return found, ""


def _closing(items: list[Term], start: int) -> int:
    depth = 0
    for j in range(start, len(items)):
        depth += {"(": 1, ")": -1}.get(items[j].text, 0) if items[j].kind == "paren" else 0
        if depth == 0:
            return j
    return len(items) - 1


def _or_group(items: list[Term]) -> tuple[str, list[str]] | None:
    matches = [t for t in items if t.kind == "match" and not t.negated]
    others = [t for t in items if t.kind != "match" and not (t.kind == "op" and t.text == "OR")]
    if not matches or others or len({t.field for t in matches}) != 1:
        return None
    if len(matches) > 1 and not any(t.kind == "op" and t.text == "OR" for t in items):
        return None
    return matches[0].field, [t.value for t in matches]


def _add(fields: dict[str, Any], context: dict[str, str], field: str, values: list[str]) -> None:
    if field.lower() in SKIPPED_FIELDS:
        context[field.lower()] = values[0]
        return
    if field == "EventCode":
        context["code"] = values[0]
    key, converted = _modifier(FIELD_NAMES.get(field, field), values)
    fields[key] = converted[0] if len(converted) == 1 else converted


def _modifier(field: str, values: list[str]) -> tuple[str, list[Any]]:
    """``*x*`` -> ``|contains``, ``*x`` -> ``|endswith``, ``x*`` -> ``|startswith`` (alike)."""
    shapes = {(v.startswith("*"), v.endswith("*")) for v in values}
    if len(shapes) == 1 and all(len(v) > 1 for v in values):
        lead, trail = shapes.pop()
        if lead or trail:
            suffix = {
                (True, True): "contains",
                (True, False): "endswith",
                (False, True): "startswith",
            }
            stripped = [v.strip("*") for v in values]
            if not any("*" in v for v in stripped):
                return f"{field}|{suffix[(lead, trail)]}", stripped
    return field, [int(v) if field == "EventID" and v.isdigit() else v for v in values]


def _logsource(context: dict[str, str]) -> dict[str, str]:
    sourcetype = context.get("sourcetype", "").lower()
    if sourcetype in LOGSOURCES:
        return dict(LOGSOURCES[sourcetype])
    return {
        "product": "windows",
        "service": WINEVENTLOG_SERVICES.get(context.get("code", ""), "security"),
    }


def _rule(playbook: Playbook, query: Query, detection: _Detection, date: dt.date) -> dict[str, Any]:
    key = f"{playbook.name or playbook.title}/{query.title}"
    return {
        "title": query.title,
        "id": str(uuid.uuid5(NAMESPACE, key)),
        "status": "experimental",
        "description": f"From the huntbook playbook '{playbook.title}', query '{query.title}' "
        f"(line {query.line}).",
        "references": list(playbook.references),
        "author": "huntbook",
        "date": date.strftime("%Y-%m-%d"),
        "tags": [f"attack.{i.lower()}" for i in playbook.attack_ids],
        "logsource": _logsource(detection.context),
        "detection": detection.to_dict(),
        "falsepositives": ["Legitimate administration from management hosts"],
        "level": "medium",
    }
