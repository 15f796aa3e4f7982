"""The runner: order, pivots, hits, errors that do not stop the hunt, no-data zeros, Results map.

The search function is a stand-in here so these tests pin the runner's own logic; test_e2e.py runs
the real engine on real data.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from huntbook.errors import QueryRuntimeError
from huntbook.hunts import HuntResult, run_hunt
from huntbook.hunts.result import validate_document
from huntbook.store.testing import make_store

from .conftest import RecordingSearch

SESSIONS = [
    {"_time": 1.0, "session": "0x32c5cb5", "host": "WORKSTATION6", "dest": "WORKSTATION6"},
    {"_time": 2.0, "session": "0x32c5cb5", "host": "WORKSTATION6", "dest": "WORKSTATION6"},
    {"_time": 3.0, "session": "0x9", "host": "WORKSTATION6", "dest": "WORKSTATION6"},
]
NO_ANALYTICS = staticmethod(
    lambda store, book: {
        "lateral_movement": [],
        "powershell": [],
        "visibility": {},
        "conclusion": "",
    }
)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    events = [
        {
            "_time": 1503500000.0 + i,
            "index": "botsv2",
            "host": "W6",
            "sourcetype": "WinEventLog",
            "source": "WinEventLog:Security",
            "EventCode": "4624",
            "_raw": "x",
        }
        for i in range(3)
    ]
    return make_store(tmp_path / "store", events)


def _seed_search() -> RecordingSearch:
    return RecordingSearch(
        answers=[
            ("| metadata", QueryRuntimeError("metadata is not supported here")),
            ('EventCode="3"', []),  # the probe: no Sysmon 3 in the store
            ("EventCode=1 ParentImage", [{"host": "WORKSTATION6"}] * 2),
            ("transaction session", SESSIONS),
            ('Logon_ID="0x32c5cb5"', [{"EventCode": "4624"}] * 5),
            ('Logon_ID="0x9"', [{"EventCode": "4688"}] * 2),
            ("ParentCommandLine=", [{"host": "WORKSTATION6"}]),
        ]
    )


def _run(store: Any, playbook: Path, search: RecordingSearch, **kw: Any) -> HuntResult:
    return run_hunt(store, playbook, search=search, analytics=NO_ANALYTICS, **kw)


def test_seed_runs_in_order_and_goes_on_after_an_error(store: Any, seed_path: Path) -> None:
    result = _run(store, seed_path, _seed_search())
    statuses = [(q.title[:20], q.status, q.hits) for q in result.queries]
    assert statuses == [
        ("What Data Do We Have", "error", 0),
        ("WMI Process Executio", "ok", 2),
        ("WMI Network Connecti", "no_data", 0),
        ("Systems with Network", "ok", 3),
        ("All Events for Host ", "ok", 7),
        ("WMI Parent Command-L", "ok", 1),
    ]
    assert "metadata is not supported" in (result.queries[0].error or "")
    assert result.queries[2].note == (
        "No Sysmon Event ID 3 logs in index botsv2 (nor in any other index of the store)"
    )


def test_templated_query_pivots_once_per_distinct_value_set(store: Any, seed_path: Path) -> None:
    search = _seed_search()
    q4 = _run(store, seed_path, search).queries[4]
    assert q4.pivot is not None and q4.pivot.source_index == 3
    assert q4.pivot.columns == {"login_id": "session", "host": "host"}
    assert [(r.values, r.hits) for r in q4.runs] == [
        ({"login_id": "0x32c5cb5", "host": "WORKSTATION6"}, 5),
        ({"login_id": "0x9", "host": "WORKSTATION6"}, 2),
    ]
    assert q4.hits == 7 and "sum of 2 run(s)" in q4.hits_note
    ran = [s for s in search.seen if "Logon_ID=" in s]
    assert ran[0].startswith(
        'index=botsv2 ((Logon_ID="0x32c5cb5" OR LogonId="0x32c5cb5") host="WORKSTATION6")'
    )


def test_params_fill_placeholders_without_pivoting(store: Any, seed_path: Path) -> None:
    result = _run(
        store, seed_path, _seed_search(), params={"login_id": "0x9", "host": "WORKSTATION6"}
    )
    q4 = result.queries[4]
    assert q4.pivot is None and [r.hits for r in q4.runs] == [2] and q4.hits == 2
    assert result.params == {"login_id": "0x9", "host": "WORKSTATION6"}


def test_unfillable_placeholder_is_reported(store: Any, fixture_path) -> None:
    result = _run(store, fixture_path("minimal"), RecordingSearch())
    q = result.queries[1]
    assert q.status == "unfilled" and "--param login_id=VALUE" in q.note and q.hits == 0


def test_true_zero_when_the_needed_data_is_there(store: Any, fixture_path) -> None:
    search = RecordingSearch(answers=[("| head 1", [{"EventCode": "1"}])])
    result = _run(store, fixture_path("minimal"), search)
    assert result.queries[0].status == "zero" and result.queries[0].note == ""


def test_results_rows_map_exact_then_by_order(store: Any, seed_path: Path) -> None:
    table = _run(store, seed_path, _seed_search()).results_table
    assert [(r.query_index, r.match) for r in table] == [
        (1, "exact"),
        (2, "exact"),
        (3, "order"),
        (4, "exact"),
        (5, "exact"),
    ]
    assert [(r.expected_hits, r.observed_hits) for r in table][2] == (2, 3)


def test_document_is_stamped_and_round_trips(store: Any, seed_path: Path) -> None:
    result = _run(store, seed_path, _seed_search())
    doc = orjson.loads(result.to_json())
    validate_document(doc)
    assert doc["store"]["path"].endswith("store") and isinstance(doc["store"]["inputs"], list)
    assert (
        doc["time_range"]["earliest"].startswith("2017-08-23") and doc["time_range"]["events"] == 3
    )
    assert doc["huntbook_version"] and doc["run_time"].endswith("Z")
    assert [q["hits"] for q in doc["queries"]] == [0, 2, 0, 3, 7, 1]
    assert HuntResult.from_json(result.to_json()).to_dict() == result.to_dict()


def test_validate_rejects_a_document_without_int_hits() -> None:
    from huntbook.errors import HuntbookError

    bad = {
        "queries": [{"title": "a", "spl": "x", "hits": "3"}],
        "findings": {"lateral_movement": []},
    }
    with pytest.raises(HuntbookError, match=r"queries\[0\].hits"):
        validate_document(bad)


def test_playbook_warnings_reach_the_report(store: Any, tmp_path: Path, fixture_path) -> None:
    text = fixture_path("minimal").read_text().replace("## Notes\n\nNone.\n\n", "")
    path = tmp_path / "no-notes.md"
    path.write_text(text)
    result = _run(store, path, RecordingSearch())
    assert result.to_dict()["problems"] == [
        {
            "line": 1,
            "severity": "warning",
            "code": "missing-section",
            "message": "missing section '## Notes'",
        }
    ]
    from huntbook.hunts import render_markdown

    assert "- Playbook warning, line 1: missing section '## Notes'" in render_markdown(result)


def test_hits_count_every_row_but_only_kept_rows_become_python_values(
    store: Any, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search of 10,000 rows counts 10,000 hits; at most KEPT_ROWS rows are converted."""
    from huntbook.hunts import runner

    from .conftest import FakeResult

    asked: list[tuple[int, int | None]] = []

    class Counted(FakeResult):
        def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
            asked.append((len(self.data), limit))
            return super().rows(limit)

    big = [{"session": "0x9", "host": "W6"}] * 10_000
    monkeypatch.setattr(runner, "KEPT_ROWS", 50)
    search = RecordingSearch(answers=[("transaction session", big)])
    result = _run(store, seed_path, _CountedSearch(search, Counted))
    assert result.queries[3].hits == 10_000 and result.queries[3].sample_truncated
    assert (10_000, 50) in asked
    assert all(limit == 50 for size, limit in asked if size > 50)


def test_a_templated_querys_runs_together_keep_kept_rows(
    store: Any, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten pivot runs of a big query convert KEPT_ROWS rows in all, not KEPT_ROWS each; every
    run's hits still count."""
    from huntbook.hunts import runner

    from .conftest import FakeResult

    asked: list[int | None] = []

    class Counted(FakeResult):
        def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
            if "Logon_ID=" in self.sql:
                asked.append(limit)
            return super().rows(limit)

    sessions = [{"session": f"0x{n}", "host": "W6"} for n in range(3)]
    events = [{"EventCode": 4688, "CommandLine": "cmd.exe"}] * 40
    monkeypatch.setattr(runner, "KEPT_ROWS", 50)
    search = RecordingSearch(answers=[("transaction session", sessions), ("Logon_ID=", events)])
    result = _run(store, seed_path, _CountedSearch(search, Counted, sql_is_spl=True))
    templated = result.queries[4]
    assert [run.hits for run in templated.runs] == [40, 40, 40] and templated.hits == 120
    assert asked == [50, 10, 0]  # 40 + 10 kept, then none: the sample (20) is full already
    assert len(templated.sample) == runner.SAMPLE_ROWS


def test_a_streamed_search_keeps_its_count_and_first_rows(store: Any) -> None:
    """``SearchStream.keep`` reads every row, keeping the first ones as ``run_spl`` orders them."""
    from huntbook.query import run_spl, stream_spl

    whole = run_spl(store, "index=botsv2")
    kept = stream_spl(store, "index=botsv2").keep(2)
    assert len(whole) == 3 and len(kept) == 3
    assert kept.rows() == whole.rows(limit=2) and kept.rows(limit=1) == whole.rows(limit=1)
    assert kept.columns == whole.columns and kept.sql == whole.sql
    assert stream_spl(store, "index=botsv2").keep(0).rows() == []


def test_the_default_search_counts_every_row_and_keeps_the_rows_asked_for(store: Any) -> None:
    """The runner's default search (``kept_spl``) counts every row of a search and keeps its
    first ``keep`` rows in the search's order, as reading the whole result would."""
    from huntbook.engines.result import KeptResult
    from huntbook.hunts import runner
    from huntbook.query import kept_spl, run_spl

    for spl in ("index=botsv2", "index=botsv2 | reverse", "index=botsv2 | sort - _time"):
        whole = run_spl(store, spl)
        for keep in (0, 1, 2, 3, 10):
            found = runner.Searcher(kept_spl)(store, spl, keep)
            assert isinstance(found, KeptResult) and len(found) == len(whole) == 3
            assert found.rows() == whole.rows(limit=keep) and found.columns == whole.columns
            assert found.sql == whole.sql


def test_a_search_with_more_rows_than_kept_is_counted_in_the_engine(
    tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hunt's searches never have the engine produce more than the rows kept (plus one, to
    tell whether there are more): past that, the engine counts them (``SELECT count(*)``), so
    the pivot runs' millions of rows are counted, not produced; the hits are the same."""
    from huntbook.engines import duckdb as engine
    from huntbook.hunts import runner
    from huntbook.query import run_spl

    produced: list[tuple[str, int]] = []
    real = engine.DuckDBEngine.stream

    def stream(self: Any, query: Any) -> Any:
        found = real(self, query)
        produced.append((found.sql, len(found.collect())))
        return real(self, query)

    event = {"index": "botsv2", "host": "W6", "EventCode": "4688", "LogonId": "0x9", "_raw": "x"}
    store = make_store(tmp_path / "store", [{**event, "_time": 1503500000.0 + i} for i in range(3)])
    monkeypatch.setattr(runner, "KEPT_ROWS", 1)
    monkeypatch.setattr(runner, "SAMPLE_ROWS", 1)
    monkeypatch.setattr(engine.DuckDBEngine, "stream", stream)
    params = {"login_id": "0x9", "host": "W6"}
    result = runner.run_hunt(store, seed_path, params, analytics=NO_ANALYTICS)
    monkeypatch.undo()
    counted = [sql for sql, _ in produced if "SELECT COUNT(*) FROM (" in sql]
    assert any('"LogonId"' in sql for sql in counted)
    assert all(rows <= 2 for sql, rows in produced if sql not in counted)
    templated = result.queries[4]
    assert (
        [run.hits for run in templated.runs] == [3] == [len(run_spl(store, templated.runs[0].spl))]
    )
    assert len(templated.sample) == 1 and templated.sample_truncated


class _CountedSearch:
    """RecordingSearch's answers as ``Counted`` results."""

    def __init__(self, search: RecordingSearch, kind: type, *, sql_is_spl: bool = False) -> None:
        self.search, self.kind, self.sql_is_spl = search, kind, sql_is_spl

    def __call__(self, store: Any, spl: str, *, keep: int = 0, pipeline: Any = None) -> Any:
        found = self.search(store, spl, keep=keep, pipeline=pipeline)
        sql = spl if self.sql_is_spl else found.sql
        return self.kind(found.columns, found.data, sql, found.elapsed)


def test_a_hunts_searches_share_one_connection(
    store: Any, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's ``events`` view is made once for every search, probe and pivot run of a hunt
    (each runs on a cursor of that connection), and once more for the store's statistics."""
    opened: list[Any] = []
    real_connect = store.connect

    def connect() -> Any:
        opened.append(real_connect())
        return opened[-1]

    monkeypatch.setattr(store, "connect", connect)
    result = run_hunt(store, seed_path, analytics=NO_ANALYTICS)
    assert len(result.queries) == 6 and result.time_range.events == 3
    assert len(opened) == 2


def test_a_hunts_connection_reads_each_parquet_footer_once(store: Any) -> None:
    """Every search of a hunt binds ``events`` on a cursor of one connection whose database
    keeps the store files' Parquet footers (``cache_footers``)."""
    from huntbook.hunts.runner import OneConnection

    shared = OneConnection(store)
    try:
        cursor = shared.connect()
        setting = cursor.execute("SELECT current_setting('parquet_metadata_cache')").fetchone()
        assert setting == (True,)
    finally:
        shared.close()


def test_analytics_run_while_the_searches_do(store: Any, seed_path: Path) -> None:
    """The analytics read the store on a connection of their own, in a thread beside the
    searches: each side sees the other running (one waits for the other to have started)."""
    searching, analysing = threading.Event(), threading.Event()
    met: dict[str, bool] = {}
    inner = _seed_search()

    def search(store: Any, spl: str, **kw: Any) -> Any:
        searching.set()
        if "search saw the analytics" not in met:
            met["search saw the analytics"] = analysing.wait(5)
        return inner(store, spl, **kw)

    def analytics(store: Any, book: Any) -> dict[str, Any]:
        analysing.set()
        met["analytics saw a search"] = searching.wait(5)
        return NO_ANALYTICS(store, book)

    result = run_hunt(store, seed_path, search=search, analytics=analytics)
    assert met == {"search saw the analytics": True, "analytics saw a search": True}
    assert [q.hits for q in result.queries] == [
        q.hits for q in _run(store, seed_path, _seed_search()).queries
    ]


def test_analytics_after_the_searches_when_asked(store: Any, seed_path: Path) -> None:
    order: list[str] = []
    inner = _seed_search()

    def search(store: Any, spl: str, **kw: Any) -> Any:
        order.append("search")
        return inner(store, spl, **kw)

    def analytics(store: Any, book: Any) -> dict[str, Any]:
        order.append("analytics")
        return NO_ANALYTICS(store, book)

    run_hunt(store, seed_path, search=search, analytics=analytics, overlap=False)
    assert order[-1] == "analytics" and order.count("analytics") == 1


def test_store_counts_are_taken_beside_the_searches(store: Any, seed_path: Path) -> None:
    """The report's time range and coverage come from a scan of every event (``Store.stats``),
    run in the analytics' thread while the searches run, not after them."""
    searching = threading.Event()
    met: dict[str, bool] = {}
    inner = _seed_search()

    class Counted:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def stats(self) -> list[dict[str, Any]]:
            met["stats beside a search"] = searching.wait(5)
            met["stats in another thread"] = (
                threading.current_thread() is not threading.main_thread()
            )
            return store.stats()

    def search(store: Any, spl: str, **kw: Any) -> Any:
        searching.set()
        return inner(store, spl, **kw)

    result = run_hunt(Counted(), seed_path, search=search, analytics=NO_ANALYTICS)
    assert met == {"stats beside a search": True, "stats in another thread": True}
    alone = _run(store, seed_path, _seed_search())
    assert (result.time_range, result.coverage) == (alone.time_range, alone.coverage)
