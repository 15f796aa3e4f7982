"""The Threat Hunter Playbook's remote WMI execution analytics (WIN-190810201010), written in SPL.

../shared/reference/threat-hunter-playbook/190810-RemoteWMIExecution/notebook.md gives three
analytics in SQL over the Empire WMI recording: (I) 4688 with a WmiPrvSE parent outside session
0x3e7, (II) Sysmon 1 with a WmiPrvSE parent outside 0x3e7, (III) I joined to 4624 type 3 (not a
machine account) on the logon id. Each returns one row on that recording: WORKSTATION6, pgustavo,
the ``powershell -noP -sta -w 1 -enc`` stager, from 172.18.39.5 (PROVENANCE.md's WMI chain).
Splunk's classic names are used (spl.md 5.1): ``Logon_ID``/``Account_Name`` are [subject, target].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huntbook.ingest import ingest

RECORDING = "security-datasets/empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip"
STAGER = "powershell -noP -sta -w 1 -enc"

pytestmark = pytest.mark.shared

ANALYTIC_I = r"""
index=botsv2 sourcetype=WinEventLog EventCode=4688 Creator_Process_Name="*\\wmiprvse.exe"
| eval TargetLogonId=mvindex(Logon_ID, 1), TargetUserName=mvindex(Account_Name, 1)
| where TargetLogonId!="0x3e7"
| table _time host TargetUserName TargetLogonId New_Process_Name Process_Command_Line
"""

ANALYTIC_II = r"""
index=botsv2 sourcetype="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1
    ParentImage="*\\wmiprvse.exe" LogonId!=0x3e7
| table _time host User Image CommandLine
"""

ANALYTIC_III_JOIN = r"""
index=botsv2 sourcetype=WinEventLog EventCode=4688 Creator_Process_Name="*\\wmiprvse.exe"
| eval TargetLogonId=mvindex(Logon_ID, 1), TargetUserName=mvindex(Account_Name, 1)
| where TargetLogonId!="0x3e7"
| join TargetLogonId
    [search index=botsv2 sourcetype=WinEventLog EventCode=4624 Logon_Type=3 NOT Account_Name="*$"
     | eval TargetLogonId=mvindex(Logon_ID, 1)
     | table TargetLogonId IpAddress]
| table _time host TargetUserName TargetLogonId New_Process_Name Process_Command_Line IpAddress
"""

ANALYTIC_III_STATS = r"""
index=botsv2 sourcetype=WinEventLog
    ((EventCode=4624 Logon_Type=3 NOT Account_Name="*$")
     OR (EventCode=4688 Creator_Process_Name="*\\wmiprvse.exe"))
| eval session=lower(mvindex(Logon_ID, 1)), TargetUserName=mvindex(Account_Name, 1)
| where session!="0x3e7"
| stats values(host) as host, values(TargetUserName) as user, values(IpAddress) as IpAddress,
    values(Process_Command_Line) as cmd, dc(EventCode) as kinds by session
| where kinds=2
"""


@pytest.fixture(scope="module")
def botsv2(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    from huntbook.store import Store

    store = Store(tmp_path_factory.mktemp("thp") / "store")
    ingest(store, [shared_data / RECORDING], index="botsv2")
    return store


def _rows(store: Any, spl: str) -> list[dict[str, Any]]:
    from huntbook.query import run_spl

    return run_spl(store, spl).rows()


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def test_analytic_i_security_4688(botsv2: Any) -> None:
    rows = _rows(botsv2, ANALYTIC_I)
    assert len(rows) == 1
    row = rows[0]
    assert (row["host"], row["TargetUserName"]) == ("WORKSTATION6", "pgustavo")
    assert row["New_Process_Name"].lower().endswith("\\powershell.exe")
    assert STAGER in row["Process_Command_Line"]


def test_analytic_ii_sysmon_1(botsv2: Any) -> None:
    rows = _rows(botsv2, ANALYTIC_II)
    assert len(rows) == 1
    row = rows[0]
    assert (row["host"], row["User"]) == ("WORKSTATION6", "THESHIRE\\pgustavo")
    assert STAGER in row["CommandLine"]


def test_analytic_iii_join_on_logon_id(botsv2: Any) -> None:
    rows = _rows(botsv2, ANALYTIC_III_JOIN)
    assert len(rows) == 1
    row = rows[0]
    assert (row["host"], row["TargetUserName"]) == ("WORKSTATION6", "pgustavo")
    assert row["TargetLogonId"] == "0x32c5cb5"
    assert STAGER in row["Process_Command_Line"]
    assert row["IpAddress"] == "172.18.39.5"


def test_analytic_iii_as_stats_by_session(botsv2: Any) -> None:
    """The same correlation without join: both event kinds gathered per logon session."""
    rows = _rows(botsv2, ANALYTIC_III_STATS)
    assert len(rows) == 1
    row = rows[0]
    assert row["session"] == "0x32c5cb5"
    assert (_single(row["host"]), _single(row["user"])) == ("WORKSTATION6", "pgustavo")
    assert _single(row["IpAddress"]) == "172.18.39.5"
    assert STAGER in _single(row["cmd"])


def test_machine_accounts_are_excluded(botsv2: Any) -> None:
    """PROVENANCE.md counts 31 network logons; the `NOT Account_Name="*$"` guard drops some."""
    spl = "index=botsv2 EventCode=4624 Logon_Type=3 | stats count"
    guarded = 'index=botsv2 EventCode=4624 Logon_Type=3 NOT Account_Name="*$" | stats count'
    assert int(_rows(botsv2, spl)[0]["count"]) == 31
    assert int(_rows(botsv2, guarded)[0]["count"]) < 31
