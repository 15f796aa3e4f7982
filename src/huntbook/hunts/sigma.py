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

from huntbook.hunts import spltree
from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.pivots import placeholder_names
from huntbook.query.spl import ast

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
    tree = spltree.pipeline(query.spl)
    if tree is None:
        return SigmaOutcome(None, "the query does not parse")
    expr = spltree.base_expr(tree)
    if expr is None:
        return SigmaOutcome(None, "a generating command (e.g. | metadata) reads no events")
    for name in spltree.command_names(tree):
        if name not in SHAPING_COMMANDS:
            return SigmaOutcome(
                None, f"'| {name}' has no Sigma equivalent (Sigma matches single events)"
            )
    detection, reason = _detection(expr)
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


def _detection(expr: ast.SearchExpr) -> tuple[_Detection | None, str]:
    """An AND of field matches (one field's OR or IN as a value list) and NOTs of them."""
    found = _Detection()
    for part in spltree.conjuncts(expr):
        if isinstance(part, ast.TimeBound):
            continue  # a detection's window is the schedule's, not the rule's
        negated = isinstance(part, ast.SNot)
        match = spltree.equals(part.item if isinstance(part, ast.SNot) else part)
        if match is None:
            return None, f"{_describe(part)} is not a plain field match"
        if not negated:
            _add(found.selection, found.context, *match)
            continue
        excluded: dict[str, Any] = {}
        _add(excluded, {}, *match)
        if not excluded:
            return None, f"NOT {match[0]}= selects the log source, which Sigma cannot negate"
        found.filters.append(excluded)
    if not found.selection:
        return None, "no field conditions to match"
    return found, ""


def _describe(part: ast.SearchExpr) -> str:
    """What stopped a translation, in SPL terms."""
    names = {ast.Term: "free text", ast.SOr: "an OR across fields", ast.SNot: "a NOT of a group"}
    if isinstance(part, ast.Compare):
        return f"'{part.field}{part.op}{part.value.text}' (a comparison other than =)"
    return names.get(type(part), type(part).__name__)


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
