"""Lateral-movement edges per method, on hand-made events (real recordings: test_real_data.py)."""

from __future__ import annotations

import json

from huntbook.analytics import find_lateral_movement
from huntbook.ingest import ingest

from .conftest import logon, outbound, proc, security, sysmon, system

SYS32 = "C:\\Windows\\System32\\"
WMI = SYS32 + "wbem\\WmiPrvSE.exe"
PS = SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"
CMD = SYS32 + "cmd.exe"
SERVICES = SYS32 + "services.exe"
STAGER = PS + " -noP -sta -w 1 -enc SQBFAFgA"


def _summary(edges):
    return [(e.source, e.destination, e.account, e.method) for e in edges]


def test_wmi_edge_with_resolved_source_and_evidence(build_store):
    store = build_store(
        [
            outbound("wrk-btun", 0.5, "10.0.2.15", "10.0.1.7"),
            proc("venus", 10.0, "0x51", PS, WMI, STAGER, user="FROTHLY\\service"),
            logon("venus", 11.0, "0x51", "service", ip="10.0.2.15"),
            proc("venus", 12.0, "0x51", SYS32 + "whoami.exe", PS),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _summary([edge]) == [("wrk-btun", "venus", "service", "WMI")]
    assert edge.source_ip == "10.0.2.15" and edge.logon_ids == ("0x51",)
    codes = [e.event_code for e in edge.evidence]
    assert codes == [
        "1",
        "4624",
    ]  # the WMI child (stamped first) and the logon; whoami is no trace of WMI
    assert edge.first_seen < edge.last_seen
    data = json.loads(json.dumps(edge.to_dict()))
    assert data["evidence"][1]["TargetLogonId"] == "0x51"
    assert data["first_seen"].endswith("Z")


def test_unresolved_source_is_the_address(build_store):
    store = build_store(
        [logon("venus", 1.0, "0x5", "bob", ip="10.9.9.9"), proc("venus", 1.2, "0x5", CMD, WMI)]
    )
    assert _summary(find_lateral_movement(store)) == [("10.9.9.9", "venus", "bob", "WMI")]


def test_network_logon_without_method_is_no_edge(build_store):
    store = build_store(
        [
            logon("venus", 1.0, "0x5", "bob", ip="10.9.9.9"),
            proc("venus", 1.2, "0x5", SYS32 + "notepad.exe", SYS32 + "svchost.exe"),
        ]
    )
    assert find_lateral_movement(store) == []


def test_psexec_service_install_and_services_child(build_store):
    store = build_store(
        [
            proc(
                "venus",
                4.0,
                "0x3e7",
                CMD,
                SERVICES,
                "cmd.exe /c start /b " + STAGER,
                user="NT AUTHORITY\\SYSTEM",
            ),
            logon("venus", 5.0, "0x2990d17", "pgustavo", ip="10.0.2.15", workstation="WRK-BTUN"),
            security(
                4697,
                "venus",
                5.1,
                SubjectLogonId="0x2990d17",
                SubjectUserName="pgustavo",
                ServiceName="Updater",
                ServiceFileName="%COMSPEC% /C start /b powershell",
            ),
            system(
                7045,
                "venus",
                5.2,
                ServiceName="Updater",
                ImagePath="%COMSPEC% /C start /b powershell",
            ),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _summary([edge]) == [("WRK-BTUN", "venus", "pgustavo", "PsExec/service")]
    assert sorted(e.event_code for e in edge.evidence) == ["1", "4624", "4697", "7045"]


def test_winrm_source_from_the_inbound_connection(build_store):
    store = build_store(
        [
            outbound("wrk-btun", 0.0, "10.0.2.15", "10.0.1.7", port="5985"),
            security(
                5156,
                "venus",
                1.0,
                SourceAddress="10.0.2.15",
                DestAddress="10.0.1.7",
                DestPort="5985",
                Direction="%%14592",
            ),
            logon(
                "venus", 1.01, "0x2da8840", "pgustavo"
            ),  # WinRM over Kerberos: no address in the 4624
            proc("venus", 1.02, "0x2da8840", SYS32 + "wsmprovhost.exe", SYS32 + "svchost.exe"),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _summary([edge]) == [("wrk-btun", "venus", "pgustavo", "WinRM")]
    assert edge.evidence[0].event_code == "5156"


def test_dcom_mmc_child_near_the_logon(build_store):
    store = build_store(
        [
            logon("venus", 1.0, "0x7", "pgustavo", ip="10.0.2.15"),
            proc(
                "venus",
                2.0,
                "0x26ab88",
                CMD,
                SYS32 + "mmc.exe",
                "cmd.exe /c whoami",
                user="FROTHLY\\desk",
            ),
        ]
    )
    assert _summary(find_lateral_movement(store)) == [("10.0.2.15", "venus", "pgustavo", "DCOM")]


def test_nearby_rules_ignore_machine_accounts_and_late_events(build_store):
    store = build_store(
        [
            logon("venus", 1.0, "0x7", "WRK-BTUN$", ip="10.0.2.15"),
            proc("venus", 2.0, "0x3e7", CMD, SYS32 + "mmc.exe", "cmd.exe /c whoami"),
            logon("venus", 100.0, "0x8", "pgustavo", ip="10.0.2.15"),
            proc(
                "venus", 200.0, "0x3e7", CMD, SYS32 + "mmc.exe", "cmd.exe /c whoami"
            ),  # beyond the window
        ]
    )
    assert find_lateral_movement(store) == []


def test_rdp_and_scheduled_task(build_store):
    store = build_store(
        [
            logon("venus", 1.0, "0x10", "alice", ip="10.0.2.15", logon_type="10"),
            logon("mercury", 5.0, "0x20", "bob", ip="10.0.2.16"),
            security(4698, "mercury", 5.5, SubjectLogonId="0x20", TaskName="\\Updater"),
            # the task runs a minute later as SYSTEM under the Schedule service: supporting evidence
            sysmon(
                1,
                "mercury",
                65.0,
                LogonId="0x3e7",
                Image=CMD,
                ParentImage=SYS32 + "svchost.exe",
                ParentCommandLine="C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
            ),
            # an unrelated svchost child (no Schedule service) is not
            sysmon(
                1,
                "mercury",
                66.0,
                LogonId="0x3e7",
                Image=CMD,
                ParentImage=SYS32 + "svchost.exe",
                ParentCommandLine="C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s gpsvc",
            ),
        ]
    )
    edges = find_lateral_movement(store)
    assert _summary(edges) == [
        ("10.0.2.15", "venus", "alice", "RDP"),
        ("10.0.2.16", "mercury", "bob", "scheduled task"),
    ]
    assert [e.event_code for e in edges[1].evidence] == ["4624", "4698", "1"]
    assert edges[1].evidence[-1].time - edges[1].first_seen == 60.0


def test_explicit_credentials_join_an_edge_or_stand_alone(build_store):
    store = build_store(
        [
            outbound("wrk-btun", 0.0, "10.0.2.15", "10.0.1.7"),
            security(
                4648,
                "wrk-btun",
                0.5,
                TargetServerName="venus.froth.ly",
                TargetUserName="service",
                SubjectUserName="alice",
            ),
            logon("venus", 1.0, "0x51", "service", ip="10.0.2.15"),
            proc("venus", 1.5, "0x51", PS, WMI, STAGER),
            security(4648, "wrk-btun", 9.0, TargetServerName="mercury", TargetUserName="admin"),
            security(4648, "wrk-btun", 9.5, TargetServerName="localhost", TargetUserName="admin"),
        ]
    )
    edges = find_lateral_movement(store)
    assert _summary(edges) == [
        ("wrk-btun", "venus", "service", "WMI"),
        ("wrk-btun", "mercury", "admin", "explicit credentials"),
    ]
    assert "4648" in [e.event_code for e in edges[0].evidence]


def test_same_route_merges_and_edges_are_in_time_order(build_store):
    store = build_store(
        [
            logon("venus", 50.0, "0x2", "bob", ip="10.0.0.2"),
            proc("venus", 50.5, "0x2", CMD, WMI),
            logon("venus", 1.0, "0x1", "bob", ip="10.0.0.2"),
            proc("venus", 1.5, "0x1", CMD, WMI),
            logon("mercury", 20.0, "0x3", "bob", ip="10.0.0.2"),
            proc("mercury", 20.5, "0x3", CMD, WMI),
        ]
    )
    edges = find_lateral_movement(store)
    assert [e.destination for e in edges] == ["venus", "mercury"]
    assert edges[0].logon_ids == ("0x1", "0x2")
    assert edges[0].last_seen - edges[0].first_seen == 49.5


def test_sysmon_only_store_without_security_columns(build_store):
    # No 4624 columns at all: queries still compile (absent columns become NULL), find nothing.
    store = build_store([sysmon(1, "venus", 1.0, Image=PS, ParentImage=WMI, LogonId="0x1")])
    assert find_lateral_movement(store) == []


def test_local_use_is_not_movement_but_a_loopback_rdp_is_a_tunnel(build_store):
    store = build_store(
        [
            # WMI over a network logon from the host's own name: local administration, no edge
            logon("venus", 1.0, "0x5", "bob", workstation="VENUS"),
            proc("venus", 1.2, "0x5", CMD, WMI),
            # RDP from 127.0.0.1: a port forward carried it (the real source is hidden)
            logon(
                "venus", 5.0, "0x6", "alice", ip="127.0.0.1", workstation="VENUS", logon_type="10"
            ),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert (edge.source, edge.source_ip, edge.destination, edge.method, edge.attack) == (
        "unresolved source 127.0.0.1",
        "127.0.0.1",
        "venus",
        "RDP tunnel",
        "T1572",
    )


def test_rdp_tunnel_in_evtx_attack_samples(shared_data, tmp_path):
    """EVTX-ATTACK-SAMPLES DE_RDP_Tunneling_4624.evtx: 4624 type 10 on PC02 from 127.0.0.1."""
    from huntbook.store import Store

    store = Store(tmp_path / "rdp")
    evtx = (
        shared_data
        / "evtx"
        / "EVTX-ATTACK-SAMPLES"
        / "Command and Control"
        / "DE_RDP_Tunneling_4624.evtx"
    )
    ingest(store, [evtx])
    (edge,) = find_lateral_movement(store)
    assert _summary([edge]) == [("unresolved source 127.0.0.1", "PC02", "IEUser", "RDP tunnel")]
    assert edge.source_kind == "unresolved" and edge.confidence == "direct"


def test_a_task_changed_in_the_session_is_a_scheduled_task_move(build_store):
    """4702 (task updated) over a network logon, as Update-RemoteTask does."""
    store = build_store(
        [
            logon("mercury", 5.0, "0x20", "bob", ip="10.0.2.16"),
            security(4702, "mercury", 5.1, SubjectLogonId="0x20", TaskName="\\EventCacheManager"),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _summary([edge]) == [("10.0.2.16", "mercury", "bob", "scheduled task")]
    assert (edge.attack, edge.confidence) == ("T1053.005", "logon_id")


def _share(host, t, logon_id, share, access, target="Windows\\Tasks\\pshell.xml"):
    return security(
        5145,
        host,
        t,
        SubjectLogonId=logon_id,
        ShareName=share,
        RelativeTargetName=target,
        AccessList=access,
    )


def test_a_file_written_to_an_admin_share_is_an_smb_copy(build_store):
    store = build_store(
        [
            logon("mercury", 5.0, "0x20", "bob", ip="10.0.2.16"),
            _share("mercury", 5.1, "0x20", "\\\\*\\C$", "%%4417"),
            # a read of C$, and a write to IPC$ (a named pipe), copy nothing
            logon("venus", 6.0, "0x30", "bob", ip="10.0.2.16"),
            _share("venus", 6.1, "0x30", "\\\\*\\C$", "%%4416"),
            _share("venus", 6.2, "0x30", "\\\\*\\IPC$", "%%4417", target="svcctl"),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _summary([edge]) == [("10.0.2.16", "mercury", "bob", "SMB copy")]
    assert (edge.attack, edge.confidence) == ("T1570", "logon_id")
    assert edge.evidence[-1].fields["RelativeTargetName"] == "Windows\\Tasks\\pshell.xml"


def test_a_logon_over_loopback_is_local_use_without_a_name(build_store):
    """WMI over a loopback network logon with no workstation name: no edge, no "unknown" host."""
    store = build_store(
        [logon("venus", 1.0, "0x5", "bob", ip="127.0.0.1"), proc("venus", 1.2, "0x5", CMD, WMI)]
    )
    assert find_lateral_movement(store) == []


def test_no_address_at_all_is_an_unresolved_source(build_store):
    store = build_store([logon("venus", 1.0, "0x5", "bob"), proc("venus", 1.2, "0x5", CMD, WMI)])
    (edge,) = find_lateral_movement(store)
    assert (edge.source, edge.source_kind) == ("unresolved source", "unresolved")


def test_an_ntlm_logon_without_a_session_key_is_pass_the_hash(build_store):
    """KeyLength 0 on an NTLM network logon (Invoke-SMBExec with a hash); not for ANONYMOUS."""
    ntlm = {"AuthenticationPackageName": "NTLM", "KeyLength": "0"}
    store = build_store(
        [
            {**logon("venus", 1.0, "0x5", "pgustavo", ip="10.0.2.15"), **ntlm},
            {**logon("venus", 2.0, "0x6", "ANONYMOUS LOGON", ip="10.0.2.17"), **ntlm},
            {**logon("venus", 3.0, "0x7", "alice", ip="10.0.2.18"), **ntlm, "KeyLength": "128"},
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _summary([edge]) == [("10.0.2.15", "venus", "pgustavo", "pass the hash")]
    assert (edge.attack, edge.confidence) == ("T1550.002", "inferred")
