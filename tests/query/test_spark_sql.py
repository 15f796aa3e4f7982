"""The Spark rendering (huntbook.query.spark) without Spark: DuckDB-only forms rewritten to
Spark's form of the same answer, the rest refused by construct before anything runs; DuckDB's SQL
is untouched. test_spark_differential.py runs both engines and compares the answers."""

from __future__ import annotations

import pytest

from huntbook.errors import EngineError, UnsupportedSplError
from huntbook.query import compile_spl

FIELDS = {
    "_time": "double",
    "_cd": "bigint",
    "_raw": "text",
    "host": "text",
    "P": "text",
    "s": "text",
    "Logon_ID": "list",
}


def spark(spl: str) -> str:
    return compile_spl(spl, FIELDS, now=1_700_000_000.0).sql("spark")


def test_try_cast_stays_try_cast() -> None:
    """Under ANSI mode CAST('abc' AS DOUBLE) fails; tonumber("abc") must be null."""
    sql = spark('| makeresults | eval n=tonumber("abc") | table n')
    assert "TRY_CAST(" in sql
    assert "TRY_CAST(" in compile_spl('| makeresults | eval n=tonumber("abc")', FIELDS).sql()


def test_named_groups_become_plain_groups_for_java() -> None:
    sql = spark(r'| rex "user=(?<user_name>\w+) dir=C:\\\\(?<dir>\w+)"')
    assert "(?P<" not in sql and "?<" not in sql
    assert r"user=(\\w+)" in sql


def test_sed_group_reference_in_java_syntax() -> None:
    sql = spark(r'| rex mode=sed field=s "s/id=(\d+)/\1=di/g"')
    assert "'$1=di'" in sql


def test_hex_and_binary_tonumber_read_by_conv() -> None:
    """DuckDB casts '0x1F' to 31; Spark's cast does not read the prefix."""
    sql = spark('| makeresults | eval n=tonumber("1F", 16), b=tonumber("101", 2)')
    assert "CONV(" in sql and "'0x'" not in sql


def test_anchored_first_match_replacement_runs_on_spark() -> None:
    """A pattern anchored at ^ matches once, so replacing all matches is the same answer."""
    assert "REGEXP_REPLACE(" in spark(r'| rex mode=sed field=s "s/^a+/b/"')


def test_duckdb_list_functions_rewritten() -> None:
    sql = spark(
        '| makeresults | eval m=split("a,b,c", ",") | eval r=mvindex(m, 0, 1), d=mvdedup(m)'
    )
    assert "LIST_SLICE" not in sql and "LIST_POSITION" not in sql
    assert "ARRAY_POSITION" in sql


def test_lambda_index_counts_from_one_on_spark() -> None:
    """DuckDB numbers list_transform's index from 1, Spark's transform from 0."""
    sql = spark('| makeresults | eval z=mvzip(split("a,b", ","), split("1,2", ","))')
    assert "(`__i` + 1)" in sql


def test_ordered_list_is_sorted_not_collected_in_any_order() -> None:
    """transaction mvlist: Spark's COLLECT_LIST keeps no order; the members must be oldest
    first, so structs (time, ingest order, value) are collected and sorted."""
    sql = spark("* | transaction s mvlist=P | table P")
    assert "ARRAY_SORT(COLLECT_LIST(STRUCT(" in sql


@pytest.mark.parametrize(
    ("spl", "construct"),
    [
        ("* | chart count over host by s", "chart/timechart with BY"),
        ("* | timechart span=1h count by host", "chart/timechart with BY"),
        (r'| rex mode=sed field=s "s/a/b/"', "replacing only the first match"),
        ("* | transaction s maxspan=10s", "transaction with maxspan="),
        ('| makeresults | eval t=strftime(_time, "%H:%M:%S.%3N")', "subseconds"),
        ('| makeresults | eval t=tostring(1234.5, "commas")', 'tostring(x, "commas")'),
    ],
)
def test_refused_on_spark_by_construct(spl: str, construct: str, tmp_path) -> None:
    lookups = tmp_path / "lookups"
    lookups.mkdir()
    (lookups / "users.csv").write_text("user\nbob\n", encoding="utf-8")
    query = compile_spl(spl, FIELDS, now=1_700_000_000.0, lookup_dirs=(str(lookups),))
    query.sql("duckdb")  # DuckDB runs it
    with pytest.raises(UnsupportedSplError, match="not supported on Spark") as err:
        query.sql("spark")
    assert construct in str(err.value)


def test_lookup_read_from_a_temp_view_on_spark(tmp_path) -> None:
    """A lookup's stage reads the view its rows are registered under (DuckDB's query of the
    file handed to the engine with that name); rendered without the engine, only named."""
    lookups = tmp_path / "lookups"
    lookups.mkdir()
    (lookups / "users.csv").write_text("user\nbob\n", encoding="utf-8")
    spl = "| inputlookup users.csv | lookup users.csv user"
    query = compile_spl(spl, FIELDS, now=1_700_000_000.0, lookup_dirs=(str(lookups),))
    registered: list[tuple[str, str]] = []
    sql = query.sql("spark", lookups=lambda rows, name: registered.append((rows.sql(), name)))
    assert "read_csv" not in sql.lower() and "__lookup_" in sql
    assert len(registered) == 2 and registered[0][1] == registered[1][1]  # one file, one view
    assert "READ_CSV" in registered[0][0] and registered[0][1] in sql
    assert query.sql("spark") == sql  # explain names the same view


def test_unknown_engine_named() -> None:
    from huntbook.engines import EngineChoice

    with pytest.raises(EngineError, match="unknown engine 'sprak'.*spark"):
        EngineChoice("sprak")


def test_workspace_explains_in_its_engine_dialect(tmp_path) -> None:
    from huntbook.store.testing import make_store
    from huntbook.workspace import Workspace

    make_store(tmp_path / "store", [{"_time": 1.0, "_raw": "x", "host": "h"}])
    workspace = Workspace(tmp_path / "store", engine="spark")
    assert "`host`" in workspace.explain("host=h | table host")
    assert '"host"' in Workspace(tmp_path / "store").explain("host=h | table host")
