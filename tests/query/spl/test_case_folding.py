"""Case-insensitive field values and terms (spl.md §1.2-1.3) lowercase both sides only when the
search's value has a character with a case (search.folded): ``EventCode=4624`` compiles to
``EventCode = '4624'``, exactly ``lower(EventCode) = '4624'`` by the code point check below."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from huntbook.query import compile_spl, run_spl
from huntbook.store.testing import make_store

NOW = 1500000100.0
SCHEMA = {"_time": "double", "_raw": "text", "EventCode": "text", "host": "text", "ids": "list"}


def test_no_code_point_lowercases_to_an_ascii_non_letter_but_itself() -> None:
    """What the folding relies on, over every code point (surrogates have no character), with the
    engine's own lower()."""
    con = duckdb.connect()
    found = con.sql(
        "SELECT count(*) FILTER (WHERE l <> c AND regexp_matches(l, '[\\x01-\\x40\\x5b-\\x60"
        "\\x7b-\\x7f]')), count(*) FROM (SELECT chr(i::INTEGER) AS c, lower(chr(i::INTEGER)) AS l "
        "FROM range(1, 1114112) AS t(i) WHERE i < 55296 OR i > 57343)"
    ).fetchall()
    assert found == [(0, 1112063)]


def _sql(spl: str) -> str:
    return compile_spl(spl, SCHEMA, now=NOW).sql()


@pytest.mark.parametrize(
    ("spl", "compared"),
    [
        ("EventCode=4624", "\"EventCode\" = '4624'"),
        ("EventCode=46*", "\"EventCode\" LIKE '46%'"),
        ('EventCode="4624 -1"', "\"EventCode\" = '4624 -1'"),
        ("host=WRK-1", "LOWER(\"host\") = 'wrk-1'"),
        ("host=wrk*", "LOWER(\"host\") LIKE 'wrk%'"),
        ("ids=0x1", "LOWER(\"__v\") = '0x1'"),
        ("ids=17", "\"__v\" = '17'"),
    ],
)
def test_only_a_value_with_letters_lowercases_the_field(spl: str, compared: str) -> None:
    assert compared in _sql(spl)


def test_a_term_without_letters_tests_raw_unlowered() -> None:
    assert re.search(r"\"_raw\" LIKE '%4624%'", _sql("4624"))
    assert "LOWER(\"_raw\") LIKE '%logon%'" in _sql("Logon")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    def ev(t: int, **fields: Any) -> dict[str, Any]:
        base = {"_time": float(t), "index": "main", "source": "s", "sourcetype": "st"}
        return {**base, **fields}

    events = [
        ev(1, EventCode="4624", host="WRK-1", _raw="EventCode=4624 host=WRK-1"),
        ev(2, EventCode="04624", host="wrk-1", _raw="EventCode=04624"),
        ev(3, EventCode="4624 ", host="\u212a-1", _raw="Logon 4624-x"),  # KELVIN SIGN
        ev(4, EventCode="1", host="other", _raw="LOGON"),
    ]
    return make_store(Path(tmp_path_factory.mktemp("folding")) / "store", events)


@pytest.mark.parametrize(
    ("spl", "times"),
    [
        ("EventCode=4624", [1]),
        ("EventCode=4624*", [1, 3]),
        ("EventCode=*4624", [1, 2]),
        ("host=wrk-1", [1, 2]),
        ("host=k-1", [3]),  # lower(KELVIN SIGN) is k: a value with a letter still folds
        ("4624", [1, 3]),
        ("logon", [3, 4]),
    ],
)
def test_matches_are_case_insensitive_as_before(store: Any, spl: str, times: list[int]) -> None:
    rows = run_spl(store, f"search {spl} | table _time", now=NOW).rows()
    assert sorted(int(r["_time"]) for r in rows) == times
