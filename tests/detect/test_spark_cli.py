"""``huntbook detect --engine spark``: the rules run on Spark (no longer refused) and print what
DuckDB prints; a rule Spark cannot run with DuckDB's answer is skipped with the reason."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.spark

DATA = Path(__file__).resolve().parents[1] / "data"
RULES = """
title: wmi child
logsource: {product: windows, category: process_creation}
detection: {a: {ParentImage|endswith: '\\\\WmiPrvSE.exe'}, condition: a}
---
title: wmi child by regex
logsource: {product: windows, category: process_creation}
detection: {a: {ParentImage|re: '\\\\WmiPrvSE\\.exe$'}, condition: a}
---
title: wmi child by regex, any case
logsource: {product: windows, category: process_creation}
detection: {a: {ParentImage|re|i: 'wmiprvse\\.exe$'}, condition: a}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from huntbook.ingest import ingest
    from huntbook.store import Store

    path = tmp_path_factory.mktemp("detect-spark-cli") / "store"
    ingest(Store(path), [DATA / "wmi_chain.jsonl"], index="botsv2")
    return path


def _detect(
    engine: str,
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Any, Any]:
    from huntbook.cli import main

    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    monkeypatch.setenv("HUNTBOOK_CACHE", str(tmp_path / "cache"))
    out = tmp_path / engine
    argv = ["huntbook", "detect", str(rules), "--store", str(store), "--engine", engine]
    monkeypatch.setattr(sys, "argv", [*argv, "--format", "jsonl", "--out", str(out)])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code, capsys.readouterr()


def test_detect_runs_on_spark_with_duckdbs_hits(
    spark: Any,
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    duck_code, _ = _detect("duckdb", store, tmp_path, monkeypatch, capsys)
    code, printed = _detect("spark", store, tmp_path, monkeypatch, capsys)
    assert code == duck_code == 4, printed.err
    assert "3 rules: 2 ran, 1 skipped, 0 failed" in printed.err
    assert "Traceback" not in printed.err
    duck = json.loads((tmp_path / "duckdb" / "summary.json").read_text())["results"]
    on_spark = json.loads((tmp_path / "spark" / "summary.json").read_text())["results"]
    assert [(r["status"], r["hits"]) for r in duck] == [("ran", 2), ("ran", 2), ("ran", 2)]
    assert [(r["status"], r["hits"]) for r in on_spark] == [("ran", 2), ("ran", 2), ("skipped", 0)]
    assert on_spark[2]["reason"].startswith("not run on Spark: a case-insensitive regex")
    hits = (tmp_path / "spark" / "detections.jsonl").read_text().splitlines()
    duck_hits = (tmp_path / "duckdb" / "detections.jsonl").read_text().splitlines()
    assert hits == [h for h in duck_hits if "any case" not in h]
