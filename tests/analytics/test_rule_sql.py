"""Method rules as engine filters: never narrower than ``Rule.matches``, and only the sessions a
rule can use reach Python."""

from __future__ import annotations

import pytest
from sqlglot import exp

from huntbook.analytics import find_lateral_movement, logon_sessions
from huntbook.analytics._sql import Columns, rows
from huntbook.analytics.lateral_movement import _focus, _nearby
from huntbook.analytics.methods import load_methods
from huntbook.analytics.rule_sql import engine_pattern, rule_filter
from huntbook.analytics.sessions import (
    ACTIVITY_FIELDS,
    activity_select,
    session_context,
    to_activity,
)
from huntbook.analytics.traces import _rule_sql, _trace_rules

from .conftest import logon, proc, security, system

SYS32 = "C:\\Windows\\System32\\"
WMI = SYS32 + "wbem\\WmiPrvSE.exe"
PS = SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"


@pytest.mark.parametrize(
    ("pattern", "engine"),
    [
        ("%comspec%", "%comspec%"),
        (r"^ntlm$", r"^ntlm\n?$"),  # Python's $ also matches before a final newline
        (r"(\$|system)$", r"(\$|system)\n?$"),  # an escaped $ is a character
        (r"^c:\\windows\\[a-z]{8}\.exe$", r"^c:\\windows\\[a-z]{8}\.exe\n?$"),
        (r"^(?!anonymous logon$)", None),  # look-ahead: RE2 has none
        (r"a$|b", None),  # an end inside the pattern
        (r"/node:\s*(?P<destination>\S+)", None),  # \s is Unicode in Python, ASCII in RE2
        (r"\bsc\b", None),
        (r"(a)\1", None),
    ],
)
def test_a_pattern_runs_in_the_engine_only_when_re2_reads_it_as_python(pattern, engine):
    assert engine_pattern(pattern) == engine


EVENTS = [
    logon("venus", 1.0, "0x5", "bob", ip="10.0.0.9"),
    proc("venus", 1.1, "0x5", PS, WMI),
    proc(
        "venus", 1.2, "0x5", "c:/windows/system32/CMD.EXE", "C:/WINDOWS/system32/wbem/wmiprvse.exe"
    ),
    proc("venus", 1.3, "0x5", "notepad.exe", "explorer.exe", cmd="notepad  /c  x"),
    proc("venus", 1.4, "0x5", PS, "C:\\Windows\\mmc.exe", cmd="powershell -nop -w hidden"),
    proc(
        "venus",
        1.5,
        "0x5",
        "C:\\Windows\\abcdefgh.exe",
        "services.exe",
        user="NT AUTHORITY\\SYSTEM",
    ),
    system(7045, "venus", 1.6, ImagePath="%COMSPEC% /Q /c echo x", ServiceName="BTOBTO"),
    security(4698, "venus", 1.7, SubjectLogonId="0x5", TaskName="\\t", TaskContent="<a/>"),
    security(
        5145, "venus", 1.8, SubjectLogonId="0x5", ShareName="\\\\*\\ADMIN$", AccessList="%%4417"
    ),
]


def test_each_rule_filter_keeps_every_event_the_rule_matches(build_store):
    store = build_store(EVENTS)
    columns, con = Columns.of(store), store.connect()
    everything = rows(con, activity_select(columns, exp.true()))
    matched = 0
    for rule in (r for m in load_methods().methods for r in m.rules if r.scope != "logon"):
        where = rule_filter(columns, rule, ACTIVITY_FIELDS, "LogonType")
        kept = {r["_cd"] for r in rows(con, activity_select(columns, where))}
        python = {r["_cd"] for r in everything if rule.matches(to_activity(r))}
        assert python <= kept, rule
        matched += len(python)
    assert matched >= 6  # the events above do exercise the rules


def test_each_trace_filter_keeps_every_event_its_rule_matches(build_store):
    """alone/source rules: kind, file names and substrings, then patterns, all in the engine."""
    store = build_store(
        [
            *EVENTS,
            proc(
                "wrk", 2.0, "0x9", "C:\\Windows\\sc.exe", "cmd.exe", cmd="sc \\\\venus start evil"
            ),
        ]
    )
    columns, con = Columns.of(store), store.connect()
    everything = rows(con, activity_select(columns, exp.true()))
    matched = 0
    for _, rule in _trace_rules(load_methods()):
        kept = {r["_cd"] for r in rows(con, activity_select(columns, _rule_sql(columns, rule)))}
        python = {r["_cd"] for r in everything if rule.matches(to_activity(r))}
        assert python <= kept, rule
        matched += len(python)
    assert matched >= 3


def test_a_logon_rule_pattern_left_to_python_is_still_applied(build_store):
    """The pass-the-hash rule's look-ahead cannot run in RE2: Python still refuses ANONYMOUS."""
    ntlm = {"AuthenticationPackageName": "NTLM", "KeyLength": "0"}
    store = build_store(
        [
            {**logon("venus", 1.0, "0x6", "ANONYMOUS LOGON", ip="10.0.2.17"), **ntlm},
            {**logon("venus", 2.0, "0x7", "alice", ip="10.0.2.18"), **ntlm},
        ]
    )
    assert [(e.account, e.method) for e in find_lateral_movement(store)] == [
        ("alice", "pass the hash")
    ]


def test_only_sessions_a_rule_can_use_reach_python(build_store):
    store = build_store(
        [
            logon("venus", 1.0, "0x5", "bob", ip="10.9.9.9"),
            proc("venus", 1.2, "0x5", PS, WMI),
            # later than methods.yaml's skew (5 s) after bob's payload, which a nearby rule
            # (WmiPrvSE's payload children) would otherwise pair with carol's logon too
            logon("venus", 20.0, "0x6", "carol", ip="10.9.9.8"),
            proc("venus", 20.2, "0x6", SYS32 + "notepad.exe", SYS32 + "svchost.exe"),
            proc("venus", 20.3, "0x6", SYS32 + "whoami.exe", SYS32 + "svchost.exe"),
        ]
    )
    columns, con, table = Columns.of(store), store.connect(), load_methods()
    focus = _focus(columns, table, _nearby(con, columns, table))
    (session,) = session_context(store, focus=focus, con=con).sessions
    assert (session.logon_id, [a.get("Image") for a in session.activity]) == ("0x5", [PS])
    # without a focus every session comes whole, as logon_sessions promises
    assert [len(s.activity) for s in logon_sessions(store)] == [1, 2]
    assert [e.account for e in find_lateral_movement(store)] == ["bob"]


def test_explicit_credentials_for_this_machine_stay_in_the_engine(build_store, monkeypatch):
    """A 4648 naming localhost is no move: only the one naming another host reaches Python."""
    from huntbook.analytics import lateral_movement

    fetched: list[int] = []
    real_rows = lateral_movement.rows

    def counting(con, query):
        found = real_rows(con, query)
        fetched.append(len(found))
        return found

    monkeypatch.setattr(lateral_movement, "rows", counting)
    local = [
        security(4648, "wrk-btun", float(i), TargetServerName="LOCALHOST", TargetUserName="a")
        for i in range(20)
    ]
    remote = security(4648, "wrk-btun", 30.0, TargetServerName="venus$", TargetUserName="admin")
    edges = find_lateral_movement(build_store([*local, remote]))
    assert [(e.source, e.destination, e.method) for e in edges] == [
        ("wrk-btun", "venus", "explicit credentials")
    ]
    assert fetched == [1]
