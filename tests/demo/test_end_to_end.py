"""The real pipeline on the demo data: ingest as botsv2, the seed's searches verbatim, the demo."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.demo.generator import SECURITY_FILE, SYSMON_FILE
from huntbook.hunts import load_playbook
from huntbook.hunts.builtin import resolve
from huntbook.query import run_spl

SEED_HITS = [11, 0, 2, 27, 3]  # the seed's Results table, in its order


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``huntbook demo --out`` run once: its folder and its output."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def demo_store(demo_out: tuple[Path, str]):  # type: ignore[no-untyped-def]
    from huntbook.store import Store

    return Store(demo_out[0] / "store")


def test_seed_searches_verbatim_give_the_seed_results(demo_store) -> None:  # type: ignore[no-untyped-def]
    queries = load_playbook(resolve("wmi-lateral-movement")).queries
    process, network, transaction, by_logon, parent = (q.spl for q in queries[1:6])
    sessions = run_spl(demo_store, transaction).rows()
    pivot_hits = 0
    for row in sessions:
        filled = by_logon.replace("<login_id>", row["session"]).replace("<host>", row["host"])
        pivot_hits += len(run_spl(demo_store, filled).rows())
    hits = [
        len(run_spl(demo_store, process).rows()),
        len(run_spl(demo_store, network).rows()),
        len(sessions),
        pivot_hits,
        len(run_spl(demo_store, parent).rows()),
    ]
    assert hits == SEED_HITS
    assert sorted(r["host"] for r in sessions) == ["venus", "wrk-klagerf"]


def test_huntbook_demo_writes_the_seed_report(demo_out: tuple[Path, str]) -> None:
    out, output = demo_out
    assert "report.html" in output
    report = json.loads((out / "report.json").read_text())
    assert [q["hits"] for q in report["queries"]][1:] == SEED_HITS
    edges = {
        (e["source"], e["destination"], e["method"]) for e in report["findings"]["lateral_movement"]
    }
    assert {("wrk-btun", "venus", "WMI"), ("wrk-btun", "wrk-klagerf", "WMI")} <= edges
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    again = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert again.exit_code == 0 and "reused" in again.output


def test_generate_command_writes_host_folders(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["generate", "--events", "1500", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "events/s" in result.output
    assert (tmp_path / "venus" / SECURITY_FILE).read_text().startswith("08/23/2017 ")
    assert (tmp_path / "wrk-btun" / SYSMON_FILE).read_text().startswith("<Event xmlns=")


def test_the_next_steps_the_demo_prints_run_as_printed(demo_out: tuple[Path, str]) -> None:
    """A newcomer copies the demo's suggested commands; each must work on the demo's store."""
    out, output = demo_out
    commands = [
        shlex.split(line.strip())
        for line in output.split("Next, on the demo's store:")[1].splitlines()
        if line.strip().startswith("huntbook ")
    ]
    assert [c[1] for c in commands] == ["stats", "search", "hunt"]
    assert f"huntbook serve --store {shlex.quote(str(out / 'store'))}" in output
    for words in commands:
        result = CliRunner().invoke(cli, words[1:])
        assert result.exit_code == 0, (words, result.output)
    searched = CliRunner().invoke(cli, commands[1][1:]).output
    assert "wrk-btun" in searched and "WmiPrvSE.exe" in searched
