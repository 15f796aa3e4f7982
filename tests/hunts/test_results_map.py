"""Results rows of a hand-written table find their queries: exact, fuzzy, then by position."""

from __future__ import annotations

from huntbook.hunts.model import Query, ResultRow
from huntbook.hunts.result import QueryOutcome
from huntbook.hunts.results_map import map_results

TITLES = ["Inventory", "Service Installs", "Network Logons - Destination", "Odd Search", "Tail"]


def _queries() -> list[Query]:
    return [Query(i, t, "x", i + 1, i + 1) for i, t in enumerate(TITLES)]


def _outcomes(statuses: dict[int, str] | None = None) -> list[QueryOutcome]:
    statuses = statuses or {}
    return [
        QueryOutcome(i, t, i + 1, "x", hits=10 * i, status=statuses.get(i, "ok"))
        for i, t in enumerate(TITLES)
    ]


def test_three_passes() -> None:
    rows = [
        ResultRow("service installs", 4, 10),  # exact, case ignored
        ResultRow("Network Logon - Destination Host", 1, 11),  # fuzzy
        ResultRow("Something else entirely", None, 12),  # by position: between query 2 and 4
        ResultRow("tail", 0, 13),
    ]
    table = map_results(rows, _queries(), _outcomes())
    assert [(r.query_index, r.match) for r in table] == [
        (1, "exact"),
        (2, "fuzzy"),
        (3, "order"),
        (4, "exact"),
    ]
    assert [(r.expected_hits, r.observed_hits) for r in table] == [
        (4, 10),
        (1, 20),
        (None, 30),
        (0, 40),
    ]


def test_more_rows_than_queries_leaves_some_unmatched() -> None:
    rows = [ResultRow(f"Row {i}", None, i) for i in range(7)]
    table = map_results(rows, _queries(), _outcomes())
    assert [r.match for r in table].count("none") == 2
    assert sorted(r.query_index for r in table if r.query_index is not None) == [0, 1, 2, 3, 4]


def test_no_observed_count_for_a_query_that_did_not_run() -> None:
    table = map_results([ResultRow("Odd Search", 3, 1)], _queries(), _outcomes({3: "error"}))
    assert (table[0].query_index, table[0].observed_hits) == (3, None)
