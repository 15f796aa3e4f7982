"""A page of events is found keys first (a sort of ``_time``, ``_cd`` only, which also counts the
total) and is the same page as the plain LIMIT/OFFSET; the fields' top values are the most common
values, ties smaller first, in the newest SUMMARY_ROWS events of a larger result."""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from huntbook import Workspace
from huntbook.engines.result import SearchResult
from huntbook.errors import QueryRuntimeError
from huntbook.query.explore import TOP_VALUES, Exploration


def plain_page(exploration: Exploration, offset: int, count: int) -> list[dict[str, Any]]:
    select = exploration.query.expr.copy().limit(count).offset(offset)
    return exploration.export(exploration._run(select))


def runs(exploration: Exploration, monkeypatch: pytest.MonkeyPatch) -> list[exp.Select]:
    seen: list[exp.Select] = []
    run = exploration._run

    def recorded(select: exp.Select) -> SearchResult:
        seen.append(select)
        return run(select)

    monkeypatch.setattr(exploration, "_run", recorded)
    return seen


@pytest.mark.parametrize("offset", [0, 37, 1960])
def test_an_event_page_is_keyed_and_exact(
    workspace: Workspace, offset: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    exploration = workspace.explore("index=botsv2")
    expected = plain_page(exploration, offset, 50)
    seen = runs(exploration, monkeypatch)
    assert exploration.export(exploration.page(offset, 50)) == expected
    assert expected
    keys = [e.alias_or_name for e in seen[0].expressions]
    assert keys == ["_cd", "__total"]  # the keys: _cd alone, and the count of them all
    assert not any(s.args.get("offset") for s in seen[1:])  # the rows: no sort to an offset


def test_rows_named_twice_fall_back_to_the_plain_page(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    spl = "index=botsv2 EventCode=4624 | append [search index=botsv2 EventCode=4624]"
    exploration = workspace.explore(spl)
    expected = plain_page(exploration, 10, 30)
    seen = runs(exploration, monkeypatch)
    assert exploration.export(exploration.page(10, 30)) == expected
    assert len(expected) == 30
    assert seen[-1].args.get("offset") is not None  # ran as LIMIT/OFFSET


def test_top_values_are_the_most_common_ties_smaller_first(workspace: Workspace) -> None:
    exploration = workspace.explore("index=botsv2")
    rows = exploration.export(exploration.page(0, 10_000))
    profile = exploration.profile()
    summaries = exploration.fields(profile)
    for summary in summaries:
        counts = Counter(str(r[summary.name]) for r in rows if r.get(summary.name) is not None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES]
        if summary.name in ("host", "EventCode", "source"):
            assert summary.top == ranked, summary.name
    held = Counter(k for r in rows for k, v in r.items() if v not in (None, []))
    del held["_time"], held["_raw"]
    assert {s.name: s.count for s in summaries} == dict(held)


def test_the_total_alone_is_the_profile_total(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for spl in (
        "index=botsv2",
        "index=botsv2 EventCode=4624",
        "index=botsv2 | stats count by host",
    ):
        exploration = workspace.explore(spl)
        exploration.schema()
        seen = runs(exploration, monkeypatch)
        assert exploration.total() == exploration.profile().total > 0
        assert len(seen[0].expressions) == 1  # COUNT(*) alone, not a count of every column


def test_a_page_of_events_counts_the_total_beside_its_keys(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = workspace.explore("index=botsv2 EventCode=4624").profile().total
    exploration = workspace.explore("index=botsv2 EventCode=4624")
    exploration.page(0, 50)
    seen = runs(exploration, monkeypatch)
    assert exploration.total() == expected > 50 and seen == []  # no COUNT after the page
    past_the_end = workspace.explore("index=botsv2 EventCode=4624")
    assert past_the_end.page(10**6, 50).table.num_rows == 0
    assert past_the_end.total() == expected  # no key came back: counted on its own


def test_the_fields_of_a_large_result_are_those_of_its_newest_events(
    workspace: Workspace,
) -> None:
    exploration = workspace.explore("index=botsv2")
    whole = exploration.profile()
    read = exploration.summary_profile(whole, rows=300)
    assert (read.total, read.limit) == (300, 300) and whole.total > 300
    newest = exploration.export(exploration.page(0, 300))
    summaries = exploration.fields(read)
    held = Counter(k for r in newest for k, v in r.items() if v not in (None, []))
    del held["_time"], held["_raw"]
    assert {s.name: s.count for s in summaries} == dict(held)
    for name in ("host", "EventCode"):
        counts = Counter(str(r[name]) for r in newest if r.get(name) is not None)
        top = next(s.top for s in summaries if s.name == name)
        assert top == sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:TOP_VALUES]


def test_a_result_small_enough_or_not_of_events_is_summarized_whole(
    workspace: Workspace,
) -> None:
    events = workspace.explore("index=botsv2 EventCode=4624")
    profile = events.profile()
    assert events.summary_profile(profile, rows=profile.total) == profile
    table = workspace.explore("index=botsv2 | stats count by host")
    profile = table.profile()
    assert table.summary_profile(profile, rows=1) == profile and profile.total > 1


def test_a_cancel_between_statements_is_the_cancelled_error(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's interrupt can land on the engine's session settings, outside its guarded query:
    it comes out as InterruptException, which the cancelled search reports as cancelled."""
    from huntbook.engines.duckdb import DuckDBEngine

    exploration = workspace.explore("index=botsv2")

    def interrupted(engine: DuckDBEngine, query: Any) -> SearchResult:
        exploration.cancelled = True
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(DuckDBEngine, "execute", interrupted)
    with pytest.raises(QueryRuntimeError, match="cancelled"):
        exploration.page(0, 1)
