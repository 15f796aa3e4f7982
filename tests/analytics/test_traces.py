"""Moves seen without a joined logon (analytics/traces.py): destination-only traces, source-side
commands and inbound connections, on hand-made events shaped as the recordings show them."""

from __future__ import annotations

from huntbook.analytics import find_lateral_movement

from .conftest import logon, proc, security, sysmon, system

SYS32 = "C:\\Windows\\System32\\"
CMD = SYS32 + "cmd.exe"


def _route(edges):
    return [(e.source, e.destination, e.method, e.attack, e.confidence) for e in edges]


def _inbound(host, t, src, dst, port):
    return sysmon(
        3, host, t, SourceIp=src, DestinationIp=dst, DestinationPort=port, Initiated="false"
    )


def test_a_command_service_without_a_logon_is_an_unresolved_move(build_store):
    """Metasploit psexec_psh's 7045 in a System log alone; getsystem's pipe echo is local."""
    store = build_store(
        [
            system(
                7045,
                "ie10win7",
                1.0,
                ServiceName="UWdK",
                ImagePath="%COMSPEC% /b /c start /b /min powershell.exe -nop",
            ),
            system(
                7045,
                "ie10win7",
                9.0,
                ServiceName="genusn",
                ImagePath="cmd.exe /c echo genusn > \\\\.\\pipe\\genusn",
            ),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _route([edge]) == [("unresolved source", "ie10win7", "service", "T1569.002", "inferred")]
    assert edge.source_kind == "unresolved" and edge.account is None


def test_psexesvc_takes_its_source_from_the_inbound_smb_connection(build_store):
    store = build_store(
        [
            _inbound("msedgewin10", 1.0, "10.0.2.17", "10.0.2.15", "445"),
            sysmon(
                1,
                "msedgewin10",
                2.0,
                Image="C:\\Windows\\PSEXESVC.exe",
                User="NT AUTHORITY\\SYSTEM",
            ),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _route([edge]) == [("10.0.2.17", "msedgewin10", "PsExec", "T1569.002", "time")]
    assert [e.event_code for e in edge.evidence] == ["3", "1"]


def test_a_service_restarted_from_the_source_names_the_destination(build_store):
    """sc.exe \\\\HOST start SVC on the source (a service DLL hijack); \\\\localhost is local."""
    store = build_store(
        [
            proc(
                "mercury",
                1.0,
                "0x9",
                SYS32 + "sc.exe",
                CMD,
                "sc.exe \\\\VENUS start IKEEXT",
                user="CORP\\bob",
            ),
            proc("mercury", 2.0, "0x9", SYS32 + "sc.exe", CMD, "sc.exe \\\\localhost start IKEEXT"),
            proc("mercury", 3.0, "0x9", SYS32 + "sc.exe", CMD, "sc.exe query IKEEXT"),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _route([edge]) == [("mercury", "venus", "service", "T1569.002", "inferred")]
    assert edge.account == "bob"


def test_a_source_side_command_joins_the_edge_its_logon_proved(build_store):
    """schtasks /S on the source adds its evidence to the task edge the destination proved."""
    store = build_store(
        [
            sysmon(
                3,
                "mercury",
                0.5,
                SourceIp="10.0.2.16",
                DestinationIp="10.0.2.17",
                DestinationPort="135",
                Initiated="true",
            ),
            proc(
                "mercury",
                1.0,
                "0x9",
                SYS32 + "schtasks.exe",
                CMD,
                "schtasks /create /tn x /S venus",
            ),
            logon("venus", 1.1, "0x20", "bob", ip="10.0.2.16"),
            security(4698, "venus", 1.2, SubjectLogonId="0x20", TaskName="\\x"),
        ]
    )
    (edge,) = find_lateral_movement(store)
    assert _route([edge]) == [("mercury", "venus", "scheduled task", "T1053.005", "logon_id")]
    assert [e.event_code for e in edge.evidence] == ["1", "4624", "4698"]


def test_an_inbound_rdp_connection_is_an_rdp_move(build_store):
    store = build_store([_inbound("workstation6", 1.0, "71.114.99.41", "172.18.39.6", "3389")])
    assert _route(find_lateral_movement(store)) == [
        ("71.114.99.41", "workstation6", "RDP", "T1021.001", "time")
    ]
