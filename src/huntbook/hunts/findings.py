"""Findings of a hunt, computed from the data by ``huntbook.analytics`` and shaped for the report.

The analytics package (lateral-movement graph, PowerShell decoding, visibility, conclusion) is
called here and only here; its objects become plain JSON values so report.json stays the one source
of truth. A failing analytic is recorded under ``findings.errors`` instead of sinking the hunt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from huntbook import analytics
from huntbook.hunts.model import Playbook

Analytics = Callable[[Any, Playbook], dict[str, Any]]


def compute_findings(store: Any, playbook: Playbook) -> dict[str, Any]:
    """``lateral_movement``, ``powershell``, ``visibility``, ``conclusion`` and ``errors``."""
    errors: list[str] = []
    needs = tuple(d.name for d in playbook.data_needed)  # hashable: visibility() is cached
    findings: dict[str, Any] = {
        "lateral_movement": _call("find_lateral_movement", errors, store) or [],
        "powershell": _call("powershell_findings", errors, store) or [],
        "visibility": _call("visibility", errors, store, needs) or {},
    }
    findings["lateral_movement"] = [_edge(e) for e in findings["lateral_movement"]]
    conclusion = _call("conclude", errors, findings)
    findings["conclusion"] = conclusion if isinstance(conclusion, str) else ""
    findings["errors"] = errors
    return findings


def _call(name: str, errors: list[str], *args: Any) -> Any:
    try:
        return to_jsonable(getattr(analytics, name)(*args))
    except Exception as exc:  # noqa: BLE001 - a failing analytic is reported, the hunt still stands
        errors.append(f"{name}: {type(exc).__name__}: {exc}")
        return None


def _edge(edge: Any) -> dict[str, Any]:
    data = dict(edge) if isinstance(edge, dict) else {"value": edge}
    for key in ("source", "destination", "account", "method", "first_seen", "last_seen"):
        data.setdefault(key, None)
    data.setdefault("evidence", [])
    return data


def to_jsonable(value: Any) -> Any:
    """Dataclasses, tuples, sets and datetimes as JSON values (recursively)."""
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return to_jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
