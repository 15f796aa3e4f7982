"""Findings computed from the events of a store: what a hunter concludes, with the evidence.

Stable API (each function takes a :class:`huntbook.store.Store`, or anything with ``connect()``
and ``fields()``; every result is a frozen dataclass with a JSON-ready ``to_dict()``, times as
ISO-8601 UTC):

- ``logon_sessions(store, skew=5.0) -> list[Session]``: network logons (4624 type 3/10) with the
  processes, service installs and task creations of their logon session (sessions.py).
- ``find_lateral_movement(store) -> list[Edge]``: source -> destination, account, method (WMI,
  PsExec/service, PsExec, service, WinRM, DCOM, RDP, RDP tunnel, scheduled task, SMB copy, pass
  the hash, explicit credentials), its ATT&CK id and confidence, first/last seen and the events
  behind each edge, in time order (lateral_movement.py and traces.py; rules in methods.yaml).
- ``decode_powershell(command_line) -> Decoded | None``: encoded PowerShell, all layers, family
  and indicators (powershell.py; traits in powershell.yaml).
- ``powershell_findings(store) -> list[PowerShellFinding]``: every encoded PowerShell in the store,
  grouped by payload, with hosts, accounts, launchers (powershell_findings.py).
- ``visibility(store, needs) -> Visibility`` and ``explains_zero(store, constraints)``: data needs
  per host, and whether a zero-hit query is a no-data zero (visibility.py; table in
  visibility.yaml).
- ``conclude(edges, powershell, visibility) -> str``: the conclusion in the seed's register;
  ``glance(findings, techniques) -> str``: the same findings as the answer to one hunt's ATT&CK
  techniques, and ``answers(edges, techniques)``: which edges are that hunt's (conclusion.py).
- ``address_book``/``AddressBook``: which host owns which IP, learnt from the data (addresses.py).
"""

from __future__ import annotations

from huntbook.analytics.addresses import AddressBook
from huntbook.analytics.conclusion import answers, conclude, glance
from huntbook.analytics.evidence import Evidence
from huntbook.analytics.lateral_movement import Edge, find_lateral_movement
from huntbook.analytics.powershell import Decoded, Layer, decode_powershell
from huntbook.analytics.powershell_findings import PowerShellFinding, powershell_findings
from huntbook.analytics.sessions import SKEW_SECONDS, Activity, Session, logon_sessions
from huntbook.analytics.visibility import NeedCoverage, Visibility, explains_zero, visibility

__all__ = [
    "SKEW_SECONDS",
    "Activity",
    "AddressBook",
    "Decoded",
    "Edge",
    "Evidence",
    "Layer",
    "NeedCoverage",
    "PowerShellFinding",
    "Session",
    "Visibility",
    "answers",
    "conclude",
    "decode_powershell",
    "explains_zero",
    "find_lateral_movement",
    "glance",
    "logon_sessions",
    "powershell_findings",
    "visibility",
]
