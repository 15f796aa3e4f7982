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


@lru_cache(maxsize=4096)
def _gm(second: int) -> time.struct_time:
    return time.gmtime(second)


def system_time(t: float) -> str:
    """``2017-08-23T15:31:16.283614300Z``: 100 ns ticks, as Windows writes TimeCreated."""
    frac = int(round((t % 1) * 10_000_000)) % 10_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", _gm(int(t))) + f".{frac:07d}00Z"


def utc_time(t: float) -> str:
    """Sysmon's ``UtcTime``: ``2017-08-23 15:31:16.283``."""
    ms = int((t % 1) * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", _gm(int(t))) + f".{ms:03d}"


def classic_time(t: float) -> str:
    """The classic record's first line: ``08/23/2017 03:31:16 PM`` (UTC)."""
    return time.strftime("%m/%d/%Y %I:%M:%S %p", _gm(int(t)))


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


def _message(template: dict[str, Any], data: dict[str, str]) -> list[str]:
    lines = [template["text"], ""]
    for block in template["blocks"]:
        indent = "\t"
        if block["title"] is None:
            indent = ""
        else:
            lines.append(block["title"] + ":")
        for label, name, sep in block["fields"]:
            lines.append(f"{indent}{label}:{sep}{data[name]}")
        lines.append("")
    if template["trailer"]:
        lines.append(template["trailer"])
    else:
        lines.pop()
    return lines


def classic_text(t: float, eid: int, data: dict[str, str], computer: str, record: int) -> str:
    """One Security event as a classic WinEventLog record (LF lines, a blank line after it)."""
    template = security_templates()[eid]
    header = [
        classic_time(t),
        "LogName=Security",
        "SourceName=Microsoft Windows security auditing.",
        f"EventCode={eid}",
        "EventType=0",
        "Type=Information",
        f"ComputerName={computer}",
        f"TaskCategory={template['task']}",
        "OpCode=Info",
        f"RecordNumber={record}",
        "Keywords=Audit Success",
    ]
    body = _message(template, data)
    body[0] = "Message=" + body[0]
    return "\n".join(header + body) + "\n\n"
