"""Every sub-command, through the real entry point, exits with the code docs/errors.md gives.

0 success, 2 usage error, 10 ingest failed (a file, or nothing to ingest), 11 bad playbook or
lint errors, 12 bad query, 13 missing or damaged store; 4 detect matched something.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from huntbook.cli import cli, main
from huntbook.ingest import ingest
from huntbook.store import Store

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
PLAYBOOKS = ROOT / "fixtures" / "playbooks"

# (situation, argv with {placeholders}, exit code)
CASES = [
    ("version", ["--version"], 0),
    ("unknown command", ["no-such-command"], 2),
    ("ingest", ["ingest", "{data}/wmi_chain_sysmon.xml", "--store", "{new}"], 0),
    ("ingest no path", ["ingest"], 2),
    ("ingest failed file", ["ingest", "{junk}/notes.txt", "--store", "{new}"], 10),
    ("ingest nothing to ingest", ["ingest", "{junk}", "--store", "{new}"], 10),
    ("ingest damaged store", ["ingest", "{data}/wmi_chain.jsonl", "--store", "{damaged}"], 13),
    ("stats", ["stats", "--store", "{store}"], 0),
    ("stats bad format", ["stats", "--format", "xml", "--store", "{store}"], 2),
    ("stats missing store", ["stats", "--store", "{missing}"], 13),
    ("stats damaged store", ["stats", "--store", "{damaged}"], 13),
    ("compact", ["compact", "--store", "{store}"], 0),
    ("compact extra argument", ["compact", "extra", "--store", "{store}"], 2),
    ("compact missing store", ["compact", "--store", "{missing}"], 13),
    ("repair", ["repair", "--store", "{store}"], 0),
    ("repair damaged store", ["repair", "--store", "{damaged}"], 0),
    ("repair extra argument", ["repair", "extra", "--store", "{store}"], 2),
    ("repair missing store", ["repair", "--store", "{missing}"], 13),
    ("search", ["search", "index=* | stats count", "--store", "{store}"], 0),
    ("search no query", ["search", "--store", "{store}"], 2),
    ("search unknown engine", ["search", "x", "--engine", "sprak", "--store", "{store}"], 2),
    (
        "search spark explain",
        ["search", "index=* | stats count", "--engine", "spark", "--explain", "--store", "{store}"],
        0,
    ),
    (
        "search spark explain refused",
        [
            "search",
            "* | timechart count by host",
            "--engine",
            "spark",
            "--explain",
            "--store",
            "{store}",
        ],
        12,
    ),
    ("search bad query", ["search", "index=* | nosuchcommand", "--store", "{store}"], 12),
    ("search missing store", ["search", "index=*", "--store", "{missing}"], 13),
    (
        "search explain missing store",
        ["search", "index=*", "--explain", "--store", "{missing}"],
        13,
    ),
    ("search damaged store", ["search", "index=*", "--store", "{damaged}"], 13),
    ("hunt", ["hunt", "{playbooks}/minimal.md", "--store", "{store}"], 0),
    ("hunt run built-in", ["hunt", "run", "wmi-lateral-movement", "--store", "{store}"], 0),
    ("hunt failing search", ["hunt", "{playbooks}/failing-search.md", "--store", "{store}"], 12),
    ("hunt bad param", ["hunt", "wmi-lateral-movement", "--param", "x", "--store", "{store}"], 2),
    ("hunt bad playbook", ["hunt", "{playbooks}/missing-section.md", "--store", "{store}"], 11),
    ("hunt unknown playbook", ["hunt", "no-such-playbook", "--store", "{store}"], 11),
    ("hunt missing store", ["hunt", "wmi-lateral-movement", "--store", "{missing}"], 13),
    ("hunt damaged store", ["hunt", "wmi-lateral-movement", "--store", "{damaged}"], 13),
    ("findings", ["findings", "--store", "{store}", "--format", "json"], 0),
    ("findings bad format", ["findings", "--format", "xml", "--store", "{store}"], 2),
    ("findings keep summaries", ["findings", "--keep-summaries", "--store", "{store}"], 0),
    (
        "findings keep summaries missing store",
        ["findings", "--keep-summaries", "--store", "{missing}"],
        13,
    ),
    ("findings missing store", ["findings", "--store", "{missing}"], 13),
    ("findings damaged store", ["findings", "--store", "{damaged}"], 13),
    ("hunt list", ["hunt", "list"], 0),
    ("hunt list extra argument", ["hunt", "list", "extra"], 2),
    ("hunt lint", ["hunt", "lint", "{playbooks}/minimal.md"], 0),
    ("hunt lint errors", ["hunt", "lint", "{playbooks}/broken-query.md"], 11),
    ("hunt lint no file", ["hunt", "lint", "{playbooks}/no-such.md"], 2),
    ("generate", ["generate", "--events", "50", "--out", "{tmp}/generated"], 0),
    ("generate no out", ["generate"], 2),
    ("demo", ["demo", "--events", "200", "--out", "{tmp}/demo"], 0),
    ("demo bad events", ["demo", "--events", "-1", "--out", "{tmp}/demo"], 2),
    ("serve missing store", ["serve", "--store", "{missing}"], 13),
    ("serve bad port", ["serve", "--port", "70000", "--store", "{store}"], 2),
    ("detect matched", ["detect", "{rules}/wmi.yml", "--store", "{store}"], 4),
    ("detect nothing matched", ["detect", "{rules}/none.yml", "--store", "{store}"], 0),
    ("detect no rules", ["detect", "--store", "{store}"], 2),
    ("detect missing store", ["detect", "{rules}", "--store", "{missing}"], 13),
]
# Sigma rules for the detect rows: one matches the store's WMI chain, one matches nothing.
SIGMA = """
title: {title}
logsource: {{product: windows, category: process_creation}}
detection: {{a: {{ParentImage|endswith: '{parent}'}}, condition: a}}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exit") / "store"
    ingest(Store(path), [DATA / "wmi_chain.jsonl"])
    return path


def _places(tmp_path: Path, store: Path) -> dict[str, str]:
    damaged = tmp_path / "damaged"
    shutil.copytree(store, damaged)
    next(damaged.glob("events/*/*.parquet")).unlink()
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not an event log\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "wmi.yml").write_text(SIGMA.format(title="wmi", parent="\\WmiPrvSE.exe"))
    (rules / "none.yml").write_text(SIGMA.format(title="none", parent="\\nothing.exe"))
    return {
        "data": str(DATA),
        "playbooks": str(PLAYBOOKS),
        "store": str(store),
        "damaged": str(damaged),
        "missing": str(tmp_path / "no-such-store"),
        "new": str(tmp_path / "new"),
        "junk": str(junk),
        "tmp": str(tmp_path),
        "rules": str(rules),
    }


@pytest.mark.parametrize(("situation", "argv", "code"), CASES, ids=[c[0] for c in CASES])
def test_exit_code(
    situation: str,
    argv: list[str],
    code: int,
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    places = _places(tmp_path, store)
    monkeypatch.setenv("HUNTBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "argv", ["huntbook", *(a.format(**places) for a in argv)])
    with pytest.raises(SystemExit) as done:
        main()
    err = capsys.readouterr().err
    assert done.value.code == code, err
    assert "Traceback" not in err
    assert not Path(places["missing"]).exists()


def _paths(command: click.Command, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return {p for name, sub in command.commands.items() for p in _paths(sub, (*path, name))}
    return {path}


def test_the_table_covers_every_command() -> None:
    """A command added to the CLI needs its rows here."""
    covered = {tuple(argv[:2]) for _, argv, _ in CASES} | {(argv[0],) for _, argv, _ in CASES}
    missing = {p for p in _paths(cli) if p not in covered}
    assert missing == set()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_a_reader_closing_the_output_early_ends_the_search_with_141(
    fmt: str, store: Path, tmp_path: Path
) -> None:
    """`huntbook search ... | head -1`: the search stops with 141 (128 + SIGPIPE, as `cat` does)
    and says nothing; click alone exited 1, the code of an error (docs/errors.md)."""
    spl = '| makeresults count=50000 | eval x="a row longer than a few bytes"'
    argv = ["search", spl, "--store", str(store), "--format", fmt, "--limit", "0"]
    env = {**os.environ, "HUNTBOOK_CACHE": str(tmp_path / "cache")}
    child = subprocess.Popen(
        [sys.executable, "-m", "huntbook", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline(), child.stderr.read().decode()
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141, err
    assert err == ""
