"""``huntbook detect`` through the console entry point: output, files and exact exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.detect.events import sysmon_event

from huntbook.cli import cli
from huntbook.cli._errors import run_guarded
from huntbook.store.testing import make_store

RULE = """
title: Whoami Run
id: 00000000-0000-0000-0000-0000000000c1
logsource: {product: windows, category: process_creation}
detection: {a: {CommandLine|contains: %s}, condition: a}
level: %s
tags: [attack.discovery, attack.t1033]
"""


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    event = sysmon_event(CommandLine="cmd /c whoami")
    make_store(tmp_path / "store", [event])
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "hit.yml").write_text(RULE % ("whoami", "medium"))
    (tmp_path / "rules" / "miss.yml").write_text(RULE % ("mimikatz", "high"))
    return tmp_path


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["huntbook", *args])
    monkeypatch.setenv("HUNTBOOK_CACHE", str(Path(args[-1]).parent / "cache"))
    return run_guarded(cli)


def test_table_and_exit_4_when_a_rule_matched(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(monkeypatch, "detect", str(setup / "rules"), "--store", str(setup / "store"))
    assert code == 4
    captured = capsys.readouterr()
    assert "Whoami Run" in captured.out
    assert "2 rules: 2 ran, 0 skipped, 0 failed; 1 hit in " in captured.err


def test_exit_0_when_nothing_matched(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = str(setup / "rules" / "miss.yml")
    assert _run(monkeypatch, "detect", rule, "--store", str(setup / "store")) == 0
    captured = capsys.readouterr()
    assert "No detections." in captured.out
    assert "1 rule: 1 ran, 0 skipped, 0 failed; 0 hits in " in captured.err


def test_missing_store_is_exit_13(setup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _run(monkeypatch, "detect", str(setup / "rules"), "--store", str(setup / "none"))
    assert code == 13


def test_out_writes_the_three_files_and_level_skips_with_reason(
    setup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = setup / "out"
    args = ["detect", str(setup / "rules"), "--level", "high", "--out", str(out)]
    assert _run(monkeypatch, *args, "--store", str(setup / "store")) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [e["status"] for e in summary["results"]] == ["skipped", "ran"]
    assert summary["results"][0]["reason"] == "level medium is below --level high"
    assert (out / "detections.jsonl").read_text() == ""
    assert "Rules that did not run" in (out / "report.html").read_text()


def test_jsonl_lines_carry_rule_and_event(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["detect", str(setup / "rules"), "--format", "jsonl", "--tags", "attack.t1033"]
    assert _run(monkeypatch, *args, "--store", str(setup / "store")) == 4
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["rule_id"] == "00000000-0000-0000-0000-0000000000c1"
    assert record["tags"] == ["attack.discovery", "attack.t1033"]
    assert record["_time"] == "2020-09-13T12:26:40.000000Z"
    assert (record["host"], record["EventCode"], record["CommandLine"]) == (
        "pc",
        "1",
        "cmd /c whoami",
    )


def test_csv_has_a_header_and_a_row_per_hit(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["detect", str(setup / "rules"), "--format", "csv"]
    assert _run(monkeypatch, *args, "--store", str(setup / "store")) == 4
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "rule_id,_time,level,title,host,EventCode,source,_cd"
    assert lines[1:] == [
        "00000000-0000-0000-0000-0000000000c1,2020-09-13T12:26:40.000000Z,medium,Whoami Run,pc,1,"
        "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational,0"
    ]


# A second run in a fresh interpreter: which modules did it import? (printed as JSON)
_IMPORTS = """
import json, sys
from huntbook.cli import main
sys.argv = ["huntbook", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _fresh_run(setup: Path, *args: str) -> dict[str, object]:
    env = {**os.environ, "HUNTBOOK_CACHE": str(setup / "cache")}
    command = [sys.executable, "-c", _IMPORTS, "detect", *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_run_on_cached_rules_imports_neither_pysigma_nor_other_commands(setup: Path) -> None:
    args = [str(setup / "rules"), "--store", str(setup / "store"), "--out", str(setup / "out")]
    first = _fresh_run(setup, *args)
    assert first["code"] == 4
    assert "sigma.rule" in first["modules"]  # the rules were converted: pySigma was needed
    second = _fresh_run(setup, *args)
    assert second["code"] == 4
    loaded = set(second["modules"])  # type: ignore[call-overload]
    # pySigma, the SPL compiler (the group SQL is cached too), the hunt and search commands
    assert not {"sigma", "huntbook.query", "huntbook.hunts", "huntbook.cli.hunt"} & loaded
    assert json.loads((setup / "out" / "summary.json").read_text())["hits"] == 1


def test_an_ingest_imports_no_engine_duckdb_sqlglot_or_fsspec(tmp_path: Path) -> None:
    """Ingest + detect on a few files is mostly start-up: an ingest loads only what it uses."""
    data = tmp_path / "two.jsonl"
    line = '{"EventID": 4688, "Hostname": "H", "@timestamp": "2020-09-18T13:07:51.000Z"}\n'
    data.write_text(line * 2)
    command = [sys.executable, "-c", _IMPORTS, "ingest", str(data), "--store", str(tmp_path / "s")]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    run = json.loads(done.stdout.splitlines()[-1])
    assert run["code"] == 0
    assert "Ingested 2 events" in done.stdout
    unused = ("duckdb", "sqlglot", "fsspec", "huntbook.engines.duckdb", "huntbook.engines.spark")
    assert [m for m in run["modules"] if m.split(".")[0] in unused or m in unused] == []


def test_json_prints_what_one_dump_of_the_list_prints(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json is written record by record, byte for byte ``json.dumps(list, indent=1)``."""
    (setup / "rules" / "also.yml").write_text(
        (RULE % ("cmd", "low")).replace("0000000000c1", "0000000000c2")
    )
    store = ["--store", str(setup / "store")]
    assert _run(monkeypatch, "detect", str(setup / "rules"), "--format", "jsonl", *store) == 4
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 2
    assert _run(monkeypatch, "detect", str(setup / "rules"), "--format", "json", *store) == 4
    assert capsys.readouterr().out == json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    miss = str(setup / "rules" / "miss.yml")
    assert _run(monkeypatch, "detect", miss, "--format", "json", *store) == 0
    assert capsys.readouterr().out == "[]\n"


SECURITY_4688 = (
    '{"EventID": 4688, "Hostname": "H", "Channel": "Security", "@timestamp": '
    '"2020-09-18T13:07:51.000Z", "CommandLine": "cmd /c whoami"}\n'
)


def test_ingest_option_ingests_then_detects_in_one_run(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (setup / "new.jsonl").write_text(SECURITY_4688)
    store = ["--store", str(setup / "fresh")]
    args = ["detect", str(setup / "rules" / "hit.yml"), "--ingest", str(setup / "new.jsonl")]
    assert _run(monkeypatch, *args, "--format", "jsonl", *store) == 4
    captured = capsys.readouterr()
    (line,) = captured.out.splitlines()  # stdout holds the hits only
    assert (json.loads(line)["EventCode"], json.loads(line)["host"]) == ("4688", "H")
    assert "Ingested 1 events from 1 files" in captured.err
    assert _run(monkeypatch, *args, "--format", "jsonl", *store) == 4  # the file is not added twice
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1
    assert "Already in the store (same content, nothing added): 1" in captured.err


def test_ingest_option_exits_as_ingest_does_without_detecting(
    setup: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (setup / "notes.txt").write_text("not an event log\n")
    args = ["detect", str(setup / "rules"), "--ingest", str(setup / "notes.txt")]
    assert _run(monkeypatch, *args, "--store", str(setup / "fresh")) == 10
    assert "rules:" not in capsys.readouterr().err
