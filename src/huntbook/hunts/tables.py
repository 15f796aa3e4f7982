"""Lookup tables the hunt runner and lint read: placeholder aliases and data needs.

Kept as data so a new placeholder or a new kind of data is one entry, not a new branch.
"""

from __future__ import annotations

from typing import Any

# A placeholder ``<name>`` pivots on the first of these columns that an earlier query's rows carry.
PLACEHOLDER_ALIASES: dict[str, tuple[str, ...]] = {
    "login_id": ("login_id", "Logon_ID", "LogonId", "session", "login", "TargetLogonId"),
    "host": ("host", "dest", "Computer", "ComputerName", "Hostname"),
    "user": ("user", "User", "user_id", "Account_Name", "TargetUserName"),
    "src_ip": ("src_ip", "src", "IpAddress", "Source_Network_Address", "SourceIp"),
    "process_guid": ("process_guid", "ProcessGuid", "ParentProcessGuid"),
    "process_id": ("process_id", "ProcessId", "NewProcessId"),
    "image": ("image", "Image", "New_Process_Name", "NewProcessName"),
}

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"

# "Data That is Needed" item (lower-cased) -> canonical need. Every canonical need is in DATA_NEEDS.
DATA_NEED_ALIASES: dict[str, str] = {
    "authentication logs": "authentication logs",
    "authentication log": "authentication logs",
    "logon events": "authentication logs",
    "netflow": "netflow",
    "network connections": "netflow",
    "network traffic": "netflow",
    "process monitoring": "process monitoring",
    "process creation": "process monitoring",
    "process command-line parameters": "process command lines",
    "process command lines": "process command lines",
    "process command line": "process command lines",
    "windows services": "windows services",
    "service installation": "windows services",
    "scheduled tasks": "scheduled tasks",
    "powershell logs": "powershell logs",
    "powershell script blocks": "powershell logs",
    "winrm logs": "winrm logs",
}

# Canonical need -> the sources that would show it. A source is a sourcetype (or source) and the
# event codes it must carry; ``field`` means events must also carry that field to count.
DATA_NEEDS: dict[str, list[dict[str, Any]]] = {
    "authentication logs": [
        {
            "label": "Security 4624/4625/4648/4672/4768/4769/4776",
            "sourcetype": "WinEventLog",
            "codes": ["4624", "4625", "4648", "4672", "4768", "4769", "4776"],
        },
    ],
    "netflow": [
        {"label": "Sysmon Event ID 3", "sourcetype": SYSMON, "codes": ["3"]},
        {"label": "Security 5156", "sourcetype": "WinEventLog", "codes": ["5156"]},
        {"label": "Zeek conn", "sourcetype": "bro:conn:json", "codes": []},
    ],
    "process monitoring": [
        {"label": "Sysmon Event ID 1", "sourcetype": SYSMON, "codes": ["1"]},
        {"label": "Security 4688", "sourcetype": "WinEventLog", "codes": ["4688"]},
    ],
    "process command lines": [
        {
            "label": "CommandLine in Sysmon 1",
            "sourcetype": SYSMON,
            "codes": ["1"],
            "field": "CommandLine",
        },
        {
            "label": "CommandLine in 4688",
            "sourcetype": "WinEventLog",
            "codes": ["4688"],
            "field": "Process_Command_Line",
        },
    ],
    "windows services": [
        {"label": "System 7045", "sourcetype": "WinEventLog", "codes": ["7045"]},
        {"label": "Security 4697", "sourcetype": "WinEventLog", "codes": ["4697"]},
    ],
    "scheduled tasks": [
        {"label": "Security 4698/4702", "sourcetype": "WinEventLog", "codes": ["4698", "4702"]},
        {"label": "TaskScheduler 106/200", "sourcetype": "WinEventLog", "codes": ["106", "200"]},
    ],
    "powershell logs": [
        {"label": "PowerShell 4103/4104", "sourcetype": "WinEventLog", "codes": ["4103", "4104"]},
        {
            "label": "Windows PowerShell 400/403/800",
            "sourcetype": "WinEventLog",
            "codes": ["400", "403", "800"],
        },
    ],
    "winrm logs": [
        {"label": "WinRM 6/91/169", "sourcetype": "WinEventLog", "codes": ["6", "91", "169"]},
    ],
}

# How a (sourcetype, EventCode) pair is named in a "no data" note, e.g. "No Sysmon Event ID 3 logs".
SOURCE_LABELS: dict[str, str] = {
    SYSMON.lower(): "Sysmon Event ID {code}",
    "xmlwineventlog": "Sysmon Event ID {code}",
    "wineventlog": "Windows Event ID {code}",
}


def canonical_need(name: str) -> str | None:
    """The canonical data need for a "Data That is Needed" item, or None when unknown."""
    return DATA_NEED_ALIASES.get(" ".join(name.lower().split()))


def source_label(sourcetype: str, code: str) -> str:
    """A readable name for the events a query needs ("Sysmon Event ID 3")."""
    template = SOURCE_LABELS.get(sourcetype.lower(), sourcetype + " EventCode {code}")
    return template.format(code=code) if code else sourcetype
