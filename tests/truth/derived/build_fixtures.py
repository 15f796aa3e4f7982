"""Build the derived lateral-movement fixtures of this folder from real recordings (README.md).

Usage: ``python tests/truth/derived/build_fixtures.py ../shared/data`` rewrites every ``*.json``
here (tests/analytics/test_findings_derived.py checks that a rebuild gives the same bytes). Each
fixture is NXLog JSON lines, the format of the OTRF Security-Datasets recordings it is built from
(theshire.local lab: WORKSTATION5 172.18.39.5 -> WORKSTATION6 as pgustavo). An event
is either real, copied unchanged (``real``), or derived from a real event of the same lab
(``derived``): a copy whose fields named in the recipe are changed, whose ``Message`` (a rendering
of the original fields) is dropped, which gets a new ``RecordNumber`` (``900000000`` + n, so no
derived event passes for a real record) and ``DerivedFrom`` naming its template
(``zip#RecordNumber``), and whose time fields are moved to ``at`` seconds after an anchor event
(a change to None removes the field: a template's fields that the derived event type lacks).
"""

from __future__ import annotations

import copy
import json
import sys
import zipfile
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PSX = "security-datasets/empire_psexec_dcerpc_tcp_svcctl.zip"
SMBX = "security-datasets/empire_smbexec_dcerpc_smb_svcctl.zip"
HIJ = "lateral-movement/empire_shell_dcerpc_smb_service_dll_hijack.zip"
WMIX = "security-datasets/empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip"
DCOMX = "security-datasets/empire_dcom_shellwindows_stager.zip"
WMICX = "security-datasets/empire_wmic_add_user_backdoor.zip"
TIME_FIELDS = {
    "EventTime": "%Y-%m-%d %H:%M:%S",
    "EventReceivedTime": "%Y-%m-%d %H:%M:%S",
    "UtcTime": "%Y-%m-%d %H:%M:%S.%f",
    "CreationUtcTime": "%Y-%m-%d %H:%M:%S.%f",
    "@timestamp": "%Y-%m-%dT%H:%M:%S.%fZ",
}
PAYLOAD = "C:\\Windows\\System32\\WindowsPowershell\\v1.0\\powershell -noP -sta -w 1 -enc  SQBGACgA"
W6 = "WORKSTATION6.theshire.local"


@cache
def _records(data: Path, name: str) -> dict[int, dict[str, Any]]:
    with zipfile.ZipFile(data / name) as archive:
        member = archive.namelist()[0]
        lines = archive.read(member).decode("utf-8").splitlines()
    found = (json.loads(line) for line in lines if line.strip())
    return {int(r["RecordNumber"]): r for r in found if "RecordNumber" in r}


class Recipe:
    """One fixture: real and derived events in order."""

    def __init__(self, data: Path, out: Path) -> None:
        self.data = data
        self.out = out
        self.events: list[dict[str, Any]] = []

    def real(self, name: str, record: int) -> dict[str, Any]:
        event = copy.deepcopy(_records(self.data, name)[record])
        self.events.append(event)
        return event

    def derived(
        self, name: str, record: int, anchor: dict[str, Any], at: float, **changes: Any
    ) -> dict[str, Any]:
        event = copy.deepcopy(_records(self.data, name)[record])
        event.pop("Message", None)
        _move(event, anchor, at)
        event.update({k: v for k, v in changes.items() if v is not None})
        for name in [k for k, v in changes.items() if v is None]:
            event.pop(name, None)
        event["RecordNumber"] = 900000000 + len(self.events)
        event["DerivedFrom"] = f"{name.rsplit('/', 1)[-1]}#{record}"
        self.events.append(event)
        return event

    def write(self, file_name: str) -> None:
        lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in self.events]
        (self.out / file_name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _move(event: dict[str, Any], anchor: dict[str, Any], at: float) -> None:
    """Every time field of ``event`` that the anchor has too: the anchor's plus ``at`` seconds."""
    for name, form in TIME_FIELDS.items():
        if name in event and name in anchor:
            moved = datetime.strptime(anchor[name], form) + timedelta(seconds=at)
            text = moved.strftime(form)
            event[name] = text[:-3] + text[-1:] if name == "@timestamp" else text
            if form.endswith("%f") and name != "@timestamp":
                event[name] = text[:-3]


def _share(r: Recipe, logon: dict[str, Any], at: float, share: str, target: str) -> None:
    """A 5145 in ``logon``'s session, laid out as the real svcctl 5145 of Invoke-SMBExec."""
    r.derived(
        SMBX,
        644946,
        logon,
        at,
        ShareName=f"\\\\*\\{share}",
        RelativeTargetName=target,
        SubjectLogonId=logon["TargetLogonId"],
        IpAddress=logon["IpAddress"],
        IpPort=logon.get("IpPort", "50504"),
    )


def psexec_renamed(data: Path, out: Path) -> None:
    r = Recipe(data, out)
    logon = r.real(PSX, 717708)
    _share(r, logon, 0, "ADMIN$", "svcupd.exe")
    _share(r, logon, 0, "IPC$", "svcctl")
    binary = "%SystemRoot%\\svcupd.exe"
    r.derived(PSX, 717712, logon, 0, ServiceName="svcupd", ServiceFileName=binary)
    r.derived(PSX, 1075, logon, 0, ServiceName="svcupd", ImagePath=binary)
    r.derived(
        PSX,
        2974514,
        logon,
        1,
        Image="C:\\Windows\\svcupd.exe",
        CommandLine="C:\\Windows\\svcupd.exe",
        OriginalFileName="psexesvc.exe",
        Description="PsExec Service",
        Company="Sysinternals",
    )
    for pipe in ("stdin", "stdout", "stderr"):
        _share(r, logon, 1, "IPC$", f"svcupd-WORKSTATION5-4812-{pipe}")
    r.write("psexec_renamed.json")


def wmi_provider_dll(data: Path, out: Path) -> None:
    r = Recipe(data, out)
    logon = r.real(HIJ, 869786)
    r.real(HIJ, 869789)
    dll = "Windows\\System32\\wbem\\wbemupdt.dll"
    for record in (869792, 869793):
        r.derived(HIJ, record, logon, 1, RelativeTargetName=dll)
    r.derived(HIJ, 3687763, logon, 1, TargetFilename=f"C:\\{dll}")
    call = r.real(HIJ, 869841)
    r.derived(
        HIJ,
        3687889,
        call,
        1,
        Image="C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        ImageLoaded=f"C:\\{dll}",
    )
    r.write("wmi_provider_dll.json")


def wmi_event_consumer(data: Path, out: Path) -> None:
    r = Recipe(data, out)
    logon = r.real(WMIX, 768453)
    consumer = 'CommandLineEventConsumer="Updater"'
    r.derived(
        WMIX,
        1166,
        logon,
        1,
        EventID=5861,
        Namespace="//./root/subscription",
        ESS="Updater",
        CONSUMER=consumer,
        PossibleCause=(
            'Binding EventFilter: instance of __EventFilter { Name = "Updater"; '
            'Query = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA '
            f"'Win32_PerfFormattedData_PerfOS_System'\"; }}; Perm. Consumer: {consumer}"
        ),
    )
    r.derived(
        WMIX,
        3215160,
        logon,
        20,
        ParentImage="C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        User="NT AUTHORITY\\SYSTEM",
        LogonId="0x3e7",
    )
    r.write("wmi_event_consumer.json")


def wmi_script_consumer(data: Path, out: Path) -> None:
    """The same consumer as an ActiveScriptEventConsumer: scrcons.exe runs the payload."""
    r = Recipe(data, out)
    logon = r.real(WMIX, 768453)
    r.derived(
        HIJ,
        3687497,
        logon,
        1,
        EventID=21,
        Category="WmiEventConsumerToFilter (rule: WmiEvent)",
        EventType="WmiBindingEvent",
        Operation="Created",
        User="THESHIRE\\pgustavo",
        Consumer='"\\\\.\\ROOT\\subscription:ActiveScriptEventConsumer.Name=\\"Updater\\""',
        Filter='"\\\\.\\ROOT\\subscription:__EventFilter.Name=\\"Updater\\""',
        TargetObject=None,
        Details=None,
        Hostname=W6,
    )
    scrcons = "C:\\Windows\\System32\\wbem\\scrcons.exe"
    r.derived(
        WMIX,
        3215160,
        logon,
        20,
        Image=scrcons,
        CommandLine=f"{scrcons} -Embedding",
        ParentImage="C:\\Windows\\System32\\svchost.exe",
        ParentCommandLine="C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
        User="NT AUTHORITY\\SYSTEM",
        LogonId="0x3e7",
        OriginalFileName="scrcons.exe",
    )
    r.derived(
        WMIX,
        3215160,
        logon,
        21,
        ParentImage=scrcons,
        ParentCommandLine=f"{scrcons} -Embedding",
        User="NT AUTHORITY\\SYSTEM",
        LogonId="0x3e7",
    )
    r.write("wmi_script_consumer.json")


def dcom_excel(data: Path, out: Path) -> None:
    r = Recipe(data, out)
    logon = r.real(DCOMX, 429410)
    session = logon["TargetLogonId"]
    excel = "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE"
    r.derived(
        DCOMX,
        429412,
        logon,
        1,
        NewProcessName=excel,
        CommandLine=f'"{excel}" /automation -Embedding',
        ParentProcessName="C:\\Windows\\System32\\svchost.exe",
        SubjectUserName="WORKSTATION6$",
        SubjectLogonId="0x3e7",
        TargetLogonId=session,
        TargetUserName="pgustavo",
        TargetDomainName="THESHIRE",
    )
    r.derived(
        DCOMX,
        429412,
        logon,
        2,
        ParentProcessName=excel,
        SubjectUserName="pgustavo",
        SubjectLogonId=session,
    )
    r.write("dcom_excel.json")


def remote_registry(data: Path, out: Path) -> None:
    r = Recipe(data, out)
    logon = r.real(PSX, 717708)
    _share(r, logon, 0, "IPC$", "winreg")
    r.derived(PSX, 1389, logon, 1, param1="Remote Registry", param2="running", Hostname=W6)
    r.derived(
        HIJ,
        3687497,
        logon,
        2,
        TargetObject="HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater",
        Details=f"C:\\Windows\\System32\\cmd.exe /c start /b {PAYLOAD}",
    )
    r.write("remote_registry.json")


def rdp_channels(data: Path, out: Path) -> None:
    """An RDP logon seen only by the RDP channels (no Security log), from the lab's real
    RemoteConnectionManager event (263 on WORKSTATION5)."""
    r = Recipe(data, out)
    base = _records(data, WMICX)[61]
    rdpcore = "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS"
    lsm = "Microsoft-Windows-TerminalServices-LocalSessionManager"
    steps: list[tuple[float, dict[str, Any]]] = [
        (
            0,
            {
                "Channel": f"{rdpcore}/Operational",
                "SourceName": rdpcore,
                "EventID": 131,
                "ConnType": "TCP",
                "ClientIP": "172.18.39.5:50912",
            },
        ),
        (1, {"EventID": 1149, "Param1": "pgustavo", "Param2": "THESHIRE", "Param3": "172.18.39.5"}),
        (
            3,
            {
                "Channel": f"{lsm}/Operational",
                "SourceName": lsm,
                "EventID": 21,
                "User": "THESHIRE\\pgustavo",
                "SessionID": "2",
                "Address": "172.18.39.5",
            },
        ),
        (
            4,
            {
                "Channel": f"{lsm}/Operational",
                "SourceName": lsm,
                "EventID": 22,
                "User": "THESHIRE\\pgustavo",
                "SessionID": "2",
                "Address": "172.18.39.5",
            },
        ),
        (
            600,
            {
                "Channel": f"{lsm}/Operational",
                "SourceName": lsm,
                "EventID": 25,
                "User": "THESHIRE\\pgustavo",
                "SessionID": "2",
                "Address": "172.18.39.5",
            },
        ),
    ]
    for at, changes in steps:
        r.derived(WMICX, 61, base, at, Hostname=W6, **changes)
    r.write("rdp_channels.json")


def main(data: Path, out: Path = HERE) -> None:
    """Write every fixture into ``out`` from the recordings under ``data``."""
    for build in (
        psexec_renamed,
        wmi_provider_dll,
        wmi_event_consumer,
        wmi_script_consumer,
        dcom_excel,
        remote_registry,
        rdp_channels,
    ):
        build(data, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
