"""Findings of a hunt, computed from the data by ``huntbook.analytics`` and shaped for the report.

The analytics package (lateral-movement graph, PowerShell decoding, visibility, conclusion) is
called here and only here, from the ``ANALYTICS`` table; its objects become plain JSON values so
report.json stays the one source of truth. An analytic that meets a data condition it reports
(a ``HuntbookError``: a broken method table, data it cannot read) becomes a line of
``findings.errors`` and the hunt still stands; any other exception is a bug and propagates, so a
renamed function or a broken analytic fails the run instead of reading as "0 edges".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huntbook import analytics
from huntbook.analytics.scan import scan
from huntbook.errors import HuntbookError, StoreError
from huntbook.hunts.model import Playbook
from huntbook.hunts.scope import provenance
from huntbook.store.core import SUMMARIES, Store

Analytics = Callable[[Any, Playbook], dict[str, Any]]
Needs = tuple[str, ...]

# findings key -> the analytic that fills it (store, the playbook's data needs) and its empty value
ANALYTICS: dict[str, tuple[Callable[[Any, Needs], Any], Any]] = {
    "lateral_movement": (lambda store, needs: analytics.find_lateral_movement(store), []),
    "powershell": (lambda store, needs: analytics.powershell_findings(store), []),
    "visibility": (analytics.visibility, {}),
}


def compute_findings(store: Any, playbook: Playbook) -> dict[str, Any]:
    """``lateral_movement``, ``powershell``, ``visibility``, ``conclusion`` and ``errors``."""
    return findings_for(store, tuple(d.name for d in playbook.data_needed))


def findings_for(store: Any, needs: Needs = ()) -> dict[str, Any]:
    """Every analytic of ``ANALYTICS`` on ``store`` (``needs``: the data needs visibility
    checks; none without a playbook), each evidence event named by its file and record."""
    errors: list[str] = []
    findings: dict[str, Any] = {}
    scanned = scan(store, summaries(store))  # one pass finds the events every analytic can use
    for key, (analytic, empty) in ANALYTICS.items():
        try:
            findings[key] = to_jsonable(analytic(scanned, needs))
        except HuntbookError as exc:  # a data condition the analytic reports, not a bug
            errors.append(f"{key}: {exc}")
            findings[key] = empty
    findings["conclusion"] = analytics.conclude(findings)
    findings["errors"] = errors
    _name_sources(Opened(store, scanned.connect()), findings)
    return findings


@dataclass
class Opened:
    """``store`` whose ``connect()`` gives the connection the scan opened on it (which it then
    closes): naming the evidence reads the store's ``events`` without opening them again (a
    connection over every batch's files, about 0.1 CPU-s at 10M events)."""

    store: Any
    con: Any

    def connect(self) -> Any:
        return self.con

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def keep_summaries(store: Any) -> Path:
    """Opt ``store`` in to the analytics' summaries: make its ``summaries`` folder (the next hunt
    or findings run writes each batch's summary there; later runs read them). The folder.

    Raises:
        StoreMissingError: there is no store at its path.
        StoreError: ``store`` is not a local store (object storage is only read).
    """
    if _folder(store) is None:
        raise StoreError(
            f"summaries are kept only in a local store; {store.path} is only read by huntbook"
        )
    return Path(store.keep_summaries())


def summaries(store: Any) -> Path | None:
    """``<store>/summaries`` when ``store`` is a local store that has that folder (the opt-in:
    ``keep_summaries``; analytics/summary.py), else None (an index's view of a store, object
    storage, another engine's, or a store that did not opt in: scanned in memory, nothing
    written)."""
    folder = _folder(store)
    return folder if folder is not None and folder.is_dir() else None


def _folder(store: Any) -> Path | None:
    """Where a local store keeps its summaries; None for anything else."""
    return Path(store.path) / SUMMARIES if type(store) is Store else None


def _events_in(value: Any) -> list[dict[str, Any]]:
    """Every evidence event (a dict with ``_cd`` and ``EventCode``) inside a JSON value."""
    if isinstance(value, list):
        return [e for v in value for e in _events_in(v)]
    if not isinstance(value, dict):
        return []
    own = [value] if "_cd" in value and "EventCode" in value else []
    return own + [e for v in value.values() for e in _events_in(v)]


def _name_sources(store: Any, findings: dict[str, Any]) -> None:
    """Add ``file`` and ``record`` to each evidence event the store can name them for."""
    events = [e for e in _events_in(findings) if isinstance(e["_cd"], int)]
    where = provenance(store, (e["_cd"] for e in events))
    for event in events:
        event.update(where.get(event["_cd"], {}))


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
