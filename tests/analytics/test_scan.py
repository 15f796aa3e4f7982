"""The one-pass scan (analytics/scan.py): the analytics on a scanned store give what they give on
the plain store, from a table holding only the events they can use."""

from __future__ import annotations

import base64

import duckdb
import pytest
from sqlglot import exp

from huntbook.analytics import find_lateral_movement, powershell_findings, visibility
from huntbook.analytics._sql import Columns, Keys, code_in, matching
from huntbook.analytics.scan import KEYS, NEEDED, scan
from huntbook.analytics.sessions import activity_filter
from huntbook.hunts.findings import findings_for, to_jsonable
from huntbook.store import Store
from huntbook.store.testing import make_store

from .conftest import logon, outbound, proc, security, system

SYS32 = "C:\\Windows\\System32\\"
WMI = SYS32 + "wbem\\WmiPrvSE.exe"
PS = SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"
NEEDS = ("Authentication Logs", "Netflow", "Process Monitoring", "Process Command-Line Parameters")


def enc(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


def _events() -> list[dict]:
    """A WMI move with an encoded stager, drowned in ordinary process starts and logons (the
    WMI host's own ``-Embedding`` starts mention ``-e`` without being PowerShell)."""
    noise = [
        proc(f"wrk-{i % 3}", float(i), "0x3e7", WMI, SYS32 + "svchost.exe", f"{WMI} -Embedding")
        for i in range(30)
    ]
    noise += [logon("venus", 100.0 + i, f"0x9{i}", "svc", ip="10.0.2.99") for i in range(5)]
    stager = f"powershell -noP -w 1 -enc {enc('whoami')}"
    move = [
        outbound("wrk-btun", 200.5, "10.0.2.15", "10.0.1.7"),
        logon("venus", 201.0, "0x51", "service", ip="10.0.2.15"),
        proc("venus", 202.0, "0x51", PS, WMI, stager, user="FROTHLY\\service"),
    ]
    return noise + move


def _findings(store) -> dict:
    return to_jsonable(
        {
            "lateral_movement": find_lateral_movement(store),
            "powershell": powershell_findings(store),
            "visibility": visibility(store, NEEDS),
        }
    )


def test_scanned_store_gives_the_plain_findings(build_store):
    store = build_store(_events())
    plain, scanned = _findings(store), _findings(scan(store))
    assert scanned == plain
    assert [(e["source"], e["destination"], e["method"]) for e in plain["lateral_movement"]] == [
        ("wrk-btun", "venus", "WMI")
    ]
    assert plain["powershell"][0]["script"] == "whoami"


def test_only_usable_events_are_kept(build_store):
    """The connection and the stager: not the 30 plain ``-Embedding`` starts, which
    PowerShell's ``-e`` hint lets through but which cannot decode, nor the network logons (read
    from the events as join partners, so the table does not grow with the store)."""
    con = scan(build_store(_events())).connect()
    kept = con.execute(f'SELECT "EventCode", count(*) FROM {NEEDED} GROUP BY 1 ORDER BY 1')
    assert kept.fetchall() == [("1", 1), ("3", 1)]


def test_filters_run_once_per_distinct_combination(build_store):
    """The key table has a row per distinct combination of the values the filters read: never a
    column unique to each event, so it does not grow with the events."""
    con = scan(build_store(_events())).connect()
    columns = {row[0] for row in con.execute(f"DESCRIBE {KEYS}").fetchall()}
    assert not columns & {"_time", "_cd", "_raw", "Message", "LogonId", "TargetLogonId"}
    assert con.execute(f"SELECT count(*) FROM {KEYS}").fetchone()[0] < len(_events())


def test_engine_events_keep_their_message(build_store):
    """An engine event's HostApplication may come from its rendered message: the scan keeps
    ``Message`` for those events (only), so the finding is the same."""
    line = f"C:\\Windows\\System32\\powershell.exe -noP -sta -w 1 -enc {enc('whoami')}"
    message = "Details:\r\n\tHostApplication={}\r\n\tEngine=5"
    events = [security(800, "wrk-btun", float(i), Message=message.format(line)) for i in range(3)]
    events.append(system(7036, "wrk-btun", 5.0, Message="The service entered the running state."))
    store = build_store(events)
    scanned = scan(store)
    assert to_jsonable(powershell_findings(scanned)) == to_jsonable(powershell_findings(store))
    (finding,) = powershell_findings(scanned)
    assert (finding.script, finding.events) == ("whoami", 3)
    kept = scanned.connect().execute(f'SELECT "EventCode", "Message" IS NULL FROM {NEEDED}')
    assert sorted(kept.fetchall()) == [("800", False)] * 3


def test_message_not_read_without_engine_events(build_store):
    store = build_store([*_events(), security(4688, "venus", 9.0, Message="A new process")])
    con = scan(store).connect()
    assert con.execute(f'SELECT count("Message") FROM {NEEDED}').fetchone()[0] == 0


def test_rdp_logon_rules_read_the_scanned_logons(build_store):
    """A logon a logon rule matches (RDP, type 10) is kept by the scan and its edge drawn; the
    address book counts every logon naming its source, from the key table's counts."""
    events = [
        logon(
            "venus", 10.0, "0x77", "alice", ip="10.0.2.15", workstation="WRK-BTUN", logon_type="10"
        ),
        *[
            logon("venus", 20.0 + i, f"0x8{i}", "svc", ip="10.0.2.15", workstation="WRK-BTUN")
            for i in range(3)
        ],
    ]
    store = build_store(events)
    scanned = scan(store)
    assert _findings(scanned) == _findings(store)
    assert [(e.source, e.method) for e in find_lateral_movement(scanned)] == [("WRK-BTUN", "RDP")]
    kept = scanned.connect().execute(f'SELECT "_cd" FROM {NEEDED}').fetchall()
    assert len(kept) == 1


def test_evidence_is_named_on_the_scan_s_connection(tmp_path, monkeypatch):
    """The findings read the evidence's records on the connection the scan opened (one
    connection over the store's files, not two), and close it."""
    events = [{**e, "EventRecordID": str(5000 + i)} for i, e in enumerate(_events())]
    store = make_store(tmp_path / "moves", events)
    opened = []
    connect = Store.connect

    def counted(self):
        opened.append(connect(self))
        return opened[-1]

    monkeypatch.setattr(Store, "connect", counted)
    found = findings_for(store)
    assert len(opened) == 1
    evidence = [e for edge in found["lateral_movement"] for e in edge["evidence"]]
    assert [e["EventCode"] for e in evidence] == ["4624", "1"]  # the logon, the process
    assert [e["record"] for e in evidence] == [str(5000 + e["_cd"]) for e in evidence]
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("SELECT 1")


def _cds(con, where):
    query = exp.select("_cd").from_(NEEDED).where(where).order_by("_cd")
    return [r[0] for r in con.execute(query.sql(dialect="duckdb")).fetchall()]


def test_a_filter_is_tested_once_per_combination(build_store):
    """A filter on the needed events is tested on the key table (a row per combination) and the
    events picked by their combination's hash: the events the filter itself keeps."""
    scanned = scan(build_store(_events()))
    con, columns = scanned.connect(), Columns.of(scanned)
    where = activity_filter(columns)
    keyed = matching(con, columns, where)
    assert isinstance(keyed, exp.In)  # hashes, no filter left to run on the events
    assert _cds(con, keyed) == _cds(con, where) == [37]  # the stager
    none = code_in(columns, ["4697"])
    assert _cds(con, matching(con, columns, none)) == _cds(con, none) == []


def test_a_filter_the_combinations_cannot_tell_runs_on_the_events(build_store):
    """A filter reading a column beyond the combinations (``_time``), or on a store the scan did
    not key, is left as it is."""
    scanned = scan(build_store(_events()))
    con, columns = scanned.connect(), Columns.of(scanned)
    late = exp.GT(this=exp.column("_time"), expression=exp.Literal.number(200))
    assert matching(con, columns, late) is late
    plain = Columns(scanned.fields(), scanned.columns(), NEEDED)
    where = activity_filter(plain)
    assert matching(con, plain, where) is where


def test_a_hash_some_combinations_pass_and_others_fail_runs_the_filter_on_the_events():
    """When combinations of one hash disagree (a collision: here a filter that is not a function
    of the combination stands in for it), the events are tested themselves."""
    con = duckdb.connect()
    con.execute("CREATE TABLE combos AS SELECT 'x' AS a FROM range(200)")
    con.execute("CREATE TABLE events_of AS SELECT 'x' AS a, hash('x') AS h")
    columns = Columns({"a": "text"}, table="events_of", keys=Keys("combos", ("a",), "h"))
    coin = exp.LT(this=exp.func("random"), expression=exp.Literal.number(0.5))
    assert matching(con, columns, coin) is coin
