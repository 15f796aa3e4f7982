"""Differential test: every SPL conformance case and the seed's six searches give the same answer
on DuckDB and on Spark local[2] (issue 13), in the same order where SPL defines one.

A construct Spark cannot run with DuckDB's answer must be refused before anything runs
(UnsupportedSplError naming it); ``REFUSED`` pins which cases are, so a new refusal or a newly
supported construct is noticed. One SparkSession serves the whole test session.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.query.conformance.test_conformance import CASES, build_store, case_events
from tests.query.test_seed_searches import RECORDING, SEED, seed_searches

pytestmark = pytest.mark.spark

# Conformance cases refused on Spark (before running), with the construct the refusal names.
MAXSPAN = "transaction with maxspan="
SUBSEARCH = "a [subsearch] used as a search filter"
REFUSED: dict[str, str] = {
    "eval_functions/tostring_commas": 'tostring(x, "commas")',
    "rex/rex_sed_first_only": "replacing only the first match",
    "time/strftime_subseconds": "subseconds",
    "transaction/maxspan_closes": MAXSPAN,
    "transaction/maxspan_strictly_less": MAXSPAN,
    "transaction/maxspan_minutes": MAXSPAN,
    "commands/spath_auto": "spath without path=",
    "escu_constructs/spath_auto_input_field": "spath without path=",
    "escu_constructs/spath_auto_not_json_keeps_fields": "spath without path=",
    "escu_constructs/replace_wildcards_carried_over": "replacing only the first match",
    "escu_constructs/match_runtime_pattern_not_re2_fails": "a regular expression built at run time",
    "escu_constructs/match_pattern_built_at_run_time": "a regular expression built at run time",
    "escu_commands/fieldsummary_columns": "fieldsummary",
    "escu_commands/fieldsummary_maxvals": "fieldsummary",
    "escu_commands/fieldsummary_wildcard_and_absent_fields": "fieldsummary",
    "escu_commands/fromjson_keys_become_fields": "fromjson",
    "escu_commands/fromjson_prefix": "fromjson",
    "escu_commands/fromjson_arrays_are_multivalue": "fromjson",
    "escu_commands/fromjson_not_json_leaves_fields": "fromjson",
    "escu_commands/subsearch_filter_rows_and_fields": SUBSEARCH,
    "escu_commands/subsearch_filter_multivalue_is_or": SUBSEARCH,
    "escu_commands/subsearch_filter_case_insensitive_wildcard": SUBSEARCH,
    "escu_commands/subsearch_filter_under_not": SUBSEARCH,
    "escu_commands/subsearch_filter_internal_fields_ignored": SUBSEARCH,
    "escu_commands/subsearch_filter_no_results_matches_nothing": SUBSEARCH,
    "escu_commands/subsearch_filter_maxout": SUBSEARCH,
    "escu_commands/spath_xml_element_paths": "spath without path=",
    "escu_commands/spath_xml_then_wildcard_rename": "spath without path=",
    "escu_commands/spath_xml_absent_element_keeps_field": "spath without path=",
}


@pytest.fixture(scope="session")
def diff_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {"root": tmp_path_factory.mktemp("spark-diff"), "stores": {}}


def _number(value: Any) -> float | None:
    """A number's value (DuckDB gives a sum of integers as a Decimal, Spark as an int)."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    return None


def _same(left: Any, right: Any) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or a == b
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return type(left) is type(right) and left == right


def _row_same(duck: dict[str, Any], spark: dict[str, Any]) -> bool:
    return duck.keys() == spark.keys() and all(_same(duck[k], spark[k]) for k in duck)


def _rows_same(duck: list[dict[str, Any]], spark: list[dict[str, Any]]) -> bool:
    return len(duck) == len(spark) and all(map(_row_same, duck, spark))


def _sort_key(row: dict[str, Any]) -> str:
    return repr(sorted((k, _number(v) if _number(v) is not None else v) for k, v in row.items()))


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=_sort_key)


def _answer(store: Any, spl: str, engine: Any) -> tuple[str, Any]:
    """("rows", (columns, rows)) or ("error", the huntbook error class name)."""
    from huntbook.errors import HuntbookError
    from huntbook.query import run_spl

    try:
        result = run_spl(store, spl, engine=engine, now=1_700_000_000.0)
    except HuntbookError as err:
        return "error", type(err).__name__
    return "rows", (result.columns, result.rows())


def assert_same_answer(store: Any, spl: str, ordered: bool) -> None:
    from huntbook.engines import EngineChoice

    duck = _answer(store, spl, EngineChoice("duckdb"))
    spark = _answer(store, spl, EngineChoice("spark"))
    if duck[0] == "error" or spark[0] == "error":
        assert duck == spark, f"DuckDB: {duck}\nSpark: {spark}"
        return
    (dcols, drows), (scols, srows) = duck[1], spark[1]
    assert dcols == scols
    if not ordered:
        drows, srows = _sorted(drows), _sorted(srows)
    assert _rows_same(drows, srows), f"DuckDB:\n{drows}\nSpark:\n{srows}"


def _refusal(store: Any, spl: str) -> str | None:
    """The refusal's text when Spark cannot run ``spl`` with DuckDB's answer, else None."""
    from huntbook.errors import HuntbookError, UnsupportedSplError
    from huntbook.query import compile_for_store

    try:
        query = compile_for_store(store, spl, now=1_700_000_000.0)
    except HuntbookError:
        return None  # refused by the compiler, on both engines alike (compared by the caller)
    try:
        query.sql("spark", series=lambda _: [])  # a chart's series do not change what is refused
    except UnsupportedSplError as err:
        return err.reason
    return None


# Every case, without its xfail mark: an xfail is DuckDB's documented deviation from Splunk, and
# Spark must deviate the same way.
SAME_CASES = [pytest.param(*p.values, id=p.id) for p in CASES]


@pytest.mark.parametrize("case", SAME_CASES)
def test_conformance_case_same_on_spark(
    case: dict[str, Any], spark: Any, diff_cache: dict[str, Any]
) -> None:
    store = build_store(diff_cache, case_events(case), case["lookups"], case["macros"])
    key = f"{case['file']}/{case['name']}"
    refusal = _refusal(store, case["spl"])
    if refusal is not None or key in REFUSED:
        assert refusal is not None and REFUSED.get(key, "\0") in refusal, (key, refusal)
        return
    assert_same_answer(store, case["spl"], ordered=case.get("ordered", True))


@pytest.fixture(scope="module")
def seed_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from huntbook.ingest import ingest
    from huntbook.store import Store

    store = Store(tmp_path_factory.mktemp("seed-spark") / "store")
    ingest(store, [shared_data / RECORDING], index="botsv2")
    return store


@pytest.mark.shared
def test_seed_searches_same_on_spark(seed_store: Any, spark: Any) -> None:
    """The seed report's six searches, verbatim (the transaction's Parent_Process list among them:
    its members must come oldest first on Spark too)."""
    if not SEED.is_file():
        pytest.skip("../shared/seed is absent")
    searches = seed_searches(SEED.read_text(encoding="utf-8"))
    assert len(searches) == 6
    for spl in searches.values():
        assert_same_answer(seed_store, spl, ordered=True)


@pytest.fixture(scope="module")
def chain_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from huntbook.ingest import ingest
    from huntbook.store import Store

    path = tmp_path_factory.mktemp("chain-spark") / "store"
    data = Path(__file__).resolve().parents[1] / "data" / "wmi_chain.jsonl"
    ingest(Store(path), [data], index="botsv2")
    return path


def test_workspace_search_runs_on_spark(chain_store: Path, spark: Any) -> None:
    from huntbook.workspace import Workspace

    spl = "index=botsv2 | stats count by host, EventCode"
    duck = Workspace(chain_store).search(spl)
    on_spark = Workspace(chain_store, engine="spark").search(spl)
    assert "`" in on_spark.sql and "`" not in duck.sql  # Spark's SQL ran
    assert _rows_same(_sorted(duck.rows()), _sorted(on_spark.rows()))
    assert duck.rows()


def test_hunt_searches_run_on_spark_with_the_same_outcomes(
    chain_store: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed playbook through Workspace(engine="spark").hunt: every query's status, hits,
    columns and sample rows as on DuckDB, and its SQL the Spark rendering, and the same findings;
    nothing of the hunt reads the store through DuckDB (its time range and its analytics run on
    Spark too)."""
    from huntbook.store import Store
    from huntbook.workspace import Workspace

    duck = Workspace(chain_store).hunt("wmi-lateral-movement")

    def no_duckdb(store: Any) -> None:
        pytest.fail("a hunt on Spark read the store through DuckDB")

    monkeypatch.setattr(Store, "connect", no_duckdb)
    on_spark = Workspace(chain_store, engine="spark").hunt("wmi-lateral-movement")
    assert on_spark.time_range == duck.time_range and duck.time_range.events
    assert len(duck.queries) == len(on_spark.queries) == 6
    for d, s in zip(duck.queries, on_spark.queries, strict=True):
        assert (d.status, d.hits, d.columns) == (s.status, s.hits, s.columns), d.title
        assert _rows_same(d.sample, s.sample), d.title
        assert s.sql is None or "`" in s.sql
    assert any(q.hits for q in on_spark.queries)
    # the analytics ran on Spark too, with DuckDB's findings
    assert duck.findings.lateral_movement and not on_spark.findings.errors
    assert on_spark.findings == duck.findings


def test_chart_grid_refused_on_spark_as_on_duckdb(tmp_path: Path, spark: Any) -> None:
    """A timechart past Splunk's maxbins is refused before it runs, on Spark too."""
    from huntbook.errors import QueryLimitError
    from huntbook.store.testing import make_store
    from huntbook.workspace import Workspace

    events = [{"_time": t, "_raw": "x", "host": "h"} for t in (0.0, 100_000_000.0)]
    make_store(tmp_path / "store", events)
    for engine in ("duckdb", "spark"):
        with pytest.raises(QueryLimitError, match="time buckets, over the limit of 50,000"):
            Workspace(tmp_path / "store", engine=engine).search("* | timechart span=1m count")


def test_empty_store_on_spark(tmp_path: Path, spark: Any) -> None:
    """No Parquet file at all: the view still has the core columns (typed nulls)."""
    from huntbook.store.testing import make_store

    store = make_store(tmp_path / "store", [])
    assert_same_answer(store, "index=* | table _time, host, _raw", ordered=True)
    assert_same_answer(store, "| stats count", ordered=True)


# chart/timechart BY on Spark: the series are read first, then crossed into one column each.
# Twelve users (past the default limit=10), an empty one, two differing only in case, one named
# like the OVER field, and events without one (the NULL series).
CHART_USERS = [*(f"u{i:02d}" for i in range(12)), "", "b", "B", "h", None]
CHART_SEARCHES = [
    "* | chart count over h by u",
    "* | chart count by h u",
    "* | chart count over h by u limit=3",
    "* | chart sum(n) over h by u limit=3 useother=f",
    "* | chart count over h by u limit=0",
    "* | chart max(n) over h by u limit=4",
    "* | chart avg(n) over h by u",
    "* | timechart span=1h count by u limit=2",
    "* | timechart span=30m sum(n) by u",
    "* | timechart span=1h count by u limit=2 | head 2",
    '* | where h="none" | chart count over h by u',
]


@pytest.fixture(scope="module")
def chart_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from huntbook.store.testing import make_store

    events = []
    for i in range(60):
        user = CHART_USERS[i % len(CHART_USERS)]
        event = {"_time": 1_500_000_000.0 + 397 * i, "_raw": "x", "h": f"h{i % 3}", "n": i % 7}
        events.append(event if user is None else {**event, "u": user})
    return make_store(tmp_path_factory.mktemp("chart-spark") / "store", events)


@pytest.mark.parametrize("spl", CHART_SEARCHES)
def test_chart_by_same_on_spark(spl: str, chart_store: Any, spark: Any) -> None:
    """Same columns in the same order (series sorted as DuckDB's PIVOT names them), same rows."""
    assert_same_answer(chart_store, spl, ordered=True)


def test_chart_top_series_ranked_by_text_values_as_numbers(chart_store: Any) -> None:
    """``max(n)`` of a text field is text: its series are ranked by their values as numbers (a
    sum of text failed on DuckDB, so Spark's rows had nothing to match)."""
    from huntbook.query import run_spl

    result = run_spl(chart_store, "* | chart max(n) over h by u limit=2", now=1_700_000_000.0)
    assert result.columns == ["h", "b", "u03"]  # max(n) 6 in one row each: sum 13, 13 (b first)
    assert [r["h"] for r in result.rows()] == ["h0", "h1", "h2"]
