"""Issue 11's commands that touch files or warn: outputlookup (writes into the store's lookups
folder only), iplocation (a MaxMind database the user places), a subsearch over Splunk's maxout
(a warning), and the Spark engine refusing by name what it does not render.

Each test names the Splunk Search Reference rule it pins ([S-outputlookup], [S-iplocation],
[S-subsearch]) or huntbook's containment rule for lookups (docs/spl-support.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from huntbook.errors import LookupAccessError, SplSyntaxError, UnsupportedSplError
from huntbook.query import compile_for_store, compile_spl, run_spl

EVENTS = [
    {"_time": 1500000001, "user": "alice", "ip": "8.8.8.8"},
    {"_time": 1500000002, "user": "bob", "ip": "10.1.2.3"},
    {"_time": 1500000003, "user": "carol", "ip": "not an address"},
    {"_time": 1500000004, "user": "dave"},
]


@pytest.fixture()
def store(tmp_path: Path) -> Any:
    from huntbook.store.testing import make_store

    return make_store(tmp_path / "store", EVENTS)


# --- outputlookup --------------------------------------------------------------------------------
def test_outputlookup_writes_a_lookup_that_inputlookup_and_lookup_read(store: Any) -> None:
    """[S-outputlookup] the results are written to the lookup file and passed on unchanged; the
    file is a lookup afterwards (inputlookup, lookup)."""
    rows = run_spl(store, "user=* | sort user | table user ip | outputlookup seen.csv").rows()
    assert [r["user"] for r in rows] == ["alice", "bob", "carol", "dave"]
    read = run_spl(store, "| inputlookup seen").rows()
    assert [(r["user"], r["ip"]) for r in read] == [
        ("alice", "8.8.8.8"),
        ("bob", "10.1.2.3"),
        ("carol", "not an address"),
        ("dave", None),
    ]
    joined = run_spl(store, "user=bob | lookup seen.csv user OUTPUT ip AS known | table known")
    assert joined.rows() == [{"known": "10.1.2.3"}]


def test_outputlookup_append_adds_rows_and_columns(store: Any) -> None:
    """[S-outputlookup] append=true adds the results after the file's rows (a new field becomes a
    new column, empty in the older rows)."""
    run_spl(store, "user=alice | table user | outputlookup people")
    run_spl(
        store,
        '| makeresults | eval user="zed", role="admin" | table user role '
        "| outputlookup append=true people",
    )
    text = (store.lookups / "people.csv").read_text(encoding="utf-8").splitlines()
    assert text == ['"user","role"', '"alice",', '"zed","admin"']


def test_outputlookup_empty_results_options(store: Any) -> None:
    """[S-outputlookup] no results: override_if_empty=false keeps the existing file,
    create_empty=false removes it, the defaults leave a file without rows."""
    run_spl(store, "user=alice | table user | outputlookup keep.csv")
    run_spl(store, "user=nobody | table user | outputlookup override_if_empty=false keep.csv")
    assert "alice" in (store.lookups / "keep.csv").read_text(encoding="utf-8")
    run_spl(store, "user=nobody | table user | outputlookup keep.csv")
    assert run_spl(store, "| inputlookup keep.csv").rows() == []
    run_spl(store, "user=nobody | table user | outputlookup create_empty=false keep.csv")
    assert not (store.lookups / "keep.csv").exists()


@pytest.mark.parametrize("name", ["../escape.csv", "/tmp/x.csv", "sub/x.csv", "x.csv.gz"])
def test_outputlookup_writes_plain_names_only(store: Any, name: str) -> None:
    """Containment (docs/spl-support.md, lookup): a folder part or a compressed name is refused
    before anything runs."""
    with pytest.raises(LookupAccessError, match="plain name"):
        run_spl(store, f"| makeresults | outputlookup {name}")


def test_outputlookup_refuses_a_symlink(store: Any, tmp_path: Path) -> None:
    """Containment: a symlink in the lookups folder is never written through."""
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n", encoding="utf-8")
    store.lookups.mkdir(parents=True, exist_ok=True)
    (store.lookups / "link.csv").symlink_to(outside)
    with pytest.raises(LookupAccessError, match="symlink"):
        run_spl(store, "| makeresults | outputlookup link.csv")
    assert outside.read_text(encoding="utf-8") == "a\n1\n"


def test_outputlookup_needs_a_writable_store(store: Any) -> None:
    """A search without a store, or the web workbench's read-only one, does not write."""
    from huntbook.query.explore import Exploration

    with pytest.raises(LookupAccessError, match="may not write"):
        compile_spl("| makeresults | outputlookup x.csv", store.fields())
    query = compile_for_store(store, "| makeresults | outputlookup x.csv")
    with pytest.raises(LookupAccessError, match="read-only"):
        Exploration(store, query)
    assert not (store.lookups / "x.csv").exists()


# --- iplocation ----------------------------------------------------------------------------------
def _database(folder: Path) -> Path:
    """A tiny GeoLite2-City-shaped database: 8.8.8.0/24 only."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    record = {
        "city": {"names": {"en": "Mountain View"}},
        "country": {"names": {"en": "United States", "de": "Vereinigte Staaten"}},
        "subdivisions": [{"names": {"en": "California"}}],
        "continent": {"names": {"en": "North America"}},
        "location": {"latitude": 37.4, "longitude": -122.1, "time_zone": "America/Los_Angeles"},
    }
    writer.insert_network(IPSet(["8.8.8.0/24"]), record)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "GeoLite2-City.mmdb"
    writer.to_db_file(str(path))
    return path


def test_iplocation_fields(store: Any) -> None:
    """[S-iplocation] City, Country, Region, lat, lon from the database; an address it does not
    hold (a private one, text that is no address) gets empty fields; no ip, no fields."""
    _database(store.lookups)
    rows = run_spl(store, "* | sort user | iplocation ip | table user City Country Region lat lon")
    by_user = {r["user"]: r for r in rows.rows()}
    assert by_user["alice"] == {
        "user": "alice",
        "City": "Mountain View",
        "Country": "United States",
        "Region": "California",
        "lat": 37.4,
        "lon": -122.1,
    }
    for user in ("bob", "carol"):
        assert (by_user[user]["City"], by_user[user]["Country"], by_user[user]["lat"]) == (
            "",
            "",
            None,
        )
    assert by_user["dave"]["Country"] is None


def test_iplocation_options_and_lookups_folder(store: Any, tmp_path: Path) -> None:
    """[S-iplocation] prefix= names the fields, allfields=true adds Continent, MetroCode and
    Timezone, lang= picks the names' language; the database may sit in a --lookups folder."""
    _database(tmp_path / "geo")
    spl = "user=alice | iplocation prefix=g_ allfields=true lang=de ip | table g_*"
    (row,) = run_spl(store, spl, lookups=[tmp_path / "geo"]).rows()
    assert row["g_Country"] == "Vereinigte Staaten" and row["g_City"] == ""
    assert row["g_Timezone"] == "America/Los_Angeles" and row["g_Continent"] == ""


def test_iplocation_without_a_database_names_the_file_and_folder(store: Any) -> None:
    """huntbook fetches nothing: without the database the error names iplocation, the file and
    where it must be."""
    with pytest.raises(SplSyntaxError, match="iplocation needs a MaxMind City database") as err:
        run_spl(store, "* | iplocation ip")
    assert "GeoLite2-City.mmdb" in str(err.value) and str(store.lookups) in str(err.value)


# --- subsearch maxout ----------------------------------------------------------------------------
def test_subsearch_over_maxout_warns(store: Any) -> None:
    """[S-subsearch] a subsearch passes on at most 10,000 results; Splunk drops the rest silently,
    huntbook says so."""
    spl = 'user=* [| makeresults count=10001 | eval user="alice" | fields user] | stats count'
    result = run_spl(store, spl)
    assert result.rows() == [{"count": 1}]
    assert any("more than 10,000 results" in w for w in result.warnings)
    quiet = run_spl(store, 'user=* [| makeresults count=10000 | eval user="alice" | fields user]')
    assert not any("10,000" in w for w in quiet.warnings)


# --- Spark ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spl", "construct"),
    [
        ("* | fieldsummary", "fieldsummary"),
        ('| makeresults | eval j="{}" | fromjson j | table a', "fromjson"),
        ("* | outputlookup x.csv", "outputlookup"),
        ("user=* [search user=bob | fields user]", "a [subsearch] used as a search filter"),
    ],
)
def test_spark_refuses_by_name(store: Any, spl: str, construct: str) -> None:
    """Constructs compiled for DuckDB only are refused on Spark, by name, before running."""
    query = compile_for_store(store, spl)
    with pytest.raises(UnsupportedSplError, match=re.escape(f"{construct} is not supported on")):
        query.sql("spark")
    assert not (store.lookups / "x.csv").exists()


def test_spark_refuses_iplocation_by_name(store: Any) -> None:
    _database(store.lookups)
    query = compile_for_store(store, "* | iplocation ip")
    with pytest.raises(UnsupportedSplError, match="iplocation is not supported on Spark"):
        query.sql("spark")
