"""The Spark huntbook starts logs only errors to the terminal (engines/spark.py, QUIET_LOGGING),
unless the user's Spark configuration folder has logging of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from huntbook.engines.spark import LOG_FILE, QUIET_LOGGING, _logging

DATA = Path(__file__).resolve().parents[1] / "data"


def test_huntbook_logging_file_when_the_user_has_none(tmp_path: Path) -> None:
    assert LOG_FILE.is_file()
    given = _logging({"SPARK_CONF_DIR": str(tmp_path)})
    assert given == {QUIET_LOGGING: f"-Dlog4j2.configurationFile={LOG_FILE.as_uri()}"}
    assert _logging({}) == given


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("log4j2.properties", "rootLogger.level = info\n"),
        ("spark-defaults.conf", f"{QUIET_LOGGING}  -Dlog4j2.configurationFile=mine\n"),
    ],
)
def test_the_users_spark_configuration_wins(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    assert _logging({"SPARK_CONF_DIR": str(tmp_path)}) == {}
    conf = tmp_path / "home" / "conf"
    conf.mkdir(parents=True)
    (conf / name).write_text(text)
    assert _logging({"SPARK_HOME": str(tmp_path / "home")}) == {}


def test_a_spark_search_prints_no_spark_warnings(tmp_path: Path) -> None:
    """Before: Spark's default profile, its hostname and native-library WARN lines and a
    "Setting default log level" notice on stderr around the search's own output."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    from huntbook.ingest import ingest
    from huntbook.store import Store

    store = tmp_path / "store"
    ingest(Store(store), [DATA / "wmi_chain.jsonl"])
    argv = ["search", "index=* | stats count", "--store", str(store), "--engine", "spark"]
    done = subprocess.run(
        [sys.executable, "-m", "huntbook", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HUNTBOOK_CACHE": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    assert "count" in done.stdout
    spark_lines = [
        line
        for line in done.stderr.splitlines()
        if " WARN " in line or "log4j" in line or "log level" in line
    ]
    assert spark_lines == []
