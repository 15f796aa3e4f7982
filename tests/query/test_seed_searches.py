"""The seed hunt's six searches, verbatim, on a real recording ingested as index botsv2.

The recording is Security-Datasets' Empire WMI lateral movement (../shared/data): WORKSTATION5
(172.18.39.5) logs on to WORKSTATION6 as pgustavo and WmiPrvSE.exe starts an encoded PowerShell
stager in that logon session. Every expectation is computed from the stored events by a plain,
independent reading of spl.md (SQL on the store's ``events`` view plus a ten-line newest-first
transaction), never by running the engine; the issue's named facts are asserted on top.

A faithful detail the Q3 assertions pin (windows-data.md item 7): the stager's Sysmon event and
its 4624 carry the same second, and the Sysmon event was recorded first, so in Splunk's order
(``_time`` then ``_cd``, newest first) it is older than the 4624 and falls outside the session's
transaction. The transaction still finds the pgustavo session (through the later ``whoami``
child, whose parent is the stager); the seed's next search, filled with that session, shows the
``powershell -noP -sta -w 1 -enc`` command line.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from huntbook.ingest import ingest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / ".." / "shared" / "seed" / "wmi-lateral-movement-hunt.md"
RECORDING = "security-datasets/empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip"
SYSMON = "xmlwineventlog:microsoft-windows-sysmon/operational"
STAGER = "powershell -noP -sta -w 1 -enc"

pytestmark = pytest.mark.shared


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def botsv2(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    from huntbook.store import Store

    store = Store(tmp_path_factory.mktemp("seed") / "store")
    ingest(store, [shared_data / RECORDING], index="botsv2")
    return store


@pytest.fixture(scope="module")
def seed() -> dict[str, str]:
    """Title -> SPL of each ```spl block of the seed report, read at test time."""
    if not SEED.is_file():
        pytest.skip("../shared/seed is absent")
    return seed_searches(SEED.read_text(encoding="utf-8"))


def seed_searches(text: str) -> dict[str, str]:
    searches: dict[str, str] = {}
    for match in re.finditer(r"^([^\n]+)\n\n```spl\n(.*?)```", text, re.M | re.S):
        searches[match.group(1).strip()] = match.group(2).strip()
    return searches


def _one(seed: dict[str, str], needle: str) -> str:
    found = [spl for title, spl in seed.items() if needle.lower() in title.lower()]
    assert len(found) == 1, (needle, list(seed))
    return found[0]


def _run(store: Any, spl: str) -> Any:
    from huntbook.query import run_spl

    return run_spl(store, spl)


def _sql(store: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    con = store.connect()
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _utc(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- the six searches -----------------------------------------------------------------------------
def test_seed_has_six_searches(seed: dict[str, str]) -> None:
    assert len(seed) == 6, list(seed)


def test_what_data_do_we_have(botsv2: Any, seed: dict[str, str]) -> None:
    """Q1 (spl.md section 7): one row per sourcetype, times as UTC text, biggest first."""
    expected = _sql(
        botsv2,
        "SELECT sourcetype, min(_time) AS lo, max(_time) AS hi, count(*) AS n FROM events "
        "WHERE lower(\"index\") = 'botsv2' GROUP BY sourcetype ORDER BY n DESC",
    )
    rows = _run(botsv2, _one(seed, "What Data")).rows()
    assert [r["sourcetype"] for r in rows] == [e["sourcetype"] for e in expected]
    for row, exp in zip(rows, expected, strict=True):
        assert int(row["totalCount"]) == exp["n"]
        assert row["firstTime"] == _utc(int(exp["lo"]))
        assert row["lastTime"] == _utc(int(exp["hi"]))
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["recentTime"])
        assert row["type"] == "sourcetypes"


# Raw SQL reads Sysmon's ``User`` through COLUMNS(regex): the store keeps a field that differs from
# another only in case (the CIM ``user``) in a column ``<name>~<n>`` (Store.columns()).
def test_wmi_process_execution(botsv2: Any, seed: dict[str, str]) -> None:
    """Q2 as the seed writes it: whole-value, case-insensitive matches after unescaping.

    This recording's WmiPrvSE parent command line ends in ``-k DcomLaunch -p``, so the seed's
    ``ParentCommandLine="...-k DcomLaunch"`` matches nothing: the faithful answer is no rows.
    """
    expected = _sql(
        botsv2,
        "SELECT _time FROM events WHERE lower(\"index\") = 'botsv2' AND lower(sourcetype) = ? "
        "AND EventCode = '1' AND lower(ParentImage) = lower(?) "
        "AND lower(CurrentDirectory) = lower(?) AND lower(CommandLine) = lower(?) "
        "AND lower(ParentCommandLine) = lower(?) "
        "AND lower(COLUMNS('^User(~[0-9]+)?$')) = lower(?) "
        "AND lower(Image) = lower(?) ORDER BY _time DESC, _cd DESC",
        [
            SYSMON,
            "C:\\Windows\\System32\\svchost.exe",
            "C:\\Windows\\system32\\",
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
            "C:\\Windows\\system32\\svchost.exe -k DcomLaunch",
            "NT AUTHORITY\\NETWORK SERVICE",
            "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        ],
    )
    result = _run(botsv2, _one(seed, "WMI Process Execution"))
    assert result.columns == [
        "_time",
        "host",
        "User",
        "ParentImage",
        "ParentCommandLine",
        "Image",
        "CommandLine",
    ]
    assert [r["_time"] for r in result.rows()] == [e["_time"] for e in expected]


def test_spl_md_q2_finds_the_wmiprvse_start(botsv2: Any) -> None:
    """spl.md's Q2 (without the parent command line): the one WmiPrvSE start on WORKSTATION6."""
    spl = (
        'index=botsv2 sourcetype="xmlwineventlog:microsoft-windows-sysmon/operational" EventCode=1 '
        'ParentImage="C:\\\\Windows\\\\System32\\\\svchost.exe" '
        'CurrentDirectory="C:\\\\Windows\\\\system32\\\\" '
        'CommandLine="C:\\\\Windows\\\\system32\\\\wbem\\\\wmiprvse.exe -secured -Embedding" '
        'User="NT AUTHORITY\\\\NETWORK SERVICE" | table _time, host, User, ParentImage, CommandLine'
    )
    rows = _run(botsv2, spl).rows()
    assert [(r["host"], r["User"]) for r in rows] == [
        ("WORKSTATION6", "NT AUTHORITY\\NETWORK SERVICE")
    ]
    assert rows[0]["CommandLine"].lower().endswith("wmiprvse.exe -secured -embedding")


def test_wmi_network_connection(botsv2: Any, seed: dict[str, str]) -> None:
    expected = _sql(
        botsv2,
        "SELECT _time, RecordNumber FROM events WHERE lower(\"index\") = 'botsv2' "
        "AND lower(sourcetype) = ? "
        "AND EventCode = '3' AND lower(Image) = lower(?) "
        "AND lower(COLUMNS('^User(~[0-9]+)?$')) = lower(?) "
        "ORDER BY _time DESC, _cd DESC",
        [SYSMON, "C:\\Windows\\System32\\svchost.exe", "NT AUTHORITY\\NETWORK SERVICE"],
    )
    assert expected, "the recording has Sysmon 3 events of svchost as NETWORK SERVICE"
    rows = _run(botsv2, _one(seed, "WMI Network Connection")).rows()
    assert [(r["_time"], r["RecordNumber"]) for r in rows] == [
        (e["_time"], e["RecordNumber"]) for e in expected
    ]


def test_wmi_parent_command_line(botsv2: Any, seed: dict[str, str]) -> None:
    """The stager's parent command line here is ``...wmiprvse.exe`` alone: a whole-value miss."""
    expected = _sql(
        botsv2,
        "SELECT _time FROM events WHERE lower(\"index\") = 'botsv2' AND lower(sourcetype) = ? "
        "AND lower(ParentCommandLine) = lower(?) ORDER BY _time DESC, _cd DESC",
        [SYSMON, "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"],
    )
    result = _run(botsv2, _one(seed, "Parent Command-Line"))
    assert result.columns == [
        "_time",
        "user",
        "host",
        "ProcessId",
        "ParentProcessId",
        "CommandLine",
        "ParentCommandLine",
    ]
    assert [r["_time"] for r in result.rows()] == [e["_time"] for e in expected]


# --- Q3 and Q4 ------------------------------------------------------------------------------------
Q3_BASE = (
    "SELECT _time, _cd, EventCode, host, dest, Security_ID[2] AS user_id, ParentImage, Image, "
    "CommandLine, lower(coalesce(Logon_ID[2], LogonId)) AS session FROM events "
    "WHERE lower(\"index\") = 'botsv2' AND ((lower(sourcetype) = 'wineventlog' "
    "AND EventCode = '4624' AND Logon_Type = '3') OR (lower(sourcetype) = ? AND EventCode = '1')) "
    "ORDER BY _time DESC, _cd DESC"
)


def _merged(members: list[dict[str, Any]], field: str) -> Any:
    values = sorted({m[field] for m in members if m[field] is not None})
    return values[0] if len(values) == 1 else values


def oracle_q3(store: Any) -> list[dict[str, Any]]:
    """spl.md 3.2-3.5 plainly: newest first, a 4624 closes its session, unclosed groups drop."""
    open_txns: dict[str, list[dict[str, Any]]] = {}
    closed: list[list[dict[str, Any]]] = []
    for row in _sql(store, Q3_BASE, [SYSMON]):
        txn = open_txns.setdefault(row["session"], [])
        txn.append(row)
        if row["EventCode"] == "4624":
            closed.append(open_txns.pop(row["session"]))
    out = []
    for txn in closed:
        members = txn[::-1]  # oldest first: the mvlist order (spl.md 3.4)
        if len(members) < 2:
            continue
        parents = ["NULL" if m["ParentImage"] is None else m["ParentImage"] for m in members]
        out.append(
            {
                "_time": members[0]["_time"],
                "dest": _merged(members, "dest"),
                "session": members[0]["session"],
                "host": _merged(members, "host"),
                "user_id": _merged(members, "user_id"),
                "Parent_Process": parents[1],
                "Image": _merged(members, "Image"),
                "CommandLine": _merged(members, "CommandLine"),
            }
        )
    return sorted(out, key=lambda r: -r["_time"])


@pytest.fixture(scope="module")
def q3_rows(botsv2: Any, seed: dict[str, str]) -> list[dict[str, Any]]:
    return _run(botsv2, _one(seed, "Network 4624")).rows()


def test_transaction_search_matches_faithful_reading(botsv2: Any, q3_rows: list[dict]) -> None:
    expected = oracle_q3(botsv2)
    assert expected, "the recording has a network logon followed by process creations"
    actual = [{k: _single(r.get(k)) for k in expected[0]} for r in q3_rows]
    assert actual == expected


def test_transaction_search_finds_pgustavo_session(botsv2: Any, q3_rows: list[dict]) -> None:
    sid = _sql(
        botsv2,
        "SELECT DISTINCT Security_ID[2] AS sid FROM events WHERE EventCode = '4624' "
        "AND Account_Name[2] = 'pgustavo' AND host = 'WORKSTATION6'",
    )
    assert len(sid) == 1
    hits = [r for r in q3_rows if _single(r["host"]) == "WORKSTATION6"]
    assert len(hits) == 1
    row = hits[0]
    assert row["session"] == "0x32c5cb5"
    assert _single(row["user_id"]) == sid[0]["sid"]
    # Sysmon's UtcTime (ms) puts the stager 0.831 s after the 4624 (whole seconds), so the
    # startswith transaction holds it: ParentImage[1] is WmiPrvSE, the stager is a CommandLine.
    assert _single(row["Parent_Process"]).lower().endswith("\\wmiprvse.exe")
    command_lines = (
        row["CommandLine"] if isinstance(row["CommandLine"], list) else [row["CommandLine"]]
    )
    assert any("powershell -nop -sta -w 1 -enc" in c.lower() for c in command_lines)
    assert any(c.lower().endswith('whoami.exe"') for c in command_lines)


def test_all_events_for_host_by_logon_id(
    botsv2: Any, seed: dict[str, str], q3_rows: list[dict]
) -> None:
    """Q4 with the placeholders filled from the transaction row: the session, oldest first."""
    row = next(r for r in q3_rows if _single(r["host"]) == "WORKSTATION6")
    login, host = row["session"], _single(row["host"])
    spl = _one(seed, "Logon ID").replace("<login_id>", login).replace("<host>", host)
    expected = _sql(
        botsv2,
        "SELECT _time, EventCode FROM events WHERE lower(\"index\") = 'botsv2' "
        "AND lower(host) = lower(?) "
        "AND (list_contains(list_transform(Logon_ID, lambda x: lower(x)), lower(?)) "
        "OR lower(LogonId) = lower(?)) ORDER BY _time, _cd",
        [host, login, login],
    )
    result = _run(botsv2, spl)
    assert result.columns == [
        "_time",
        "EventCode",
        "TaskCategory",
        "Account_Name",
        "Security_ID",
        "ParentImage",
        "ParentCommandLine",
        "Process_Command_Line",
        "CommandLine",
    ]
    rows = result.rows()
    assert [(r["_time"], r["EventCode"]) for r in rows] == [
        (e["_time"], e["EventCode"]) for e in expected
    ]
    commands = [r["CommandLine"] for r in rows if r.get("CommandLine")]
    assert all(len(c) <= 74 for c in commands)
    assert any(STAGER in c for c in commands)
    assert any(STAGER in (r.get("Process_Command_Line") or "") for r in rows)
    logons = [r for r in rows if r["EventCode"] == "4624"]
    assert logons and all("pgustavo" in r["Account_Name"] for r in logons)
