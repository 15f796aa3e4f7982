"""Analytics read a field by every spelling the store holds (analytics/_sql.py ``Columns``).

DuckDB compares column names case-insensitively, so the store keeps the second spelling of a
name that differs only in case in a column of its own (``Param1~1``). Reading ``Param1`` by plain
SQL reaches the first spelling's column only: RemoteConnectionManager 1149's user would read as
NULL in a store that also holds System 7036's ``param1``.
"""

from __future__ import annotations

from sqlglot import exp

from huntbook.analytics._sql import Columns, rows
from huntbook.store.testing import make_store

from .conftest import system


def test_a_field_is_read_under_each_of_its_spellings(tmp_path):
    path = tmp_path / "store"
    make_store(path, [system(7036, "h1", 1.0, param1="Windows Update")])
    store = make_store(path, [system(1149, "h1", 2.0, Param1="pgustavo", Param3="10.0.0.5")])
    assert store.columns(), "the second spelling is a case variant with a column of its own"
    columns = Columns.of(store)
    query = (
        exp.select(exp.column("EventCode", quoted=True), columns.get("Param1").as_("user"))
        .from_("events")
        .order_by(exp.column("_cd", quoted=True))
    )
    with store.connect() as con:
        found = [(r["EventCode"], r["user"]) for r in rows(con, query)]
    assert found == [("7036", "Windows Update"), ("1149", "pgustavo")]


def test_a_number_in_one_spelling_and_text_in_another_read_as_text(tmp_path):
    columns = Columns({"Count": "bigint", "count": "text"}, {"count": "count~1"})
    rendered = columns.get("COUNT").sql(dialect="duckdb")
    assert rendered.count("CAST(") == 2
    assert '"count~1"' in rendered and '"Count"' in rendered
