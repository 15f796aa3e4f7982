"""A transaction's other fields (spl.md §3): the distinct values, sorted in byte order, as one
DuckDB aggregate when there are few (values.sorted_distinct, transaction.DISTINCT_AGGREGATES), else
every value listed then distinct and sorted, as Spark always gets them; same rows either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huntbook.query import compile_spl, run_spl
from huntbook.query.spl.compiler.transaction import DISTINCT_AGGREGATES
from huntbook.store.testing import make_store

NOW = 1500000100.0
MANY = [f"f{i}" for i in range(DISTINCT_AGGREGATES + 1)]
SCHEMA = {"_time": "double", "_cd": "bigint", "_raw": "text", "host": "text", "s": "text"}
SCHEMA |= dict.fromkeys(MANY, "text")
FEW = "* | transaction s | table s host eventcount"
LISTED = "ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST(`host`) FILTER(WHERE NOT `host` IS NULL)))"


def test_few_fields_one_aggregate_each_on_duckdb_the_list_form_on_spark() -> None:
    query = compile_spl(FEW, SCHEMA, now=NOW)
    assert 'ARRAY_AGG(DISTINCT "host" ORDER BY "host")' in query.sql("duckdb")
    spark = query.sql("spark")
    assert LISTED in spark
    assert "DISTINCT `host`" not in spark


def test_many_fields_keep_the_list_form() -> None:
    """DuckDB's DISTINCT aggregates cost more than linearly in their number (200 of them on 100
    rows took 16 s): a transaction keeping every field of a wide store must not use them."""
    sql = compile_spl(f"* | transaction s | table s host {' '.join(MANY)}", SCHEMA, now=NOW).sql()
    assert "ARRAY_AGG(DISTINCT" not in sql
    assert 'LIST_SORT(LIST_DISTINCT(ARRAY_AGG("host") FILTER(WHERE NOT "host" IS NULL)))' in sql


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    hosts = ["b", "B", "a", None, "b", "\u00e9", "Z", None]
    base = {"index": "main", "source": "x", "sourcetype": "st", "s": "k"}
    events = [{**base, "_time": float(t), "host": h, "f0": h} for t, h in enumerate(hosts, 1)]
    events.append({**base, "_time": 9.0, "s": "n"})
    return make_store(Path(tmp_path_factory.mktemp("values")) / "store", events)


@pytest.mark.parametrize("fields", ["host", f"host {' '.join(MANY)}"])
def test_distinct_values_in_byte_order_null_without_any(store: Any, fields: str) -> None:
    rows = run_spl(store, f"* | transaction s | table s {fields}", now=NOW).rows()
    by_key = {r["s"]: r for r in rows}
    assert by_key["k"]["host"] == ["B", "Z", "a", "b", "\u00e9"]
    assert by_key["n"]["host"] is None
