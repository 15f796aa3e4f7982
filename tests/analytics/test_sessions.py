"""Logon sessions: the 4624 -> process join, its skew window, and both field shapes."""

from __future__ import annotations

import json

from huntbook.analytics import SKEW_SECONDS, logon_sessions

from .conftest import logon, proc, security

WMI = "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"
PS = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"


def _only(sessions, logon_id):
    (found,) = [s for s in sessions if s.logon_id == logon_id]
    return found


def test_child_stamped_before_its_logon_joins_within_the_skew(build_store):
    # windows-data.md item 7: the Sysmon child is stamped ~1 s before the 4624 of its session.
    store = build_store(
        [proc("WS6", 10.0, "0x32c5cb5", PS, WMI), logon("WS6", 11.1, "0x32c5cb5", "pgustavo")]
    )
    session = _only(logon_sessions(store), "0x32c5cb5")
    assert [a.get("Image") for a in session.processes] == [PS]


def test_event_earlier_than_the_skew_does_not_join(build_store):
    early = 20.0 - SKEW_SECONDS - 1
    store = build_store([proc("WS6", early, "0xabc", PS, WMI), logon("WS6", 20.0, "0xabc", "bob")])
    assert _only(logon_sessions(store), "0xabc").processes == ()
    # a wider window, passed explicitly, takes it
    assert len(_only(logon_sessions(store, skew=SKEW_SECONDS + 2), "0xabc").processes) == 1


def test_logon_ids_compare_case_insensitively_across_shapes(build_store):
    # Classic text: upper-case hex in Logon_ID = [subject, target]; Sysmon: lower-case LogonId.
    classic = security(
        4624,
        "VENUS",
        5.0,
        Logon_ID=["0x0", "0x3E7A1"],
        Account_Name=["-", "svc"],
        Logon_Type="3",
        Source_Network_Address="10.0.1.7",
    )
    store = build_store([classic, proc("VENUS", 6.0, "0x3e7a1", PS, WMI)])
    (session,) = logon_sessions(store)
    assert (session.logon_id, session.account, session.source_ip) == ("0x3e7a1", "svc", "10.0.1.7")
    assert len(session.processes) == 1


def test_4688_joins_by_target_then_subject_logon_id(build_store):
    events = [
        logon("WS6", 1.0, "0x55", "pgustavo"),
        # v2: the new process's session is TargetLogonId
        security(
            4688,
            "WS6",
            1.5,
            TargetLogonId="0x55",
            SubjectLogonId="0x3e4",
            NewProcessName=PS,
            ParentProcessName=WMI,
            CommandLine="powershell -enc AAAA",
        ),
        # child started inside the session: TargetLogonId 0x0, the session is the subject
        security(
            4688,
            "WS6",
            2.0,
            TargetLogonId="0x0",
            SubjectLogonId="0x55",
            NewProcessName="C:\\Windows\\System32\\whoami.exe",
            ParentProcessName=PS,
        ),
        # version 1: no TargetLogonId at all; the WMI child shows SubjectLogonId 0x3e4 (item 8)
        security(
            4688, "WS6", 2.5, SubjectLogonId="0x3e4", NewProcessName=PS, ParentProcessName=WMI
        ),
    ]
    session = _only(logon_sessions(build_store(events)), "0x55")
    assert [a.get("Image").rsplit("\\", 1)[-1] for a in session.processes] == [
        "powershell.exe",
        "whoami.exe",
    ]


def test_classic_4688_uses_the_logon_id_list(build_store):
    events = [
        security(
            4624,
            "VENUS",
            1.0,
            Logon_ID=["0x0", "0xBEEF"],
            Account_Name=["-", "svc"],
            Logon_Type="3",
        ),
        security(
            4688,
            "VENUS",
            1.2,
            Logon_ID=["0x3E4", "0xBEEF"],
            New_Process_Name=PS,
            Creator_Process_Name=WMI,
            Process_Command_Line="powershell -nop",
        ),
    ]
    (session,) = logon_sessions(build_store(events))
    (child,) = session.processes
    assert (child.get("Image"), child.get("ParentImage"), child.get("CommandLine")) == (
        PS,
        WMI,
        "powershell -nop",
    )


def test_same_id_on_another_host_or_interactive_logon_is_not_joined(build_store):
    events = [
        logon("WS6", 1.0, "0x77", "bob"),
        proc("WS5", 1.5, "0x77", PS, WMI),  # other host
        logon("WS6", 2.0, "0x88", "carol", logon_type="2"),  # interactive: not a network session
        proc("WS6", 2.5, "0x88", PS, "C:\\Windows\\explorer.exe"),
    ]
    sessions = logon_sessions(build_store(events))
    assert [s.logon_id for s in sessions] == ["0x77"]
    assert sessions[0].processes == ()


def test_reused_logon_id_joins_the_latest_logon(build_store):
    events = [
        logon("WS6", 1.0, "0x99", "old"),
        logon("WS6", 500.0, "0x99", "new"),
        proc("WS6", 501.0, "0x99", PS, WMI),
    ]
    old, new = logon_sessions(build_store(events))
    assert (old.account, len(old.processes)) == ("old", 0)
    assert (new.account, len(new.processes)) == ("new", 1)


def test_rdp_logons_are_sessions_and_to_dict_is_json(build_store):
    store = build_store([logon("WS6", 1.0, "0x10", "alice", ip="10.0.0.9", logon_type="10")])
    (session,) = logon_sessions(store)
    data = json.loads(json.dumps(session.to_dict()))
    assert data["logon_type"] == "10"
    assert data["start"] == "2020-09-13T12:26:41.000Z"
    assert data["source"] == "10.0.0.9"  # unresolved: the address itself
