"""Write events the way BOTS v2 stored them.

Sysmon: Splunk's ``XmlWinEventLog`` raw text, one ``<Event xmlns=...>`` element a line,
single-quoted
attributes, ``<Data Name='...'>`` in the Sysmon 6 schema's order.
Security: Splunk's classic ``WinEventLog`` text: a timestamp line, ``key=value`` header lines, then
``Message=`` with tab-separated ``Label:<tabs>value`` lines in blocks (templates in security.yaml).
"""

from __future__ import annotations

import time
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

SYSMON_PROVIDER = (
    "<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F-C22A-43E0-BF4C-06F5698FFBD9}'/>"
)
#: Event version per Sysmon 6 event id (the ``<Version>`` element).
SYSMON_VERSIONS = {1: 5, 5: 3, 7: 3, 11: 2, 13: 2}


def _escape(value: str) -> str:
    """XML text escaping as Windows renders it (quotes stay as they are in element text)."""
    if "&" in value or "<" in value or ">" in value:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


@cache
def security_templates() -> dict[int, dict[str, Any]]:
    """The classic Message layouts per EventCode (security.yaml)."""
    text = resources.files("huntbook.demo").joinpath("security.yaml").read_text(encoding="utf-8")
    templates: dict[int, dict[str, Any]] = yaml.safe_load(text)
    return templates


@lru_cache(maxsize=1024)
@cache
def system_templates() -> dict[int, dict[str, Any]]:
    """The System channel's message layouts per EventCode (system.yaml)."""
    text = resources.files("huntbook.demo").joinpath("system.yaml").read_text(encoding="utf-8")
    templates: dict[int, dict[str, Any]] = yaml.safe_load(text)
    return templates


def _stamp(second: int, fmt: str) -> str:
    """The whole-second part of a timestamp: events come in time order, so this cache hits."""
    return time.strftime(fmt, time.gmtime(second))


def system_time(t: float) -> str:
    """``2017-08-23T15:31:16.283614300Z``: 100 ns ticks, as Windows writes TimeCreated."""
    frac = int(round((t % 1) * 10_000_000)) % 10_000_000
    return _stamp(int(t), "%Y-%m-%dT%H:%M:%S") + f".{frac:07d}00Z"


def utc_time(t: float) -> str:
    """Sysmon's ``UtcTime``: ``2017-08-23 15:31:16.283``."""
    ms = int((t % 1) * 1000)
    return _stamp(int(t), "%Y-%m-%d %H:%M:%S") + f".{ms:03d}"


def classic_time(t: float) -> str:
    """The classic record's first line: ``08/23/2017 03:31:16 PM`` (UTC)."""
    return _stamp(int(t), "%m/%d/%Y %I:%M:%S %p")


def sysmon_xml(
    t: float, eid: int, data: dict[str, str], computer: str, record: int, exe: tuple[int, int]
) -> str:
    """One Sysmon event as a single line of XmlWinEventLog text."""
    items = "".join(f"<Data Name='{k}'>{_escape(v)}</Data>" for k, v in data.items())
    return (
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        f"{SYSMON_PROVIDER}<EventID>{eid}</EventID><Version>{SYSMON_VERSIONS[eid]}</Version>"
        f"<Level>4</Level><Task>{eid}</Task><Opcode>0</Opcode>"
        "<Keywords>0x8000000000000000</Keywords>"
        f"<TimeCreated SystemTime='{system_time(t)}'/><EventRecordID>{record}</EventRecordID>"
        f"<Correlation/><Execution ProcessID='{exe[0]}' ThreadID='{exe[1]}'/>"
        "<Channel>Microsoft-Windows-Sysmon/Operational</Channel>"
        f"<Computer>{computer}</Computer><Security UserID='S-1-5-18'/></System>"
        f"<EventData>{items}</EventData></Event>\n"
    )


def _message(template: dict[str, Any]) -> str:
    """The Message text of a template with ``{EventDataName}`` slots for ``str.format_map``."""

    def literal(text: str) -> str:
        return text.replace("{", "{{").replace("}", "}}")

    lines = [literal(template["text"]), ""]
    for block in template["blocks"]:
        indent = "" if block["title"] is None else "\t"
        if indent:
            lines.append(literal(block["title"]) + ":")
        for label, name, sep in block["fields"]:
            lines.append(f"{indent}{literal(label)}:{sep}{{{name}}}")
        lines.append("")
    if template["trailer"]:
        lines.append(literal(template["trailer"]))
    else:
        lines.pop()
    return "\n".join(lines)


@cache
def _classic_format(eid: int) -> str:
    """Everything of a classic record after its RecordNumber line, as a format string."""
    return "\nKeywords=Audit Success\nMessage=" + _message(security_templates()[eid]) + "\n\n"


def classic_text(t: float, eid: int, data: dict[str, str], computer: str, record: int) -> str:
    """One Security event as a classic WinEventLog record (LF lines, a blank line after it)."""
    task = security_templates()[eid]["task"]
    header = (
        f"{classic_time(t)}\nLogName=Security\nSourceName=Microsoft Windows security auditing.\n"
        f"EventCode={eid}\nEventType=0\nType=Information\nComputerName={computer}\n"
        f"TaskCategory={task}\nOpCode=Info\nRecordNumber={record}"
    )
    return header + _classic_format(eid).format_map(data)


def classic_system_text(
    t: float, eid: int, data: dict[str, str], computer: str, record: int
) -> str:
    """One System event (Service Control Manager) as a classic WinEventLog record."""
    template = system_templates()[eid]
    return (
        f"{classic_time(t)}\nLogName=System\nSourceName={template['source']}\n"
        f"EventCode={eid}\nEventType={template['event_type']}\nType=Information\n"
        f"ComputerName={computer}\nTaskCategory={template['task']}\nOpCode=Info\n"
        f"RecordNumber={record}\nKeywords={template['keywords']}\n"
        f"Message={template['text'].format_map(data)}\n\n"
    )
