"""``--emit-detections DIR``: the hunt's logic as Splunk saved searches and Sigma rules.

The seed's follow-ups ask for "detection logic in Splunk for encoded PowerShell" and "for specific
orders of action that might indicate lateral movement". A query that tests what an event does (a
field beyond ``tables.INVENTORY_FIELDS``: an image, a command line, a service binary...) becomes a
saved search in savedsearches.conf (SPL verbatim, so a transaction's order of actions is kept) and,
when Sigma can express it, a Sigma rule. A query that only selects a population of events (every
network logon, every service install) is a hunt pivot: alerting on it would flood a SOC, so it is
not written. An encoded-PowerShell detection is always added. Saved searches are written
unscheduled (``enableSched = 0``): a hunt's query has not been tuned on the SOC's own data, so it is
reviewed and scheduled by hand. detections.md says, per query, what was written and why not.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from huntbook.hunts import spltree
from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.pivots import placeholder_names
from huntbook.hunts.render.markdown import inline
from huntbook.hunts.sigma import NAMESPACE, to_sigma
from huntbook.hunts.tables import INVENTORY_FIELDS
from huntbook.hunts.writer import write_texts
from huntbook.query.spl import ast

REVIEW_NOTE = (
    "# Written unscheduled: review and tune on your own data, then set enableSched = 1\n"
    "# (cron_schedule and the alert settings below are a starting point).\n"
)
ALERT_SETTINGS: dict[str, str] = {
    "enableSched": "0",
    "cron_schedule": "*/15 * * * *",
    "dispatch.earliest_time": "-20m@m",
    "dispatch.latest_time": "now",
    "counttype": "number of events",
    "relation": "greater than",
    "quantity": "0",
    "alert.track": "1",
    "alert.severity": "3",
    "alert.suppress": "1",
    "alert.suppress.period": "1h",
    "alert.digest_mode": "1",
}

ENCODED_POWERSHELL_SPL = (
    '((sourcetype="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1) OR '
    "(sourcetype=WinEventLog EventCode=4688)) "
    '(CommandLine="* -enc*" OR CommandLine="* -ec *" OR CommandLine="* -e *" OR '
    'Process_Command_Line="* -enc*" OR Process_Command_Line="* -ec *" OR '
    'Process_Command_Line="* -e *") '
    "| table _time, host, User, ParentImage, Image, CommandLine, Process_Command_Line"
)
ENCODED_POWERSHELL_SIGMA: dict[str, Any] = {
    "title": "Encoded PowerShell command line",
    "id": "",
    "status": "experimental",
    "description": "PowerShell started with -EncodedCommand (or an abbreviation): the launcher of "
    "Empire stagers and of the WMI lateral movement in the seed hunt.",
    "author": "huntbook",
    "tags": ["attack.t1059.001", "attack.t1132"],
    "logsource": {"category": "process_creation", "product": "windows"},
    "detection": {
        "selection_image": {"Image|endswith": ["\\powershell.exe", "\\pwsh.exe"]},
        "selection_flag": {"CommandLine|contains": [" -enc", " -ec ", " -e "]},
        "condition": "all of selection_*",
    },
    "falsepositives": ["Management software that ships encoded scripts"],
    "level": "high",
}


@dataclass
class Emitted:
    """What was written, and a note per query on what could not be."""

    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def emit_detections(
    playbook: Playbook, out: str | os.PathLike[str], date: dt.date | None = None
) -> Emitted:
    """Write ``savedsearches.conf``, ``sigma/*.yml`` and ``detections.md`` into ``out``.

    Raises:
        HuntbookError: ``out`` cannot be written.
    """
    root = Path(out)
    day = date or dt.date.today()
    emitted = Emitted()
    stanzas = []
    rules: dict[str, dict[str, Any]] = {}
    for query in playbook.queries:
        pivot = pivot_reason(query)
        if pivot:
            emitted.notes.append(f"{query.title}: saved search no, Sigma no ({pivot})")
            continue
        stanza, note = _saved_search(playbook, query)
        if stanza:
            stanzas.append(stanza)
        outcome = to_sigma(playbook, query, day)
        if outcome.rule is not None:
            rules[_slug(query.title)] = outcome.rule
        emitted.notes.append(
            f"{query.title}: saved search {'yes' if stanza else 'no (' + note + ')'}; "
            f"Sigma {'yes' if outcome.rule else 'no (' + outcome.reason + ')'}"
        )
    stanzas.append(
        _stanza(
            f"huntbook - {playbook.title} - Encoded PowerShell",
            ENCODED_POWERSHELL_SPL,
            "Follow-up of the hunt: PowerShell started with an encoded command.",
        )
    )
    rules["encoded-powershell"] = _encoded_rule(day)
    emitted.notes.append("Encoded PowerShell: saved search yes; Sigma yes (always added)")
    _write_all(root, stanzas, rules, emitted)
    return emitted


def pivot_reason(query: Query) -> str:
    """Why ``query`` is a hunt pivot and not an alerting detection, or "" when it is alert-worthy.

    A pivot's base search tests only which events it reads (``INVENTORY_FIELDS``): every hit is
    routine until a hunter looks at it. Generating commands and templates are left to
    ``_saved_search`` and ``to_sigma``, which say why they are not detections."""
    tree = spltree.pipeline(query.spl)
    expr = spltree.base_expr(tree) if tree is not None else None
    if expr is None or placeholder_names(query.spl) or _tests_behaviour(expr):
        return ""
    return "a hunt pivot: it selects every event of its kind, not a behaviour worth an alert"


def _tests_behaviour(expr: ast.SearchExpr) -> bool:
    """Whether a positive term of the search tests a field beyond the inventory fields (or the
    raw text)."""
    if isinstance(expr, ast.SAnd | ast.SOr):
        return any(_tests_behaviour(item) for item in expr.items)
    if isinstance(expr, ast.Term):
        return True
    if isinstance(expr, ast.Compare | ast.InList):
        return expr.field.lower() not in INVENTORY_FIELDS
    return False  # NOT terms exclude, time bounds narrow: neither names a behaviour


def _saved_search(playbook: Playbook, query: Query) -> tuple[str, str]:
    if query.spl.lstrip().startswith("|"):
        return "", "a generating command: an inventory, not a detection"
    if placeholder_names(query.spl):
        return "", "a template filled per hunt (placeholders)"
    ids = ", ".join(playbook.attack_ids)
    description = f"From playbook '{playbook.title}' ({ids}), query at line {query.line}."
    return _stanza(f"huntbook - {playbook.title} - {query.title}", query.spl, description), ""


def _stanza(name: str, spl: str, description: str) -> str:
    search = " ".join(line.strip() for line in spl.splitlines() if line.strip())
    lines = [
        f"[{_conf_name(name)}]",
        f"description = {description}",
        f"search = {search}",
        "# unscheduled: review and tune on your data, then set enableSched = 1",
    ]
    lines.extend(f"{k} = {v}" for k, v in ALERT_SETTINGS.items())
    return "\n".join(lines) + "\n"


def _conf_name(name: str) -> str:
    return re.sub(r"[\[\]\r\n]", " ", name).strip()


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "query"


def _encoded_rule(day: dt.date) -> dict[str, Any]:
    import uuid

    rule = dict(ENCODED_POWERSHELL_SIGMA)
    rule["id"] = str(uuid.uuid5(NAMESPACE, "encoded-powershell"))
    rule["date"] = day.strftime("%Y-%m-%d")
    return rule


def _write_all(
    root: Path, stanzas: list[str], rules: dict[str, dict[str, Any]], emitted: Emitted
) -> None:
    header = "# Written by huntbook --emit-detections\n" + REVIEW_NOTE + "\n"
    texts = {"savedsearches.conf": header + "\n".join(stanzas)}
    for slug, rule in rules.items():
        texts[f"sigma/{slug}.yml"] = yaml.safe_dump(rule, sort_keys=False, allow_unicode=True)
    texts["detections.md"] = "# Detections written\n\n" + "".join(
        f"- {inline(n)}\n" for n in emitted.notes
    )
    emitted.files.extend(write_texts(root, texts, what="detections").values())
