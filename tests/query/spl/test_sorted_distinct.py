"""``values()`` and a transaction's other fields (spl.md §2, §3): the distinct values, sorted in
byte order, as one DuckDB aggregate (values.sorted_distinct); Spark gets every value collected,
then distinct and sorted (query/spark.py), and both give the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huntbook.query import compile_spl, run_spl
from huntbook.store.testing import make_store

NOW = 1500000100.0
SCHEMA = {"_time": "double", "_cd": "bigint", "_raw": "text", "host": "text", "s": "text"}


@pytest.mark.parametrize(
    "spl", ["* | stats values(host) by s", "* | transaction s | table s host eventcount"]
)
def test_one_aggregate_on_duckdb_the_list_form_on_spark(spl: str) -> None:
    query = compile_spl(spl, SCHEMA, now=NOW)
    assert 'ARRAY_AGG(DISTINCT "host" ORDER BY "host")' in query.sql("duckdb")
    spark = query.sql("spark")
    assert (
        "ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST(`host`) FILTER(WHERE NOT `host` IS NULL)))" in spark
    )
    assert "DISTINCT `host`" not in spark


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    hosts = ["b", "B", "a", None, "b", "\u00e9", "Z", None]
    events = [
        {"_time": float(t), "index": "main", "source": "x", "sourcetype": "st", "s": "k", "host": h}
        for t, h in enumerate(hosts, 1)
    ]
    events.append({"_time": 9.0, "index": "main", "source": "x", "sourcetype": "st", "s": "n"})
    return make_store(Path(tmp_path_factory.mktemp("values")) / "store", events)


def test_distinct_values_in_byte_order_null_without_any(store: Any) -> None:
    rows = run_spl(store, "* | stats values(host) AS h by s", now=NOW).rows()
    assert rows == [{"s": "k", "h": ["B", "Z", "a", "b", "\u00e9"]}, {"s": "n", "h": None}]
