"""Placeholders: found, filled as quoted literals that cannot change the query, pivoted on rows."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from huntbook.hunts.pivots import fill, find_placeholders, pivot, placeholder_names, spl_string
from huntbook.query.spl.parser import parse

SEED_Q4 = (
    "index=botsv2 ((Logon_ID=<login_id> OR LogonId=<login_id>) host=<host>)\n"
    "| eval CommandLine=substr(CommandLine,1,74)\n| table _time, EventCode\n| reverse"
)


def test_finds_placeholders_but_not_regex_groups() -> None:
    spl = 'index=x host="<host>" | rex field=a "(?<user>\\w+)" | rex "(?P<pid>\\d+)" | where a<b'
    assert placeholder_names(spl) == ["host"]
    assert placeholder_names(SEED_Q4) == ["login_id", "host"]
    assert [n for n, _ in find_placeholders(SEED_Q4)] == ["login_id", "login_id", "host"]


def test_spl_string_escapes_backslash_and_quote() -> None:
    assert spl_string('C:\\a"b') == '"C:\\\\a\\"b"'
    assert fill('host="<host>" x=<host>', {"host": "h"}) == 'host="h" x="h"'


def _compares(node, found):
    """Every (field, value text) comparison in a parsed search expression."""
    if hasattr(node, "field") and hasattr(node, "value") and hasattr(node.value, "text"):
        found.append((node.field, node.value.text))
    for item in getattr(node, "items", ()) or ():
        _compares(item, found)
    inner = getattr(node, "expr", None)
    if inner is not None:
        _compares(inner, found)
    return found


@settings(max_examples=200, deadline=None)
@given(login=st.text(min_size=1, max_size=40), host=st.text(min_size=1, max_size=20))
def test_values_cannot_change_the_query_structure(login: str, host: str) -> None:
    """Whatever the value (quotes, pipes, parentheses, OR, backslashes), the pipeline keeps its
    four commands and the value arrives as the literal of the comparisons it was put in."""
    pipeline = parse(fill(SEED_Q4, {"login_id": login, "host": host}))
    assert [type(c).__name__ for c in pipeline.commands] == ["Search", "Eval", "Table", "Reverse"]
    assert _compares(pipeline.commands[0].expr, []) == [
        ("index", "botsv2"),
        ("Logon_ID", login),
        ("LogonId", login),
        ("host", host),
    ]


def test_known_injection_attempt_stays_a_literal() -> None:
    evil = '0x1" OR index=* | delete | search x="'
    pipeline = parse(fill(SEED_Q4, {"login_id": evil, "host": "h\\"}))
    assert len(pipeline.commands) == 4
    assert ("Logon_ID", evil) in _compares(pipeline.commands[0].expr, [])


def test_pivot_uses_latest_earlier_query_with_the_fields_and_caps() -> None:
    first = ("A", ["host", "LogonId"], [{"host": "old", "LogonId": "0x1"}])
    rows = [{"host": "W6", "session": f"0x{i}"} for i in range(15)] + [
        {"host": "W6", "session": "0x0"}
    ]
    second = ("B", ["host", "session"], rows)
    third = ("C", ["host"], [{"host": "x"}])
    found = pivot(["login_id", "host"], [first, second, third], cap=10)
    assert found is not None and found.source == "B" and found.source_index == 1
    assert found.columns == {"login_id": "session", "host": "host"}
    assert found.distinct == 15 and len(found.values) == 10
    assert found.values[0] == {"login_id": "0x0", "host": "W6"}


def test_pivot_expands_multivalue_and_skips_null_placeholders() -> None:
    rows = [{"host": ["A", "B"], "Logon_ID": ["0x3e7", "NULL"]}, {"host": None, "Logon_ID": "0x9"}]
    found = pivot(["login_id", "host"], [("Q", ["host", "Logon_ID"], rows)])
    assert found is not None
    assert found.values == [{"login_id": "0x3e7", "host": "A"}, {"login_id": "0x3e7", "host": "B"}]


def test_no_pivot_when_no_query_has_the_fields() -> None:
    assert pivot(["login_id"], [("Q", ["host"], [{"host": "a"}])]) is None
