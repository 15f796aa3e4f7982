"""``kept_spl``: a search's count and its first rows, as a hunt keeps them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from huntbook.engines.base import Limits
from huntbook.errors import QueryLimitError
from huntbook.query import kept_spl
from huntbook.store.testing import make_store


@pytest.fixture
def opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[Any]]:
    """A store of five events whose ``connect`` records every connection it opens."""
    events = [{"_time": float(t), "index": "main", "n": str(t), "_raw": f"n={t}"} for t in range(5)]
    store = make_store(tmp_path / "store", events)
    connections: list[Any] = []
    connect = store.connect

    def recorded() -> Any:
        connections.append(connect())
        return connections[-1]

    monkeypatch.setattr(store, "connect", recorded)
    return store, connections


def test_the_rows_and_the_count_come_from_one_connection(opened: tuple[Any, list[Any]]) -> None:
    """More hits than kept: the count runs too, on the first query's connection, then closed."""
    store, connections = opened
    found = kept_spl(store, "index=main | table n", 2)
    assert (len(found), [r["n"] for r in found.rows()]) == (5, ["4", "3"])
    assert len(connections) == 1
    with pytest.raises(duckdb.ConnectionException):
        connections[0].execute("SELECT 1")


def test_keeping_none_still_counts(opened: tuple[Any, list[Any]]) -> None:
    store, connections = opened
    found = kept_spl(store, "index=main n>1 | table n", 0)
    assert (len(found), found.rows(), found.columns) == (3, [], ["n"])
    assert len(connections) == 1


def test_a_failing_search_closes_its_connection(opened: tuple[Any, list[Any]]) -> None:
    store, connections = opened
    hungry = (
        "| makeresults count=50000 | eval x=mvrange(0, 200) | mvexpand x | streamstats count as n"
        ' | eval y=n . "-abcdefghijklmnopqrstuvwxyz" | stats list(y) as v'
    )
    with pytest.raises(QueryLimitError, match="memory limit"):
        kept_spl(store, hungry, 1, limits=Limits(memory=20 * 2**20))
    assert len(connections) == 1
    with pytest.raises(duckdb.ConnectionException):
        connections[0].execute("SELECT 1")
