"""The store contract (docs/architecture.md section 2), on hand-made events."""

from __future__ import annotations

from pathlib import Path

import pytest

from huntbook.errors import StoreError
from huntbook.store import Store
from huntbook.store.testing import make_store

EVENTS = [
    {
        "_time": 10.5,
        "_raw": "r1",
        "index": "main",
        "host": "ws6",
        "source": "WinEventLog:Security",
        "sourcetype": "WinEventLog",
        "EventCode": 4624,
        "Logon_ID": ["0x0", "0x32C5CB5"],
        "Logon_Type": "3",
    },
    {
        "_time": 10.5,
        "_raw": "r2",
        "index": "main",
        "host": "ws6",
        "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        "sourcetype": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        "EventCode": "1",
        "LogonId": "0x32c5cb5",
        "Logon_ID": "0x9",
        "Empty": "",
    },
]


def test_make_store_round_trip_with_types(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", EVENTS)
    con = store.connect()
    rows = con.execute(
        "SELECT _time, _cd, EventCode, Logon_ID, Logon_Type, LogonId FROM events ORDER BY _cd"
    ).fetchall()
    assert rows == [
        (10.5, 0, "4624", ["0x0", "0x32C5CB5"], "3", None),
        (10.5, 1, "1", ["0x9"], None, "0x32c5cb5"),
    ]
    fields = store.fields()
    assert fields["_time"] == "double" and fields["_cd"] == "bigint"
    assert fields["Logon_ID"] == "list" and fields["EventCode"] == "text"
    assert "Empty" not in fields


def test_empty_store_has_core_columns(tmp_path: Path) -> None:
    store = make_store(tmp_path / "nothing", [])
    con = store.connect()
    cols = [d[0] for d in con.execute("SELECT * FROM events").description]
    assert cols[:3] == ["_time", "_cd", "_raw"] and "sourcetype" in cols
    assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert store.stats() == []


def test_cd_increases_across_batches(tmp_path: Path) -> None:
    store = make_store(tmp_path, EVENTS)
    make_store(tmp_path, [{"_time": 1.0, "index": "other", "sourcetype": "x", "Foo": "bar"}])
    cds = [r[0] for r in store.connect().execute("SELECT _cd FROM events ORDER BY _cd").fetchall()]
    assert cds == [0, 1, 2]
    assert store.fields(index="other") == {**store.fields(index="other"), "Foo": "text"}
    assert "Foo" not in store.fields(index="main")
    assert set(store.catalog()) == {"main", "other"}


def test_case_variants_are_kept_apart(tmp_path: Path) -> None:
    """Splunk names are case-sensitive, DuckDB's are not: a variant gets a column of its own."""
    store = make_store(tmp_path, [{"_time": 1, "User": "NT AUTHORITY\\SYSTEM"}])
    make_store(tmp_path, [{"_time": 2, "user": "bob", "User": "DOM\\bob"}])
    assert store.fields()["User"] == store.fields()["user"] == "text"
    assert store.columns() == {"user": "user~1"}
    got = store.connect().execute('SELECT User, "user~1" FROM events ORDER BY _time').fetchall()
    assert got == [("NT AUTHORITY\\SYSTEM", None), ("DOM\\bob", "bob")]


def test_the_owner_of_a_column_does_not_depend_on_ingest_order(tmp_path: Path) -> None:
    """mappings/columns.yaml: Sysmon's ``User`` owns its column even if CIM ``user`` came first."""
    store = make_store(tmp_path, [{"_time": 1, "user": "bob"}])
    make_store(tmp_path, [{"_time": 2, "User": "DOM\\bob"}])
    assert store.columns() == {"user": "user~1"}
    got = store.connect().execute('SELECT User, "user~1" FROM events ORDER BY _time').fetchall()
    assert got == [(None, "bob"), ("DOM\\bob", None)]


def test_undeclared_list_is_rejected_and_nothing_is_kept(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not declared multivalue"):
        make_store(tmp_path, [EVENTS[0], {"_time": 1, "Image": ["a", "b"]}])
    store = Store(tmp_path)
    assert store.manifest()["batches"] == []
    assert store.connect().execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert not any((tmp_path / "tmp").glob("*"))


def test_stats_counts_and_times(tmp_path: Path) -> None:
    store = make_store(tmp_path, [*EVENTS, {**EVENTS[0], "_time": 1503458476.0}])
    stats = {r["sourcetype"]: r for r in store.stats()}
    assert stats["WinEventLog"]["count"] == 2
    assert stats["WinEventLog"]["first_time"] == "1970-01-01T00:00:10.500000Z"
    assert stats["WinEventLog"]["last_time"] == "2017-08-23T03:21:16Z"


def test_leftovers_of_a_crashed_writer_are_cleared(tmp_path: Path) -> None:
    store = make_store(tmp_path, EVENTS)
    (tmp_path / "tmp" / "b000009").mkdir(parents=True)
    orphan = tmp_path / "events" / "b000002"
    orphan.mkdir()
    (orphan / "part-00000.parquet").write_bytes(b"half")
    with store.writing():
        pass
    assert not orphan.exists() and not (tmp_path / "tmp").exists()
    assert store.connect().execute("SELECT count(*) FROM events").fetchone() == (2,)
