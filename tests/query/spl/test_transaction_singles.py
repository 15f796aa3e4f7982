"""transaction's one-member path (spl.md §3): with maxevents, a transaction of one member is
projected from its row beside the aggregation of the others (UNION ALL). Both sides must give
the values the aggregation alone gives (maxevents=0 compiles without the split)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from huntbook.query import compile_spl, run_spl
from huntbook.store.testing import make_store

NOW = 1500000100.0
SCHEMA = {"_time": "double", "_cd": "bigint", "_raw": "text", "s": "text", "EventCode": "text"}
FIELDS = "_time s eventcount duration closed_txn field_match_sum ParentImage Image Logon_ID _raw"


def _ev(t: int, **fields: Any) -> dict[str, Any]:
    event = {"_time": float(t), "index": "main", "host": "h1", "source": "x", "sourcetype": "st"}
    event.update(fields)
    event.setdefault("_raw", f"t={t}")
    return event


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Any:
    events = [
        # a: a start nothing follows, a multivalue field, no Image, no ParentImage
        _ev(100, s="a", EventCode="4624", Logon_ID=["0xA", "0x0", "0xA"]),
        # b: a start and two children
        _ev(200, s="b", EventCode="4624", Logon_ID=["0xB"]),
        _ev(210, s="b", EventCode="1", ParentImage="p1", Image="x.exe"),
        _ev(220, s="b", EventCode="1", ParentImage="p2", Image="a.exe"),
        # c: members before any start (never closed but by a full maxevents chunk)
        _ev(300, s="c", EventCode="1", ParentImage="c1", Image="c.exe"),
        _ev(310, s="c", EventCode="1", Image="c.exe"),
        _ev(320, s="c", EventCode="1", ParentImage="c3"),
        # d: a start, then a child; e: a lone start without _raw
        _ev(400, s="d", EventCode="4624"),
        _ev(410, s="d", EventCode="1", ParentImage="d1", Image="d.exe"),
        _ev(500, s="e", EventCode="4624", _raw=None),
    ]
    return make_store(tmp_path_factory.mktemp("txn-singles") / "store", events)


def _rows(store: Any, spl: str) -> list[dict[str, Any]]:
    return run_spl(store, spl, now=NOW).rows()


def _txn(options: str, after: str = "") -> str:
    return (
        f"* | transaction s startswith=(EventCode=4624) mvlist=ParentImage {options} {after}"
        f"| table {FIELDS}"
    )


def test_one_member_transactions_take_their_own_path() -> None:
    """The compiled transaction has the one-member branch; without maxevents it has not."""
    split = compile_spl(_txn("maxevents=1000"), SCHEMA, now=NOW).sql()
    whole = compile_spl(_txn("maxevents=0"), SCHEMA, now=NOW).sql()
    assert "UNION ALL" in split
    assert "UNION ALL" not in whole


@pytest.mark.parametrize("after", ["", "| search eventcount>1 ", "| search eventcount=1 "])
@pytest.mark.parametrize("keep", ["false", "true"])
def test_one_member_path_gives_the_aggregated_values(sessions: Any, after: str, keep: str) -> None:
    """No chunk is split here (maxevents=1000), so maxevents=0 (aggregation only) must agree
    on every field: lists, sorted sets, mvlist with NULL, _raw, duration, closed_txn."""
    split = _rows(sessions, _txn(f"maxevents=1000 keepevicted={keep}", after))
    whole = _rows(sessions, _txn(f"maxevents=0 keepevicted={keep}", after))
    assert split == whole
    assert split  # each variant keeps some transactions


def test_one_member_values(sessions: Any) -> None:
    rows = {r["s"]: r for r in _rows(sessions, _txn("keepevicted=true"))}
    assert rows["a"] == {
        "_time": 100.0,
        "s": "a",
        "eventcount": 1,
        "duration": 0,
        "closed_txn": 1,
        "field_match_sum": 1,
        "ParentImage": "NULL",
        "Image": None,
        "Logon_ID": ["0x0", "0xA"],
        "_raw": "t=100",
    }
    assert rows["e"]["_raw"] is None
    assert rows["b"]["eventcount"] == 3
    assert rows["b"]["ParentImage"] == ["NULL", "p1", "p2"]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (
            "",
            [
                (500, "e", 1, 1),
                (400, "d", 2, 1),
                (310, "c", 2, 1),  # a full chunk (maxevents members) is closed
                (300, "c", 1, 0),  # its older rest: one member, never closed
                (210, "b", 2, 1),  # the newer chunk of b (split off: full, closed)
                (200, "b", 1, 1),  # b's start alone in the last chunk
                (100, "a", 1, 1),
            ],
        ),
        ("| search eventcount>1 ", [(400, "d", 2, 1), (310, "c", 2, 1), (210, "b", 2, 1)]),
    ],
)
def test_maxevents_chunks_mix_both_paths(sessions: Any, after: str, expected: list[Any]) -> None:
    rows = _rows(sessions, _txn("maxevents=2 keepevicted=true", after))
    got = [(int(r["_time"]), r["s"], r["eventcount"], r["closed_txn"]) for r in rows]
    assert got == expected


def test_maxevents_one_makes_every_event_a_closed_transaction(sessions: Any) -> None:
    rows = _rows(sessions, _txn("maxevents=1"))
    assert [(int(r["_time"]), r["eventcount"], r["closed_txn"]) for r in rows] == [
        (t, 1, 1) for t in (500, 410, 400, 320, 310, 300, 220, 210, 200, 100)
    ]


def test_unclosed_one_member_rest_is_dropped_without_keepevicted(sessions: Any) -> None:
    rows = _rows(sessions, _txn("maxevents=2"))
    assert ("c", 300.0) not in [(r["s"], r["_time"]) for r in rows]
    assert len(rows) == 6


def test_one_member_path_keeps_null_fields_null(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", [_ev(10, s="z", EventCode="4624", _raw="r")])
    (row,) = _rows(store, "* | transaction s startswith=(EventCode=4624) | table s Image dest")
    assert row == {"s": "z", "Image": None, "dest": None}


def _windows(spl: str, dialect: str = "duckdb") -> set[str]:
    """The distinct window specifications (each one sort) the compiled search uses."""
    sql = compile_spl(spl, SCHEMA, now=NOW).sql(dialect)
    spec = r"OVER \(((?:PARTITION BY (?:[^()]|\([^()]*\))*?)?ORDER BY [^)]*?)(?: ROWS [^)]*)?\)"
    return set(re.findall(spec, sql))


@pytest.mark.parametrize("option", ["startswith=(EventCode=4624)", "endswith=(EventCode=4634)"])
def test_startswith_or_endswith_sorts_the_members_once(option: str) -> None:
    """The chunk numbers come from the segment window's row numbers (a GROUP BY joined back),
    not from a second window over each piece."""
    assert len(_windows(f"* | transaction s {option} maxevents=2 | table s eventcount")) == 1


@pytest.mark.parametrize("option", ["startswith=(EventCode=4624)", "endswith=(EventCode=4634)"])
def test_segment_window_is_hash_buckets_on_duckdb_and_per_key_on_spark(option: str) -> None:
    """DuckDB numbers the segments over a few hash buckets ordered by the key first (a partition
    per key cost more than the sort at 10M events); Spark, where a partition is a task,
    partitions by the key."""
    spl = f"* | transaction s {option} maxevents=2 | table s eventcount"
    (duck,) = _windows(spl)
    (spark,) = _windows(spl, "spark")
    assert duck.startswith('PARTITION BY HASH("__k0") % 16 ORDER BY "__k0" ASC, "_time"')
    assert spark.startswith("PARTITION BY `__k0` ORDER BY `_time`")


@pytest.fixture(scope="module")
def interleaved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Three keys whose members interleave in time, each with members before its first start."""
    events = []
    for i, t in enumerate(range(10, 130, 10)):
        for key, offset in (("x", 0), ("y", 1), ("z", 2)):
            start = i in (2, 5) if key != "z" else i == 7
            events.append(_ev(t + offset, s=key, EventCode="4624" if start else "1"))
    return make_store(tmp_path_factory.mktemp("txn-interleaved") / "store", events)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # x and y: starts at 30 and 60 (+offset), members up to 120; z: one start at 80
        (
            "maxevents=3",
            [
                (102, "z", 3, 1),  # z's newest three members: a full chunk, closed
                (100, "x", 3, 1),
                (101, "y", 3, 1),
                (82, "z", 2, 1),  # z's start and the member after it
                (70, "x", 3, 1),  # 70, 80, 90: full chunk
                (71, "y", 3, 1),
                (60, "x", 1, 1),  # the start alone in its piece's oldest chunk
                (61, "y", 1, 1),
                (30, "x", 3, 1),  # 30-50: start and two members
                (31, "y", 3, 1),
                # z's seven members before its start, in chunks from the newest: 52-72 and
                # 22-42 are full (closed), 12 alone is never closed and is dropped
                (52, "z", 3, 1),
                (22, "z", 3, 1),
            ],
        ),
        # whole segments; every key's members before its first start are never closed
        (
            "maxevents=0",
            [(82, "z", 5, 1), (60, "x", 7, 1), (61, "y", 7, 1), (30, "x", 3, 1), (31, "y", 3, 1)],
        ),
    ],
)
def test_interleaved_keys_number_their_own_members(
    interleaved: Any, options: str, expected: list[Any]
) -> None:
    txn = f"transaction s startswith=(EventCode=4624) {options}"
    rows = _rows(interleaved, f"* | {txn} | table _time s eventcount closed_txn")
    got = [(int(r["_time"]), r["s"], r["eventcount"], r["closed_txn"]) for r in rows]
    assert sorted(got) == sorted(expected)


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> Any:
    events = [_ev(t, s="u", EventCode="4634" if t == 40 else "1") for t in (10, 20, 30, 40)]
    events += [_ev(t, s="u", EventCode="1") for t in (50, 60)]
    return make_store(tmp_path_factory.mktemp("txn-ended") / "store", events)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # the end at 40 closes 10-40; 50-60 follow the last end: closed only as a full chunk
        ("maxevents=2", [(50, 2, 1), (30, 2, 1), (10, 2, 1)]),
        ("maxevents=3", [(20, 3, 1)]),
        ("maxevents=3 keepevicted=true", [(50, 2, 0), (20, 3, 1), (10, 1, 0)]),
    ],
)
def test_endswith_chunks_count_from_the_newest(
    ended: Any, options: str, expected: list[Any]
) -> None:
    spl = (
        f"* | transaction s endswith=(EventCode=4634) {options} | table _time eventcount closed_txn"
    )
    rows = _rows(ended, spl)
    assert [(int(r["_time"]), r["eventcount"], r["closed_txn"]) for r in rows] == expected
