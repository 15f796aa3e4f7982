"""The seed's five searches re-done in plain Python over generated files, without huntbook's engine.

Parsing follows Splunk's own extraction rules (spl.md section 5): classic records get the header
``key=value`` pairs and ``wel-col-kv`` (``\\n([^:\\n\\r]+):[ \\t]+([^\\n]*)``) with CLEAN_KEYS and
MV_ADD; Sysmon events get one field per ``<Data Name>``. The transaction follows section 3.2:
newest first, grouped by session, closed by the start event or at maxevents (1000), unclosed
groups dropped.
"""

from __future__ import annotations

import calendar
import html
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from huntbook.demo.generator import SECURITY_FILE, SYSMON_FILE, SYSTEM_FILE

Event = dict[str, Any]
SYSMON_ST = "xmlwineventlog:microsoft-windows-sysmon/operational"
MAXEVENTS = 1000  # transaction's default maxevents
_DATA = re.compile(r"<Data Name='([^']*)'>([^<]*)</Data>")
_EID = re.compile(r"<EventID>(\d+)</EventID>")
_TIME = re.compile(r"SystemTime='([^'.]+)(\.\d+)?Z'")
_COMPUTER = re.compile(r"<Computer>([^<]*)</Computer>")
_COL_KV = re.compile(r"\n([^:\n\r]+):[ \t]+([^\n]*)")
_STAMP = re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [AP]M$", re.M)


def clean_key(label: str) -> str:
    """Splunk's CLEAN_KEYS: non-alphanumerics to ``_``, then leading ``_`` and digits stripped."""
    return re.sub(r"[^A-Za-z0-9]", "_", label).lstrip("_0123456789")


def sysmon_events(path: Path) -> Iterator[Event]:
    for line in path.read_text(encoding="utf-8").splitlines():
        stamp = _TIME.search(line)
        assert stamp, line[:200]
        t = calendar.timegm(time.strptime(stamp.group(1), "%Y-%m-%dT%H:%M:%S"))
        event: Event = {
            "_time": t + float(stamp.group(2) or 0),
            "sourcetype": SYSMON_ST,
            "EventCode": _EID.search(line).group(1),  # type: ignore[union-attr]
            "host": _COMPUTER.search(line).group(1).split(".")[0],  # type: ignore[union-attr]
        }
        for name, value in _DATA.findall(line):
            event[name] = html.unescape(value)
        yield event


def classic_records(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in _STAMP.finditer(text)]
    ends = starts[1:] + [len(text)]
    return [text[a:b].rstrip("\n") for a, b in zip(starts, ends[: len(starts)], strict=True)]


def classic_event(record: str) -> Event:
    head, _, message = record.partition("\nMessage=")
    lines = head.split("\n")
    event: Event = {"sourcetype": "wineventlog"}
    event["_time"] = float(calendar.timegm(time.strptime(lines[0], "%m/%d/%Y %I:%M:%S %p")))
    for line in lines[1:]:
        key, _, value = line.partition("=")
        event[key] = value
    event["host"] = event["ComputerName"].split(".")[0]
    multi: dict[str, list[str]] = defaultdict(list)
    for label, value in _COL_KV.findall("\n" + message):
        if value.strip():
            multi[clean_key(label)].append(value.rstrip())
    for key, values in multi.items():
        event[key] = values if len(values) > 1 else values[0]
    return event


def load(out_dir: Path) -> list[Event]:
    """Every event of a generated folder, ``_cd`` in file order (as an ingest numbers them)."""
    events: list[Event] = []
    for folder in sorted(p for p in out_dir.iterdir() if p.is_dir()):
        events.extend(sysmon_events(folder / SYSMON_FILE))
        for name in (SECURITY_FILE, SYSTEM_FILE):
            events.extend(classic_event(r) for r in classic_records(folder / name))
    for cd, event in enumerate(events):
        event["_cd"] = cd
    return events


def _values(event: Event, field: str) -> list[str]:
    value = event.get(field)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _eq(event: Event, field: str, expected: str) -> bool:
    return any(v.lower() == expected.lower() for v in _values(event, field))


def q2_wmi_process(events: list[Event]) -> list[Event]:
    want = {
        "EventCode": "1",
        "ParentImage": "C:\\Windows\\System32\\svchost.exe",
        "CurrentDirectory": "C:\\Windows\\system32\\",
        "CommandLine": "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
        "ParentCommandLine": "C:\\Windows\\system32\\svchost.exe -k DcomLaunch",
        "User": "NT AUTHORITY\\NETWORK SERVICE",
        "Image": "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
    }
    return [
        e
        for e in events
        if e["sourcetype"] == SYSMON_ST and all(_eq(e, k, v) for k, v in want.items())
    ]


def q2b_wmi_network(events: list[Event]) -> list[Event]:
    return [
        e
        for e in events
        if e["sourcetype"] == SYSMON_ST
        and _eq(e, "EventCode", "3")
        and _eq(e, "Image", "C:\\Windows\\System32\\svchost.exe")
        and _eq(e, "User", "NT AUTHORITY\\NETWORK SERVICE")
    ]


def _session(event: Event) -> str | None:
    if event["sourcetype"] == "wineventlog":
        ids = _values(event, "Logon_ID")
        return ids[1].lower() if len(ids) > 1 else None
    return event["LogonId"].lower() if "LogonId" in event else None


def q3_transactions(events: list[Event]) -> list[dict[str, Any]]:
    """Network 4624 then Sysmon process creations in the same session: closed, eventcount>1."""
    base = [
        e
        for e in events
        if (
            e["sourcetype"] == "wineventlog"
            and e.get("EventCode") == "4624"
            and e.get("Logon_Type") == "3"
        )
        or (e["sourcetype"] == SYSMON_ST and e["EventCode"] == "1")
    ]
    base.sort(key=lambda e: (e["_time"], e["_cd"]), reverse=True)
    open_txns: dict[str, list[Event]] = {}
    closed: list[list[Event]] = []
    for event in base:
        session = _session(event)
        if session is None:
            continue
        members = open_txns.setdefault(session, [])
        members.append(event)
        # startswith closes a transaction; so does maxevents (1000 by default), spl.md 3.2.
        if event.get("EventCode") == "4624" or len(members) == MAXEVENTS:
            closed.append(open_txns.pop(session))
    rows = []
    for members in closed:
        if len(members) > 1:
            start = members[-1]
            rows.append(
                {
                    "session": _session(start),
                    "host": start["host"],
                    "eventcount": len(members),
                    "members": members,
                }
            )
    return rows


def q4_by_logon_id(events: list[Event], session: str, host: str) -> list[Event]:
    return [
        e
        for e in events
        if e["host"].lower() == host.lower()
        and (_eq(e, "Logon_ID", session) or _eq(e, "LogonId", session))
    ]


def q5_wmi_children(events: list[Event]) -> list[Event]:
    parent = "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"
    return [
        e for e in events if e["sourcetype"] == SYSMON_ST and _eq(e, "ParentCommandLine", parent)
    ]
