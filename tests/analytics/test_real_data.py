"""The analytics on the real Security-Datasets recordings in ../shared/data (skip when absent).

What is "right" was read off the raw recordings (see ../shared/data/PROVENANCE.md and the
SDWIN-*.yaml beside each zip): in each, Empire on WORKSTATION5 (172.18.39.5) as
THESHIRE\\pgustavo reaches WORKSTATION6 with one method:

- empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod: 4624 type 3 (TargetLogonId 0x32c5cb5, from
  172.18.39.5), then WmiPrvSE.exe starts ``powershell -noP -sta -w 1 -enc ...`` in that session
  (Sysmon 1 stamped before the 4624: the skew case);
- empire_wmic_add_user_backdoor: WMIC ``/node:WORKSTATION6`` -> WmiPrvSE.exe starts
  ``net user /add backdoor``: WMI;
- empire_msbuild_dcerpc_wmi_smb: WmiPrvSE.exe starts ``cmd.exe /c ... MSBuild.exe``: WMI;
- empire_psexec_dcerpc_tcp_svcctl: 4697 service ``Updater`` installed inside pgustavo's network
  session, 7045, services.exe starts ``cmd.exe /C start /b powershell ... -enc``: PsExec/service;
- empire_smbexec_dcerpc_smb_svcctl: the same with a random service name: PsExec/service;
- empire_psremoting_stager: wsmprovhost.exe in the network session; the 4624 carries no address
  (Kerberos over WinRM), the source comes from the inbound 5156 on port 5985: WinRM;
- empire_dcom_shellwindows_stager: explorer.exe (the desktop user sbeavers) starts
  ``cmd.exe /c %COMSPEC% /C start /b powershell ... -enc`` right after pgustavo's network logon:
  DCOM;
- empire_launcher_vbs: a local wscript launcher on WORKSTATION5: no lateral movement.
"""

from __future__ import annotations

import pytest

from huntbook.analytics import (
    conclude,
    find_lateral_movement,
    logon_sessions,
    powershell_findings,
    visibility,
)

pytestmark = pytest.mark.shared

WMI = "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod"
SEED_NEEDS = [
    "Authentication Logs",
    "Netflow",
    "Process Monitoring",
    "Process Command-Line Parameters",
]
EXPECTED = {
    WMI: ("WMI",),
    "empire_wmic_add_user_backdoor": ("WMI",),
    "empire_msbuild_dcerpc_wmi_smb": ("SMB copy", "WMI"),  # pshell.xml written over C$, then WMI
    "empire_psexec_dcerpc_tcp_svcctl": ("PsExec/service",),
    # Invoke-SMBExec was given the hash: an NTLM logon without a session key
    "empire_smbexec_dcerpc_smb_svcctl": ("PsExec/service", "pass the hash"),
    "empire_psremoting_stager": ("WinRM",),
    "empire_dcom_shellwindows_stager": ("DCOM",),
}
# Other moves in the same recordings (tests/truth/lateral_movement.yaml): the operator's RDP
# session from a public address, seen only as svchost accepting 3389, before the DCOM move.
ALSO = {
    "empire_dcom_shellwindows_stager": [
        ("71.114.99.41", "71.114.99.41", "WORKSTATION6", None, "RDP"),
    ],
}
# PROVENANCE.md: process command lines with -enc (Sysmon 1 + 4688), counted from the raw files.
ENCODED_COMMAND_LINES = {
    WMI: 2,
    "empire_wmic_add_user_backdoor": 0,
    "empire_msbuild_dcerpc_wmi_smb": 2,
    "empire_psexec_dcerpc_tcp_svcctl": 4,
    "empire_smbexec_dcerpc_smb_svcctl": 6,
    "empire_psremoting_stager": 2,
    "empire_dcom_shellwindows_stager": 6,
    "empire_launcher_vbs": 2,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_recording_gives_its_edge(recording, name):
    edges = find_lateral_movement(recording(name))
    route = [(e.source, e.source_ip, e.destination, e.account, e.method) for e in edges]
    move = ("WORKSTATION5", "172.18.39.5", "WORKSTATION6", "pgustavo")
    assert route == ALSO.get(name, []) + [(*move, method) for method in EXPECTED[name]]


def test_local_launcher_is_not_lateral_movement(recording):
    assert find_lateral_movement(recording("empire_launcher_vbs")) == []


def test_wmi_edge_evidence(recording):
    (edge,) = find_lateral_movement(recording(WMI))
    assert edge.logon_ids == ("0x32c5cb5",)
    (logon,) = [e for e in edge.evidence if e.event_code == "4624"]
    assert (
        logon.fields["TargetLogonId"] == "0x32c5cb5" and logon.fields["IpAddress"] == "172.18.39.5"
    )
    children = [e for e in edge.evidence if e.event_code in ("1", "4688")]
    assert sorted(e.event_code for e in children) == ["1", "4688"]
    for child in children:
        assert child.fields["ParentImage"].lower().endswith("wmiprvse.exe")
        assert " -enc " in child.fields["CommandLine"]
        assert child.host == "WORKSTATION6"


def test_wmi_sessions_and_the_skewed_child(recording):
    sessions = logon_sessions(recording(WMI))
    assert len([s for s in sessions if s.logon_type == "3"]) == 31  # PROVENANCE.md: 31 4624 type 3
    (session,) = [s for s in sessions if s.logon_id == "0x32c5cb5"]
    sysmon_child = next(a for a in session.processes if a.evidence.event_code == "1")
    assert sysmon_child.get("Image").lower().endswith("powershell.exe")
    # Sysmon's ms UtcTime against the 4624's whole second: the two clocks agree only to about a
    # second (windows-data.md item 7), inside the join's skew window either way.
    assert abs(sysmon_child.time - session.start) < 1


@pytest.mark.parametrize("name", sorted(ENCODED_COMMAND_LINES))
def test_encoded_powershell_decoded_on_every_recording(recording, name):
    findings = powershell_findings(recording(name))
    command_lines = [e for f in findings for e in f.evidence if "CommandLine" in e.fields]
    assert len(command_lines) == ENCODED_COMMAND_LINES[name]
    for finding in findings:
        assert finding.family == "PowerShell Empire stager"
        assert finding.iocs["server"] == ("http://10.10.10.5",)


def test_wmi_decoded_empire_stager(recording):
    (finding,) = powershell_findings(recording(WMI))
    # WORKSTATION6: the WMI child (Sysmon 1 + 4688) and its engine events; WORKSTATION5: the agent
    # that moved, seen only in its PowerShell 800 events (HostApplication parsed from Message)
    assert finding.hosts == ("WORKSTATION5", "WORKSTATION6")
    assert "pgustavo" in finding.accounts
    assert finding.iocs["c2"] == ("http://10.10.10.5/admin/get.php",)
    assert finding.iocs["staging_key"] == ("0]rX3Y4:()JchAKkR7Vg+[/Up92tmGQv",)
    assert finding.iocs["user_agent"] == (
        "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    )
    assert (
        finding.launchers_by_host["WORKSTATION6"][0]
        == "wmiprvse > powershell -nop -sta -w 1 -enc <payload>"
    )
    assert finding.launchers_by_host["WORKSTATION5"] == (
        "powershell host > powershell -nop -sta -w 1 -enc <payload>",
    )
    assert finding.events > len(finding.evidence)  # engine events repeat: counted, kept once
    # Empire randomises case per launcher: compare case-insensitively
    assert finding.script.lower().startswith("if($psversiontable.psversion.major -ge 3)")


def test_psexec_evidence_links_service_and_session(recording):
    (edge,) = find_lateral_movement(recording("empire_psexec_dcerpc_tcp_svcctl"))
    by_code = {e.event_code: e for e in edge.evidence}
    assert by_code["4697"].fields["ServiceName"] == "Updater"
    assert by_code["4697"].fields["LogonId"] == edge.logon_ids[0] == "0x2990d17"
    assert by_code["7045"].fields["ServiceName"] == "Updater"


def test_psremoting_source_comes_from_the_connection(recording):
    (edge,) = find_lateral_movement(recording("empire_psremoting_stager"))
    logon = next(e for e in edge.evidence if e.event_code == "4624")
    assert "IpAddress" not in logon.fields
    connection = next(e for e in edge.evidence if e.event_code in ("5156", "3"))
    assert connection.fields["DestinationPort"] == "5985"


def test_conclusion_and_visibility_on_the_wmi_recording(recording):
    store = recording(WMI)
    vis = visibility(store, SEED_NEEDS)
    # Sysmon 3 exists here, so the seed's "WMI Network Connection" zero would be a true zero
    assert vis.explains_zero([("xmlwineventlog:microsoft-windows-sysmon/operational", "3")]) is None
    assert vis.explains_zero([("xmlwineventlog:microsoft-windows-sysmon/operational", "25")]) == (
        "No Sysmon Event ID 25 logs"
    )
    text = conclude(find_lateral_movement(store), powershell_findings(store), vis)
    assert text.startswith(
        "The hunt found lateral movement involving 2 hosts. "
        "WORKSTATION6 was reached from WORKSTATION5 via WMI as pgustavo. "
        "The processes on WORKSTATION6 ran encoded PowerShell (PowerShell Empire stager, "
        "C2 http://10.10.10.5/admin/get.php). "
        "WORKSTATION5 also ran the same payload, most likely the initial foothold."
    )
