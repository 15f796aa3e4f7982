"""Engine semantics on hand-made stores: each test names the spl.md rule it pins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huntbook.query import run_spl
from huntbook.store.testing import make_store

NOW = 1500000100.0


def _ev(t: int, **fields: Any) -> dict[str, Any]:
    event = {"_time": float(t), "index": "main", "host": "h1", "source": "s", "sourcetype": "st"}
    event.update(fields)
    event.setdefault("_raw", " ".join(f"{k}={v}" for k, v in fields.items()))
    return event


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    events = [
        _ev(
            1500000001,
            user="Alice",
            status="200",
            Logon_ID=["0x0", "0x3E7"],
            path="C:\\Windows\\x.exe",
        ),
        _ev(1500000002, user="bob", status="404", Logon_ID=["0x0", "0x1A"]),
        _ev(1500000003, user="ALICE", status="1.0", code="9"),
        _ev(1500000004, status="30", _raw="an error happened: status=30"),
        _ev(1500000005, user="carol", status="10"),
    ]
    return make_store(tmp_path_factory.mktemp("sem") / "store", events)


def _times(store: Any, spl: str) -> list[int]:
    return [int(r["_time"]) for r in run_spl(store, spl, now=NOW).rows()]


def _rows(store: Any, spl: str) -> list[dict[str, Any]]:
    return run_spl(store, spl, now=NOW).rows()


def test_values_case_insensitive_field_whole_value_spl_md_1_4(store: Any) -> None:
    assert _times(store, "user=alice") == [1500000003, 1500000001]
    assert _times(store, "user=ali") == []


def test_wildcards_in_values_spl_md_1_4(store: Any) -> None:
    assert _times(store, "user=AL*") == [1500000003, 1500000001]
    assert _times(store, "status=*") == [1500000005, 1500000004, 1500000003, 1500000002, 1500000001]


def test_ne_needs_the_field_not_does_not_spl_md_1_6(store: Any) -> None:
    """spl.md §1.6: `user!=bob` skips events without user; `NOT user=bob` keeps them."""
    assert _times(store, "user!=bob") == [1500000005, 1500000003, 1500000001]
    assert _times(store, "NOT user=bob") == [1500000005, 1500000004, 1500000003, 1500000001]


def test_multivalue_any_value_matches_spl_md_1_7(store: Any) -> None:
    assert _times(store, "Logon_ID=0x3e7") == [1500000001]
    assert _times(store, "Logon_ID=0x0") == [1500000002, 1500000001]


def test_equals_is_string_compare_spl_md_1_4(store: Any) -> None:
    """spl.md §1.4: `=` compares strings, so status=1 does not match "1.0"."""
    assert _times(store, "status=1") == []
    assert _times(store, "status=1.0") == [1500000003]


def test_less_greater_numeric_when_both_numbers_spl_md_1_4(store: Any) -> None:
    """spl.md §1.4: `status>100` is numeric ("30" < 100 although "30" > "100" as text)."""
    assert _times(store, "status>100") == [1500000002, 1500000001]


def test_in_is_an_or_of_equalities_spl_md_1_4(store: Any) -> None:
    assert _times(store, "user IN (bob, CAROL)") == [1500000005, 1500000002]


def test_search_or_binds_tighter_than_and_spl_md_1_2(store: Any) -> None:
    """spl.md §1.2: `a b OR c` is `a AND (b OR c)`."""
    assert _times(store, "user=bob status=200 OR status=404") == [1500000002]


def test_where_and_binds_tighter_than_or_spl_md_2_2(store: Any) -> None:
    spl = '* | where user="bob" AND status="200" OR status="10"'
    assert _times(store, spl) == [1500000005]


def test_bare_terms_match_raw_tokens_case_insensitively_spl_md_1_3(store: Any) -> None:
    """spl.md §1.3 (approximation): a term is a whole token of _raw, any case."""
    assert _times(store, "ERROR") == [1500000004]
    assert _times(store, "err") == []
    assert _times(store, "err*") == [1500000004]


def test_earliest_latest_relative_snapped_spl_md_1_1() -> None:
    """spl.md §1.1: earliest=-1h@h snaps to the hour before the offset."""
    from huntbook.query.spl.compiler.timeutil import parse_time

    now = 1500003723.0  # 2017-07-14 03:42:03 UTC
    assert parse_time("-1h@h", now) == 1499997600.0  # 02:42:03 snapped to 02:00
    assert parse_time("@d", now) == 1499990400.0
    assert parse_time("07/14/2017:02:40:00", now) == 1500000000.0


def test_earliest_in_search_filters_time(store: Any) -> None:
    assert _times(store, "earliest=1500000004 latest=1500000005") == [1500000004]


def test_mvindex_zero_based_negative_and_out_of_range_spl_md_2_5(store: Any) -> None:
    spl = (
        "Logon_ID=* | eval a=mvindex(Logon_ID,1), b=mvindex(Logon_ID,-1), c=mvindex(Logon_ID,5), "
        "d=mvindex(user,0), e=mvindex(user,1) | table a b c d e"
    )
    assert _rows(store, spl) == [
        {"a": "0x1A", "b": "0x1A", "c": None, "d": "bob", "e": None},
        {"a": "0x3E7", "b": "0x3E7", "c": None, "d": "Alice", "e": None},
    ]


def test_substr_one_based_sqlite_semantics_spl_md_2_5(store: Any) -> None:
    spl = (
        '| makeresults | eval s="string", a=substr(s,1,3), b=substr(s,-3), c=substr(s,2) '
        "| table a b c"
    )
    assert _rows(store, spl) == [{"a": "str", "b": "ing", "c": "tring"}]


def test_null_propagation_and_division_by_zero_spl_md_2_2(store: Any) -> None:
    spl = (
        '| makeresults | eval a=1/0, b="x".missing, c=missing+1, d=3+4, e="a"+"b", f=7%0 '
        "| table a b c d e f"
    )
    assert _rows(store, spl) == [{"a": None, "b": None, "c": None, "d": 7, "e": "ab", "f": None}]


def test_mvcount_of_missing_is_null_spl_md_2_3(store: Any) -> None:
    spl = "user=bob | eval n=mvcount(Logon_ID), m=mvcount(nothing), s=mvcount(user) | table n m s"
    assert _rows(store, spl) == [{"n": 2, "m": None, "s": 1}]


def test_head_dedup_keep_newest_first_spl_md_4(store: Any) -> None:
    """spl.md §4 dedup/head: first in search order = newest."""
    assert _times(store, "user=* | eval u=lower(user) | dedup u") == [
        1500000005,
        1500000003,
        1500000002,
    ]
    assert _times(store, "* | head 2") == [1500000005, 1500000004]
    assert _times(store, "* | tail 2") == [1500000001, 1500000002]
    assert _times(store, "* | reverse | head 1") == [1500000001]


def test_sort_missing_values_last_spl_md_4_sort(store: Any) -> None:
    rows = _rows(store, "* | sort - user | table user")
    assert [r["user"] for r in rows] == ["carol", "bob", "Alice", "ALICE", None]


def test_stats_values_sorted_list_in_order_spl_md_4_stats(store: Any) -> None:
    rows = _rows(store, "user=* | stats count, values(user) AS v, list(status) AS l, dc(user) AS d")
    assert rows == [
        {
            "count": 4,
            "v": ["ALICE", "Alice", "bob", "carol"],
            "l": ["10", "1.0", "404", "200"],
            "d": 4,
        }
    ]


# ---------------------------------------------------------------- transaction (spl.md §3)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Any:
    events = [
        _ev(100, s="a", EventCode="4624"),  # start of a
        _ev(110, s="a", EventCode="1", ParentImage="p1"),
        _ev(120, s="a", EventCode="1", ParentImage="p2", Image="z.exe"),
        _ev(105, s="b", EventCode="1", ParentImage="orphan"),  # before b's start: never closes
        _ev(130, s="b", EventCode="4624"),
        _ev(140, s="b", EventCode="1", ParentImage="p3", Image="a.exe"),
        _ev(150, s="b", EventCode="1", ParentImage="p4", Image="a.exe"),
    ]
    return make_store(tmp_path_factory.mktemp("txn") / "store", events)


def test_transaction_startswith_closes_and_orders_newest_first_spl_md_3_2(sessions: Any) -> None:
    rows = _rows(
        sessions,
        "* | transaction s startswith=(EventCode=4624) mvlist=ParentImage "
        "| table _time s eventcount duration closed_txn ParentImage Image",
    )
    assert rows == [
        {
            "_time": 130.0,
            "s": "b",
            "eventcount": 3,
            "duration": 20,
            "closed_txn": 1,
            "ParentImage": ["NULL", "p3", "p4"],
            "Image": "a.exe",
        },
        {
            "_time": 100.0,
            "s": "a",
            "eventcount": 3,
            "duration": 20,
            "closed_txn": 1,
            "ParentImage": ["NULL", "p1", "p2"],
            "Image": "z.exe",
        },
    ]


def test_transaction_keepevicted_shows_unclosed_spl_md_3_2(sessions: Any) -> None:
    rows = _rows(
        sessions,
        "* | transaction s startswith=(EventCode=4624) keepevicted=true "
        "| search closed_txn=0 | table _time s eventcount",
    )
    assert rows == [{"_time": 105.0, "s": "b", "eventcount": 1}]


def test_transaction_maxspan_is_greedy_from_the_newest_spl_md_3_1(tmp_path: Path) -> None:
    """Newest first: 30 opens; 15 is 15 s older -> new transaction; 10 joins 15 (5 s)."""
    store = make_store(tmp_path / "s", [_ev(10, u="a"), _ev(15, u="a"), _ev(30, u="a")])
    rows = _rows(store, "* | transaction u maxspan=10s | table _time eventcount closed_txn")
    assert rows == [
        {"_time": 30.0, "eventcount": 1, "closed_txn": 1},
        {"_time": 10.0, "eventcount": 2, "closed_txn": 0},
    ]


def test_transaction_maxevents_splits_newest_first_spl_md_3_2(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", [_ev(t, u="a") for t in (10, 20, 30, 40, 50)])
    rows = _rows(store, "* | transaction u maxevents=2 | table _time eventcount")
    assert rows == [
        {"_time": 40.0, "eventcount": 2},
        {"_time": 20.0, "eventcount": 2},
        {"_time": 10.0, "eventcount": 1},
    ]
