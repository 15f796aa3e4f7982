"""``huntbook search``: output formats, the JSON contract outside scripts rely on, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.store.testing import make_store


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    events: list[dict[str, Any]] = [
        {"_time": 1558213453.123, "_raw": "one", "index": "botsv2", "host": "h1", "source": "s",
         "sourcetype": "WinEventLog", "EventCode": "4624", "Logon_ID": ["0x0", "0x3E7"]},
        {"_time": 1558213454.0, "_raw": "two", "index": "botsv2", "host": "h2", "source": "s",
         "sourcetype": "WinEventLog", "EventCode": "4688", "Logon_ID": ["0x3E7"]},
    ]  # fmt: skip
    make_store(path, events)
    return path


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["search", *args])


def test_json_is_one_array_with_iso_time_and_multivalue_arrays(store_dir: Path) -> None:
    result = _run(
        "index=botsv2 | table _time host Logon_ID", "--store", str(store_dir), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows == [
        {"_time": "2019-05-18T21:04:14.000000Z", "host": "h2", "Logon_ID": "0x3E7"},
        {"_time": "2019-05-18T21:04:13.123000Z", "host": "h1", "Logon_ID": ["0x0", "0x3E7"]},
    ]


def test_limit_caps_rows(store_dir: Path) -> None:
    result = _run("index=botsv2", "--store", str(store_dir), "--format", "jsonl", "--limit", "1")
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == 1


def test_csv_and_table(store_dir: Path) -> None:
    csv_out = _run("* | stats count by host", "--store", str(store_dir), "--format", "csv")
    assert csv_out.output.splitlines() == ["host,count", "h1,1", "h2,1"]
    table = _run("* | table host Logon_ID", "--store", str(store_dir))
    assert table.exit_code == 0 and "0x3E7" in table.output and "2 rows" in table.output


def test_explain_prints_sql_in_either_dialect(store_dir: Path) -> None:
    duck = _run("* | head 1", "--store", str(store_dir), "--explain")
    spark = _run(
        "* | eval x=mvindex(Logon_ID, 0)",
        "--store",
        str(store_dir),
        "--explain",
        "--dialect",
        "spark",
    )
    assert duck.exit_code == 0 and "LIMIT 1" in duck.output
    assert spark.exit_code == 0 and "`Logon_ID`" in spark.output


def _process(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point (python -m huntbook): exit code and stderr as a hunter sees them."""
    command = [sys.executable, "-m", "huntbook", "search", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_errors_go_to_stderr_without_traceback(store_dir: Path) -> None:
    result = _process("* | stast count", "--store", str(store_dir))
    assert result.returncode != 0 and result.stdout == ""
    assert "unsupported command 'stast'" in result.stderr and "^" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_store_is_an_error(tmp_path: Path) -> None:
    result = _process("*", "--store", str(tmp_path / "nope"))
    assert result.returncode != 0 and "no event store" in result.stderr


def test_raw_events_show_as_an_event_list_within_120_columns(store_dir: Path) -> None:
    result = _run("index=botsv2", "--store", str(store_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "2019-05-18T21:04:14.000000Z  host=h2  source=s  sourcetype=WinEventLog",
        "    index=botsv2  EventCode=4688  Logon_ID=0x3E7",
        "",
    ]
    assert "Logon_ID=0x0, 0x3E7" in result.stdout and lines[-1] == "2 events"
    assert max(len(line) for line in lines) <= 120


def test_transforming_searches_keep_the_table_and_named_empty_columns(store_dir: Path) -> None:
    result = _run("index=botsv2 | table host nothere EventCode", "--store", str(store_dir))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["host", "nothere", "EventCode"]


def test_explain_goes_through_workspace_and_sees_the_stores_lookups(tmp_path: Path) -> None:
    store = tmp_path / "store"
    make_store(store, [{"_time": 1.0, "_raw": "x", "index": "main", "host": "h1"}])
    (store / "lookups").mkdir()
    (store / "lookups" / "owners.csv").write_text("host,owner\nh1,alice\n")
    spl = "* | lookup owners.csv host OUTPUT owner | table host owner"
    explained = _run(spl, "--store", str(store), "--explain")
    assert explained.exit_code == 0, explained.output
    assert "owners.csv" in explained.stdout
    assert json.loads(_run(spl, "--store", str(store), "--format", "json").stdout) == [
        {"host": "h1", "owner": "alice"}
    ]
