"""Lookup tables the hunt runner and lint read: placeholder aliases, data-need names, labels.

Kept as data so a new placeholder or a new kind of data is one entry, not a new branch.
"""

from __future__ import annotations

from huntbook.analytics.aliases import plain_names

# A placeholder ``<name>`` pivots on the first of these columns that an earlier query's rows carry.
PLACEHOLDER_ALIASES: dict[str, tuple[str, ...]] = {
    "login_id": ("login_id", "Logon_ID", "LogonId", "session", "login", "TargetLogonId"),
    "host": ("host", "dest", "Computer", "ComputerName", "Hostname"),
    "user": ("user", "User", "user_id", "Account_Name", "TargetUserName"),
    "src_ip": ("src_ip", "src", "IpAddress", "Source_Network_Address", "SourceIp"),
    "process_guid": ("process_guid", "ProcessGuid", "ParentProcessGuid"),
    "process_id": ("process_id", "ProcessId", "NewProcessId"),
    "image": ("image", *plain_names("Image")),
}

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"

# "Data That is Needed" item (lower-cased) -> canonical need, as analytics/visibility.yaml names
# them (which says which sources show each need; tests/hunts/test_tables.py keeps the two in step).
DATA_NEED_ALIASES: dict[str, str] = {
    "authentication logs": "authentication logs",
    "authentication": "authentication logs",
    "logon events": "authentication logs",
    "windows security logs": "authentication logs",
    "netflow": "netflow",
    "network connections": "netflow",
    "network traffic": "netflow",
    "network flow": "netflow",
    "process monitoring": "process monitoring",
    "process creation": "process monitoring",
    "process execution": "process monitoring",
    "process command-line parameters": "process command-line parameters",
    "process command line": "process command-line parameters",
    "command-line parameters": "process command-line parameters",
    "command line": "process command-line parameters",
    "windows services": "windows services",
    "service installation": "windows services",
    "services": "windows services",
    "scheduled tasks": "scheduled tasks",
    "scheduled task": "scheduled tasks",
    "task scheduler": "scheduled tasks",
    "powershell logs": "powershell logs",
    "powershell script blocks": "powershell logs",
    "powershell logging": "powershell logs",
    "winrm logs": "winrm logs",
    "windows remote management logs": "winrm logs",
}

# Fields that only say which events a search reads (where they were logged, which event id, which
# logon type or port), lower-cased. A query whose base search tests none but these selects a
# population (every network logon, every service install, every connection to 5985): a hunt pivot,
# not an alerting detection (--emit-detections; docs/playbooks.md "Detections").
INVENTORY_FIELDS: frozenset[str] = frozenset(
    {
        "index",
        "sourcetype",
        "source",
        "host",
        "dest",
        "computer",
        "computername",
        "eventcode",
        "eventid",
        "channel",
        "logon_type",
        "logontype",
        "destinationport",
        "destport",
        "dest_port",
        "destination_port",
        "sourceport",
        "protocol",
        "initiated",
        "direction",
    }
)

# How a sourcetype is named in a "no data" note, e.g. "No Sysmon Event ID 3 logs" ("No Sysmon logs"
# when the query names no EventCode); other sourcetypes are named as they are written.
SOURCE_LABELS: dict[str, str] = {
    SYSMON.lower(): "Sysmon",
    "xmlwineventlog": "Sysmon",
    "wineventlog": "Windows",
}


def canonical_need(name: str) -> str | None:
    """The canonical data need for a "Data That is Needed" item, or None when unknown."""
    return DATA_NEED_ALIASES.get(" ".join(name.lower().split()))


def source_label(sourcetype: str, code: str) -> str:
    """A readable name for the events a query needs ("Sysmon Event ID 3", "Sysmon")."""
    name = SOURCE_LABELS.get(sourcetype.lower())
    if name is None:
        return f"{sourcetype} EventCode {code}" if code else sourcetype
    return f"{name} Event ID {code}" if code else name
