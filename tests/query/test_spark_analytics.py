"""The analytics on Spark (issue 13): ``huntbook findings --engine spark`` gives DuckDB's findings
JSON, reading the store only through Spark (any DuckDB connection fails the test), on the demo
store and on real recordings from ../shared/data (one with lateral movement by DCOM and RDP, one
by PsExec), on the whole store and on one index.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.usefixtures("spark")]  # one SparkSession

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDINGS = ("empire_dcom_shellwindows_stager", "empire_psexec_dcerpc_tcp_svcctl")


def _no_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    from huntbook.store import Store

    def refuse(store: Any) -> None:
        pytest.fail("findings on Spark read the store through DuckDB")

    monkeypatch.setattr(Store, "connect", refuse)


def _findings(path: Path, engine: str, index: str | None = None) -> str:
    from huntbook.workspace import Workspace

    found = Workspace(path, engine=engine).findings(index=index)
    return json.dumps(found, indent=1, sort_keys=True)


def assert_same_findings(
    path: Path, monkeypatch: pytest.MonkeyPatch, index: str | None = None
) -> dict[str, Any]:
    """DuckDB's findings, then Spark's with DuckDB unreachable: the same JSON, text for text."""
    duck = _findings(path, "duckdb", index)
    with monkeypatch.context() as patched:
        _no_duckdb(patched)
        on_spark = _findings(path, "spark", index)
    assert on_spark == duck
    found: dict[str, Any] = json.loads(duck)
    assert not found["errors"]
    return found


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from huntbook.demo import generator
    from huntbook.ingest import ingest
    from huntbook.store import Store

    root = tmp_path_factory.mktemp("demo-spark")
    generator.generate(root / "logs", events=3000)
    ingest(Store(root / "store"), [root / "logs"], index="botsv2")
    return root / "store"


def test_demo_findings_same_on_spark(
    demo_store: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's classic-text Security logs: multivalue positions (``Logon_ID`` 2) on Spark."""
    found = assert_same_findings(demo_store, monkeypatch)
    wmi = [e for e in found["lateral_movement"] if e["method"] == "WMI"]
    assert sorted(e["destination"] for e in wmi) == ["venus", "wrk-klagerf"]
    assert found["powershell"]


@pytest.mark.shared
@pytest.mark.parametrize("name", RECORDINGS)
def test_recording_findings_same_on_spark(
    name: str,
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huntbook.ingest import ingest
    from huntbook.store import Store

    ingest(Store(tmp_path / "store"), [shared_data / "security-datasets" / f"{name}.zip"])
    found = assert_same_findings(tmp_path / "store", monkeypatch)
    assert {e["destination"] for e in found["lateral_movement"]} == {"WORKSTATION6"}
    events = [e for edge in found["lateral_movement"] for e in edge["evidence"]]
    assert all(e.get("file", "").endswith(f"{name}.zip") for e in events)  # provenance, on Spark


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The WMI chain in index ``botsv2``, and as a Splunk export in ``other``."""
    from huntbook.ingest import ingest
    from huntbook.store import Store

    path = tmp_path_factory.mktemp("index-spark") / "store"
    ingest(Store(path), [DATA / "wmi_chain.jsonl"], index="botsv2")
    ingest(Store(path), [DATA / "splunk_export.json"], index="other")
    return path


@pytest.mark.parametrize("index", ["BOTSV2", "other", "absent"])
def test_index_findings_same_on_spark(
    index: str,
    two_indexes: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--index`` narrows Spark's ``events`` for the analytics only, as DuckDB's view does."""
    found = assert_same_findings(two_indexes, monkeypatch, index)
    assert bool(found["lateral_movement"]) is (index != "absent")
    # the session's view is still the whole store for the searches that follow
    from huntbook.workspace import Workspace

    total = Workspace(two_indexes, engine="spark").search("index=* | stats count")
    assert total.rows()[0]["count"] > 0


def test_findings_cli_on_spark(
    two_indexes: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from huntbook.cli import main

    _no_duckdb(monkeypatch)
    argv = ["huntbook", "findings", "--engine", "spark", "--store", str(two_indexes)]
    monkeypatch.setattr(sys, "argv", [*argv, "--format", "json"])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    assert done.value.code == 0, out.err
    assert [e["method"] for e in json.loads(out.out)["lateral_movement"]] == ["WMI"]


# A search that runs for minutes on Spark (10 events x 20,000 x 20,000 rows counted), with nothing
# that could fail before its limit (a count is a bigint far from overflowing).
LONG_SEARCH = (
    "index=* | head 10 | eval a=mvrange(0, 20000) | mvexpand a | eval b=mvrange(0, 20000) "
    "| mvexpand b | stats count"
)


def test_timeout_stops_a_long_spark_search(
    two_indexes: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--timeout`` on Spark: the search's jobs are interrupted at the limit, exit 14 with
    docs/errors.md's message, and the session serves the next search."""
    import time

    from huntbook.cli import main
    from huntbook.workspace import Workspace

    argv = ["huntbook", "search", "--engine", "spark", "--store", str(two_indexes)]
    monkeypatch.setattr(sys, "argv", [*argv, "--timeout", "3", LONG_SEARCH])
    started = time.monotonic()
    with pytest.raises(SystemExit) as done:
        main()
    took = time.monotonic() - started
    out = capsys.readouterr()
    assert done.value.code == 14, out.err
    assert "ran past its time limit of 3 s and was stopped" in out.err
    assert "Traceback" not in out.err
    assert took < 60, took  # stopped, not run to the end
    after = Workspace(two_indexes, engine="spark", timeout=60).search("index=* | stats count")
    assert after.rows()[0]["count"] > 0


@pytest.fixture
def lookup_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A lookups folder holding an ESCU definition (``admins.yml`` naming its CSV, with a line
    whose quoted value holds a comma and a quote, and an empty field) and a symlink to a CSV
    outside it."""
    allowed, outside = tmp_path / "lookups", tmp_path / "elsewhere"
    allowed.mkdir()
    outside.mkdir()
    rows = 'host,role,note\nWORKSTATION6,admin,"a, ""b"""\nWORKSTATION5,,x\nWORKSTATION6,dup,y\n'
    (allowed / "admin_hosts_20240101.csv").write_text(rows)
    (allowed / "admins.yml").write_text("name: admins\nfilename: admin_hosts_20240101.csv\n")
    (outside / "secret.csv").write_text("host,role\nx,y\n")
    (allowed / "secret.csv").symlink_to(outside / "secret.csv")
    return allowed, outside


LOOKUP_SEARCHES = [
    "| inputlookup admins",
    '| inputlookup admins where role="admin"',
    "index=* | stats count by host | lookup admins host OUTPUT role, note | sort host",
    "index=* | stats count by host | lookup admins host OUTPUTNEW role AS r | sort host",
]


@pytest.mark.parametrize("spl", LOOKUP_SEARCHES)
def test_escu_lookup_same_on_spark(
    spl: str,
    two_indexes: Path,
    lookup_folders: tuple[Path, Path],
) -> None:
    from huntbook.workspace import Workspace

    lookups = [lookup_folders[0]]
    duck = Workspace(two_indexes, lookups=lookups).search(spl)
    on_spark = Workspace(two_indexes, lookups=lookups, engine="spark").search(spl)
    assert "__lookup_" in on_spark.sql and "read_csv" not in on_spark.sql.lower()
    assert on_spark.columns == duck.columns
    assert on_spark.rows() == duck.rows() and duck.rows()


def test_lookup_confined_on_spark(
    two_indexes: Path,
    lookup_folders: tuple[Path, Path],
) -> None:
    """The same folders and the same refusals as on DuckDB: a symlink out of them, a path."""
    from huntbook.errors import LookupAccessError
    from huntbook.workspace import Workspace

    spark_ws = Workspace(two_indexes, lookups=[lookup_folders[0]], engine="spark")
    for spl in ("| inputlookup secret.csv", f"| inputlookup {lookup_folders[1]}/secret.csv"):
        with pytest.raises(LookupAccessError):
            spark_ws.search(spl)
