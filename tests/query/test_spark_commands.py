"""``--engine duckdb`` named explicitly on ``huntbook findings`` and ``huntbook detect``.
(findings on Spark: test_spark_analytics.py; detect on Spark: tests/detect/test_spark_cli.py.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
SIGMA = """
title: wmi child
logsource: {product: windows, category: process_creation}
detection: {a: {ParentImage|endswith: '\\\\WmiPrvSE.exe'}, condition: a}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from huntbook.ingest import ingest
    from huntbook.store import Store

    path = tmp_path_factory.mktemp("engine-commands") / "store"
    ingest(Store(path), [DATA / "wmi_chain.jsonl"], index="botsv2")
    return path


def _run(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Any, Any]:
    from huntbook.cli import main

    monkeypatch.setattr(sys, "argv", ["huntbook", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code, capsys.readouterr()


def _with_rule(command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``command`` with ``{rules}`` naming a Sigma rule written for it (and a cache of its own)."""
    (tmp_path / "rule.yml").write_text(SIGMA)
    monkeypatch.setenv("HUNTBOOK_CACHE", str(tmp_path / "cache"))
    return [a.format(rules=tmp_path / "rule.yml") for a in command]


@pytest.mark.parametrize(
    ("command", "code", "shown"),
    [(["findings"], 0, "Lateral movement: 1 edge"), (["detect", "{rules}"], 4, "wmi child")],
)
def test_duckdb_engine_named_explicitly(
    command: list[str],
    code: int,
    shown: str,
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = _with_rule(command, tmp_path, monkeypatch)
    got, out = _run([*argv, "--engine", "duckdb", "--store", str(store)], monkeypatch, capsys)
    assert got == code, out.err
    assert shown in out.out
