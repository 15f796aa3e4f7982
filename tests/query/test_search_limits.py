"""Running a search within limits (issues 10 and 14): streaming, memory and time limits,
makeresults' cap, timechart's grid, --limit 0, pandas' _time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from huntbook import Workspace
from huntbook.cli import cli
from huntbook.errors import QueryLimitError
from huntbook.store.testing import make_store

START = 1420070400.0  # 2015-01-01
YEARS_4 = 4 * 365 * 86400
SLOW = "| makeresults count=50000 | eval x=mvrange(0, 20000) | mvexpand x | stats count by x"
HUNGRY = (
    "| makeresults count=50000 | eval x=mvrange(0, 200) | mvexpand x | streamstats count as n"
    ' | eval y=n . "-abcdefghijklmnopqrstuvwxyz" | stats list(y) as v'
)


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,288 events over four years on five hosts (the timechart case of issue 14)."""
    path = tmp_path_factory.mktemp("years") / "store"
    events: list[dict[str, Any]] = [
        {"_time": START + i * YEARS_4 / 1287, "_raw": f"e{i}", "index": "main",
         "host": f"h{i % 5}", "source": "s", "sourcetype": "st", "EventCode": "1"}
        for i in range(1288)
    ]  # fmt: skip
    make_store(path, events)
    return path


def _cli(store: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["search", *args, "--store", str(store)])


def _process(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point: exit codes and stderr as a hunter sees them."""
    command = [sys.executable, "-m", "huntbook", "search", *args, "--store", str(store)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_rows_stream_in_batches_and_json_stays_one_array(years: Path) -> None:
    with Workspace(years).stream("| makeresults count=25000") as stream:
        sizes = [batch.num_rows for batch in stream.batches()]
    assert len(sizes) > 1 and sum(sizes) == 25000
    out = _cli(years, "| makeresults count=25000 | eval n=1", "--format", "json")
    rows = json.loads(out.stdout)
    assert len(rows) == 25000 and rows[0]["n"] == 1 and rows[0]["_time"].endswith("Z")
    empty = _cli(years, "index=nothing", "--format", "json")
    assert json.loads(empty.stdout) == []


def test_memory_limit_stops_the_search_with_exit_14(years: Path) -> None:
    with pytest.raises(QueryLimitError, match="memory limit of 19 MiB.*--memory-limit"):
        Workspace(years, memory_limit="20MB").search(HUNGRY)
    out = _process(years, HUNGRY, "--memory-limit", "20MB", "--format", "csv")
    assert out.returncode == 14 and "--memory-limit" in out.stderr and out.stdout == ""
    assert _cli(years, "*", "--memory-limit", "lots").exit_code == 2


def test_timeout_interrupts_the_search_with_exit_14(years: Path) -> None:
    started = time.monotonic()
    with pytest.raises(QueryLimitError, match=r"time limit of 0\.5 s.*--timeout"):
        Workspace(years, timeout=0.5).search(SLOW)
    assert time.monotonic() - started < 10
    out = _process(years, SLOW, "--timeout", "0.5", "--format", "jsonl")
    assert out.returncode == 14 and "--timeout" in out.stderr


def test_makeresults_over_splunks_cap_is_refused(years: Path) -> None:
    out = _process(years, "| makeresults count=100000000", "--format", "json")
    assert out.returncode == 14 and "50,000" in out.stderr
    assert len(Workspace(years).search("| makeresults count=50000")) == 50000


def test_timechart_with_too_many_buckets_is_refused_before_it_runs(years: Path) -> None:
    started = time.monotonic()
    out = _process(years, "index=* | timechart span=1m count by host", "--format", "json")
    assert out.returncode == 14
    assert "2,102,401 time buckets" in out.stderr and "50,000" in out.stderr
    assert time.monotonic() - started < 10


def test_a_limit_limits_the_timechart_work(years: Path) -> None:
    result = Workspace(years).search("index=* | timechart span=1m count by host", limit=3)
    assert [r["_time"] for r in result.rows()] == [START, START + 60, START + 120]
    assert "LEAST(" in result.sql  # the bucket series stops at the limit inside the query


def test_a_sparse_timechart_warns_on_stderr(years: Path) -> None:
    out = _cli(years, "index=* | timechart span=1h count by host", "--format", "csv")
    assert out.exit_code == 0
    assert "fills 175,205 rows for 1,288 events" in out.stderr
    assert len(out.stdout.splitlines()) == 35041 + 1


def test_limit_0_means_no_limit(years: Path) -> None:
    assert len(Workspace(years).search("index=*", limit=0)) == 1288
    out = _cli(years, "index=*", "--format", "jsonl", "--limit", "0")
    assert len(out.stdout.splitlines()) == 1288
    table = _cli(years, "index=* | stats count by _time", "--limit", "0")
    assert "1288 rows" in table.stdout and "not shown" not in table.stdout


def test_table_fetches_only_the_rows_it_shows(years: Path) -> None:
    out = _cli(years, "index=* | table _time host")
    assert out.exit_code == 0 and out.stdout.rstrip().endswith(
        "more not shown (use --limit N, --limit 0 for all, or --format)"
    )
    assert "100 rows shown" in out.stdout


def test_to_pandas_gives_utc_datetimes(years: Path) -> None:
    pandas = pytest.importorskip("pandas")
    frame = Workspace(years).search("index=* | head 2 | table _time host").to_pandas()
    assert str(frame["_time"].dt.tz) == "UTC"
    assert frame["_time"].iloc[0] == pandas.Timestamp("2018-12-31T00:00:00", tz="UTC")
