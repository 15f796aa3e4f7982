"""``table foo host`` shows ``foo`` even when no event has it (spl.md §4 table: a listed field
absent from all rows still yields a blank column), in every output of a search."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from huntbook.query import run_spl
from huntbook.store.testing import make_store

SPL = "| table foo host"


@pytest.fixture
def store(tmp_path: Path):
    return make_store(tmp_path / "store", [{"_time": 1500000000, "host": "h1", "_raw": "x"}])


def test_the_result_keeps_the_empty_column(store) -> None:
    result = run_spl(store, SPL)
    assert result.columns == ["foo", "host"]
    assert result.to_arrow().column_names == ["foo", "host"]
    assert result.to_arrow().column("foo").to_pylist() == [None]
    assert result.rows() == [{"foo": None, "host": "h1"}]


def _cli(store, fmt: str) -> str:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "huntbook",
            "search",
            SPL,
            "--store",
            str(store.path),
            "--format",
            fmt,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_json_and_csv_output_keep_the_empty_column(store) -> None:
    assert json.loads(_cli(store, "json")) == [{"foo": None, "host": "h1"}]
    rows = list(csv.reader(io.StringIO(_cli(store, "csv"))))
    assert rows == [["foo", "host"], ["", "h1"]]


def test_the_terminal_table_keeps_the_empty_column(store) -> None:
    header = _cli(store, "table").splitlines()[0]
    assert header.split() == ["foo", "host"]
