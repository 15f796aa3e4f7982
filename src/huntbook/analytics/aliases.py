"""The one table of field aliases: each canonical field and the names it arrives under.

EVTX/JSON exports name a process ``Image``/``NewProcessName``, the classic Splunk add-on
``New_Process_Name``; a command line is ``CommandLine`` or ``Process_Command_Line``. Every analytic
(sessions, lateral movement, PowerShell findings, visibility) and the hunts' placeholder pivots
read their candidates from ``FIELD_ALIASES``, so a new spelling is one entry here.
Candidates are as in ``_sql.Columns``: a name, or ``(name, position)`` in a multivalue field.
"""

from __future__ import annotations

from huntbook.analytics._sql import Candidate

FIELD_ALIASES: dict[str, tuple[Candidate, ...]] = {
    "Image": ("Image", "NewProcessName", "New_Process_Name"),
    "ParentImage": ("ParentImage", "ParentProcessName", "Creator_Process_Name"),
    "CommandLine": ("CommandLine", "Process_Command_Line"),
    "ParentCommandLine": ("ParentCommandLine",),
    "User": ("User", "TargetUserName", "SubjectUserName", ("Account_Name", -1)),
    "ProcessId": ("ProcessId", "NewProcessId", "New_Process_ID"),
    "ServiceName": ("ServiceName", "Service_Name"),
    "ServiceFileName": ("ServiceFileName", "ImagePath", "Service_File_Name"),
    "TaskName": ("TaskName", "Task_Name"),
    "TaskContent": ("TaskContent", "Task_Content"),
    "ScriptBlockText": ("ScriptBlockText", "Script_Block_Text"),
    "HostApplication": ("HostApplication", "Host_Application"),
    "ShareName": ("ShareName", "Share_Name"),
    "RelativeTargetName": ("RelativeTargetName", "Relative_Target_Name"),
    "AccessList": ("AccessList", "Accesses"),
    "ImageLoaded": ("ImageLoaded",),
    "Signed": ("Signed",),
    "TargetFilename": ("TargetFilename",),
    "TargetObject": ("TargetObject",),
    "ServiceDisplayName": ("param1",),  # 7036: the service that changed state
    # the RDP channels: 1149 Param1/Param3, LocalSessionManager User/Address, RdpCoreTS ClientIP
    "RdpAddress": ("Param3", "Address", "ClientIP"),
    "RdpUser": ("Param1", "User"),
}


def aliases(*names: str) -> dict[str, list[Candidate]]:
    """``{name: candidates}`` for the canonical fields named, in that order."""
    return {name: list(FIELD_ALIASES[name]) for name in names}


def plain_names(name: str) -> tuple[str, ...]:
    """The aliases of ``name`` that are whole fields (not a position in a multivalue field)."""
    return tuple(c for c in FIELD_ALIASES[name] if isinstance(c, str))
