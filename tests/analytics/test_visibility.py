"""Visibility of the data needs per host, and telling a no-data zero from a true zero."""

from __future__ import annotations

import json

import pytest

from huntbook.analytics import explains_zero, visibility
from huntbook.analytics.visibility import need_key

from .conftest import SYSMON, logon, proc, security, sysmon

SEED_NEEDS = [
    "Authentication Logs",
    "Netflow",
    "Process Monitoring",
    "Process Command-Line Parameters",
]
PS = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"


def _events():
    events = [logon("venus", float(i), f"0x{i}", "bob", ip="10.0.0.2") for i in range(6)]
    events += [proc("venus", 10.0 + i, "0x1", PS, PS, "powershell -nop") for i in range(6)]
    # wrk-btun: two 4624 (thin), process events without command lines (4688 without the field)
    events += [logon("wrk-btun", 20.0 + i, f"0x{i}", "bob") for i in range(2)]
    events += [security(4688, "wrk-btun", 30.0 + i, NewProcessName=PS) for i in range(6)]
    return events


def test_seed_needs_per_host(build_store):
    vis = visibility(build_store(_events()), SEED_NEEDS)
    auth, netflow, process, cmdline = vis.needs
    assert dict(auth.hosts) == {"venus": "present", "wrk-btun": "thin"}
    assert auth.status == "partial"
    assert dict(netflow.hosts) == {"venus": "absent", "wrk-btun": "absent"}
    assert netflow.gaps == (
        "No Sysmon Event ID 3 logs",
        "No Security Event ID 5156 logs",
        "No Zeek conn logs",
    )
    assert dict(process.hosts) == {"venus": "present", "wrk-btun": "present"}
    assert process.gaps == ()
    assert dict(cmdline.hosts) == {"venus": "present", "wrk-btun": "absent"}
    assert "Process Command-Line Parameters: absent on wrk-btun" in vis.gaps
    assert json.loads(json.dumps(vis.to_dict()))["needs"][1]["status"] == "absent"


def test_command_lines_missing_in_most_process_events_is_thin(build_store):
    with_cmd = [
        security(4688, "venus", float(i), NewProcessName=PS, CommandLine="ps -nop")
        for i in range(6)
    ]
    without = [security(4688, "venus", 10.0 + i, NewProcessName=PS) for i in range(10)]
    (cmdline,) = visibility(
        build_store(with_cmd + without), ["process command-line parameters"]
    ).needs
    assert cmdline.hosts == {"venus": "thin"}  # 6 of 16 process events carry a command line
    # the best source decides: Sysmon 1 with command lines on every process makes them visible
    sysmon_too = [proc("venus", 40.0 + i, "0x1", PS, PS, "powershell -nop") for i in range(6)]
    (cmdline,) = visibility(
        build_store(with_cmd + without + sysmon_too), ["Process Command Line"]
    ).needs
    assert cmdline.hosts == {"venus": "present"}


@pytest.mark.parametrize("name", ["  NETFLOW ", "Network Connections", "netflow"])
def test_need_names_are_normalised_and_aliased(build_store, name):
    store = build_store(
        [sysmon(3, "venus", float(i), SourceIp="10.0.0.1", Initiated="true") for i in range(5)]
    )
    (need,) = visibility(store, [name]).needs
    assert need.known and need.hosts == {"venus": "present"}


def test_unknown_need_is_reported_not_guessed(build_store):
    (need,) = visibility(build_store(_events()), ["Badge readers"]).needs
    assert (need.known, need.status, need.sources) == (False, "unknown", ())
    assert need_key("Process  Command-Line Parameters") == "process command-line parameters"


def test_explains_zero_names_the_missing_source(build_store):
    store = build_store(_events())
    vis = visibility(store, SEED_NEEDS)
    sysmon3 = [(SYSMON.lower(), "3")]
    assert vis.explains_zero(sysmon3) == "No Sysmon Event ID 3 logs"
    assert explains_zero(store, sysmon3) == "No Sysmon Event ID 3 logs"
    # the data is there: a zero would be a true zero
    assert vis.explains_zero([("xmlwineventlog:microsoft-windows-sysmon/operational", "1")]) is None
    assert vis.explains_zero([("wineventlog", "4624")]) is None
    assert vis.explains_zero([("Win*", None)]) is None
    # OR of constraints: one present is enough
    assert vis.explains_zero([(SYSMON, "3"), ("wineventlog", "4624")]) is None
    assert vis.explains_zero([("wineventlog", "5156")]) == "No Security Event ID 5156 logs"
    assert vis.explains_zero([("bro:conn", None)]) == "No bro:conn logs"
