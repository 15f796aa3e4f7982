"""The scan's per-batch summaries kept in the store (analytics/summary.py): the findings read from
them are the findings computed without them, on hand-made, demo and recorded stores, and a summary
is read back only for the statement and the files it was written for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from huntbook.analytics import summary
from huntbook.analytics.scan import NEEDED, PASSED, scan
from huntbook.demo import generator
from huntbook.hunts import findings
from huntbook.hunts.findings import findings_for
from huntbook.hunts.scope import IndexScope
from huntbook.ingest import ingest
from huntbook.store import Store
from huntbook.store.core import SUMMARIES
from huntbook.store.testing import make_store

from .test_scan import _events, _findings

# recordings with a move each (WMI, PsExec, WinRM, DCOM) and one without
RECORDINGS = (
    "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod",
    "empire_psexec_dcerpc_tcp_svcctl",
    "empire_psremoting_stager",
    "empire_dcom_shellwindows_stager",
    "empire_launcher_vbs",
)


def _kept(store: Store) -> list[str]:
    folder = store.path / SUMMARIES
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _without(monkeypatch: pytest.MonkeyPatch) -> None:
    """The findings as before summaries: one pass over the events, nothing kept."""
    monkeypatch.setattr(findings, "summaries", lambda store: None)


def _scan(store: Any) -> Any:
    """The scan as the findings call it: from and into the store's summaries, if it has some."""
    return scan(store, findings.summaries(store))


def _opted_in(store: Store) -> Store:
    (store.path / SUMMARIES).mkdir()
    return store


def _in_batches(path: Path) -> Store:
    """The WMI move and its noise in three batches: the connection, the logon and the process
    start each in a different one (the filters must join them across batches); opted in."""
    events = _events()
    make_store(path, [*events[:20], events[-3]])
    make_store(path, [*events[20:30], events[-2]])
    return _opted_in(make_store(path, [*events[30:-3], events[-1]]))


def test_findings_are_the_same_with_and_without_summaries(tmp_path):
    store = _in_batches(tmp_path / "store")
    built = _findings(_scan(store))  # computed, and kept
    kept = _kept(store)
    # per batch its keys and its network logons, and its needed events but for the logon's
    # batch (which has none: a network logon no logon rule matches is only a join partner);
    # and the combinations that pass, by batch (a summary of every batch's keys)
    assert len(kept) == 9
    read = _scan(store)  # read back: each batch's tables are views of its summaries
    views = read.connect().execute("SELECT view_name FROM duckdb_views() WHERE temporary")
    assert {"keys_b000001", "needed_b000003", PASSED} <= {r[0] for r in views.fetchall()}
    assert _findings(read) == built
    assert _kept(store) == kept  # nothing written again
    assert _findings(scan(store)) == built  # no folder given: in memory, in one pass
    assert [(e["source"], e["destination"], e["method"]) for e in built["lateral_movement"]] == [
        ("wrk-btun", "venus", "WMI")
    ]


def test_kept_summaries_are_read_without_a_view_of_the_batch_files(tmp_path):
    """A warm store's scan reads its summaries only: no view over a batch's files is made (each
    cost a statement and its SQL per batch and table), and the keys' hashes of every batch are
    looked up in one statement."""
    store = _in_batches(tmp_path / "store")
    built = _findings(_scan(store))
    kept = _kept(store)
    read = _scan(store)
    views = read.connect().execute("SELECT view_name FROM duckdb_views() WHERE temporary")
    names = {r[0] for r in views.fetchall()}
    assert {"keys_b000001", "logons_b000002", "needed_b000003"} <= names
    assert not {n for n in names if n.startswith("batch_")}
    assert _findings(read) == built
    assert _kept(store) == kept


def test_a_statement_rendered_once_keys_its_summary_as_its_query_does(tmp_path):
    """The scan renders the statements that are the same for every batch once
    (``summary.Statement``); a summary is keyed by the statement's SQL either way."""
    con = duckdb.connect()
    query = exp.select(exp.Literal.number(3).as_("x"))
    statement = summary.Statement.of(query)
    assert statement.sql == query.sql(dialect="duckdb")
    summary.kept(con, tmp_path, "batch a", "t1", query)
    summary.kept(con, tmp_path, "batch a", "t2", statement)  # read back
    summary.kept(con, tmp_path, "batch b", "t3", statement)  # another batch: computed
    assert len(list(tmp_path.iterdir())) == 2
    found = [con.execute(f"SELECT x FROM {t}").fetchone()[0] for t in ("t1", "t2", "t3")]
    assert found == [3, 3, 3]


def test_a_summary_is_computed_after_what_it_reads_is_made(tmp_path):
    """``kept``'s ``prepare`` statements (the view its query reads) run only when the summary
    is computed, not when it is read back."""
    con = duckdb.connect()
    view = "CREATE TEMPORARY VIEW source AS SELECT 7 AS x"
    query = exp.select("x").from_("source")
    summary.kept(con, tmp_path, "batch a", "t1", query, [view])
    other = duckdb.connect()
    summary.kept(other, tmp_path, "batch a", "t2", query, [view])
    assert other.execute("SELECT x FROM t2").fetchone() == (7,)
    made = "SELECT count(*) FROM duckdb_views() WHERE view_name = 'source'"
    assert con.execute(made).fetchone() == (1,)
    assert other.execute(made).fetchone() == (0,)


def test_a_new_batch_leaves_the_others_summaries_valid(tmp_path):
    """A batch appended to the store is summarised; the others' summaries are read as they are
    (their needed events are keyed by their own passing combinations, not by every batch's),
    and only what reads every batch's keys is made again."""
    store = _in_batches(tmp_path / "store")
    _findings(_scan(store))
    kept = set(_kept(store))
    make_store(store.path, _events()[:5])  # ordinary process starts: nothing needed
    found = _findings(_scan(store))
    assert kept <= set(_kept(store))
    assert len(_kept(store)) == len(kept) + 3  # its keys, its logons, the passing by batch
    assert found == _findings(scan(store))


def test_changed_files_are_summarised_again(tmp_path):
    """A batch file of another size or modification time is not the file a summary was made of."""
    store = _in_batches(tmp_path / "store")
    before = _findings(_scan(store))
    kept = _kept(store)
    first = store.path / store.manifest()["batches"][0]["files"][0]
    stat = first.stat()
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert _findings(_scan(store)) == before
    # that batch's keys, logons and needed events, and the combinations that pass by batch
    # (a summary of every batch's keys, one of which changed)
    assert len(_kept(store)) == len(kept) + 4


def test_a_summary_is_read_only_for_its_own_statement(tmp_path):
    """What keys a summary: the batch's identity and the statement (a changed analytic writes
    another statement, so it never reads the rows of an older one)."""
    con = duckdb.connect()
    one = exp.select(exp.Literal.number(1).as_("x"))
    two = exp.select(exp.Literal.number(2).as_("x"))
    summary.kept(con, tmp_path, "batch a", "t1", one)
    summary.kept(con, tmp_path, "batch a", "t2", two)
    summary.kept(con, tmp_path, "batch b", "t3", one)
    assert len(list(tmp_path.iterdir())) == 3
    summary.kept(con, tmp_path, "batch a", "t4", two)  # read back
    assert len(list(tmp_path.iterdir())) == 3
    found = [con.execute(f"SELECT x FROM {t}").fetchone()[0] for t in ("t1", "t2", "t3", "t4")]
    assert found == [1, 2, 1, 2]


def test_a_store_not_opted_in_is_not_written(tmp_path):
    """Without its ``summaries`` folder a store is scanned in memory, as before, and a reader
    (a hunt, the findings, the web server) leaves it as it was."""
    store = _in_batches(tmp_path / "store")
    (store.path / SUMMARIES).rmdir()
    before = {p: p.stat().st_mtime_ns for p in store.path.rglob("*")}
    found = _findings(_scan(store))
    assert {p: p.stat().st_mtime_ns for p in store.path.rglob("*")} == before
    assert findings.summaries(store) is None
    _opted_in(store)
    assert _findings(_scan(store)) == found
    assert _kept(store)


def test_no_summary_for_a_store_seen_through_a_wrapper(tmp_path):
    """An index's view of a store (or any other wrapper: object storage, another engine) is
    scanned in memory as before; nothing is written."""
    store = _in_batches(tmp_path / "store")
    scoped = IndexScope(store, "main")
    assert findings.summaries(scoped) is None
    assert _findings(_scan(scoped)) == _findings(_scan(store))
    assert _scan(scoped).connect().execute(f"SELECT count(*) FROM {NEEDED}").fetchone()[0] == 2


def test_demo_findings_with_and_without_summaries(tmp_path, monkeypatch):
    generator.generate(tmp_path / "logs", events=3000)
    store = Store(tmp_path / "store")
    for host in sorted((tmp_path / "logs").iterdir()):  # a batch per host
        ingest(store, [host], index="botsv2")
    assert len(store.manifest()["batches"]) > 1
    _opted_in(store)
    built, read = findings_for(store), findings_for(store)
    assert _kept(store)
    _without(monkeypatch)
    plain = findings_for(store)
    assert built == read == plain
    assert {e["source"] for e in plain["lateral_movement"] if e["method"] == "WMI"} == {"wrk-btun"}


def test_recorded_findings_with_and_without_summaries(shared_data, tmp_path, monkeypatch):
    """Recordings of real moves, each ingested as batches of one store."""
    store = Store(tmp_path / "store")
    zips = [shared_data / "security-datasets" / f"{name}.zip" for name in RECORDINGS]
    ingest(store, [z for z in zips if z.is_file()], index="botsv2")
    _opted_in(store)
    built, read = findings_for(store), findings_for(store)
    assert len(_kept(store)) >= len(store.manifest()["batches"])
    _without(monkeypatch)
    plain = findings_for(store)
    assert built == read == plain
    assert len(plain["lateral_movement"]) >= 3


def test_keep_summaries_opts_a_store_in_from_the_cli(tmp_path, monkeypatch, capsys):
    """`huntbook findings --keep-summaries` (and `hunt run --keep-summaries`) make the folder, so
    that run writes the summaries and later runs, without the flag, read them; same findings."""
    import json
    import sys

    from huntbook.cli import main

    store = _in_batches(tmp_path / "store")
    (store.path / SUMMARIES).rmdir()

    def findings_json(*flags: str) -> Any:
        argv = ["huntbook", "findings", "--store", str(store.path), "--format", "json", *flags]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code == 0
        return json.loads(capsys.readouterr().out)

    plain = findings_json()
    assert not (store.path / SUMMARIES).exists()  # no flag, no folder: nothing written
    assert findings_json("--keep-summaries") == plain
    kept = _kept(store)
    assert len(kept) == 9
    assert findings_json() == plain
    assert _kept(store) == kept  # read back, nothing written again
    hunt = ["huntbook", "hunt", "run", "wmi-lateral-movement", "--store", str(store.path)]
    monkeypatch.setattr(sys, "argv", [*hunt, "--keep-summaries"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert _kept(store) == kept


def test_keep_summaries_refuses_a_store_huntbook_only_reads(tmp_path):
    from huntbook.errors import StoreError

    store = _in_batches(tmp_path / "store")
    with pytest.raises(StoreError, match="only in a local store"):
        findings.keep_summaries(IndexScope(store, "main"))
    assert findings.keep_summaries(store) == store.path / SUMMARIES  # already there: kept


DATA = Path(__file__).resolve().parents[1] / "data"
LOGS = [str(DATA / n) for n in ("wmi_chain_security.log", "wmi_chain_sysmon.xml")]


def _ingest(store: Path, *flags: str, logs: list[str] = LOGS) -> None:
    from click.testing import CliRunner

    from huntbook.cli import cli

    done = CliRunner().invoke(cli, ["ingest", *logs, "--store", str(store), *flags])
    assert done.exit_code == 0, done.output


def test_a_store_huntbook_ingest_creates_keeps_summaries(tmp_path: Path) -> None:
    """`huntbook ingest` opts the store it creates in (the next findings writes the summaries,
    later ones read them); --no-summaries leaves it out, and an existing store keeps its choice
    unless told (--summaries)."""
    _ingest(tmp_path / "new")
    store = Store(tmp_path / "new")
    assert (store.path / SUMMARIES).is_dir()
    first = findings_for(store)
    kept = _kept(store)
    assert kept  # the first findings wrote them
    assert findings_for(store) == first and _kept(store) == kept

    _ingest(tmp_path / "without", "--no-summaries")
    assert not (tmp_path / "without" / SUMMARIES).exists()
    _ingest(tmp_path / "without", logs=[str(DATA / "wmi_chain.jsonl")])  # existing: as it was
    assert not (tmp_path / "without" / SUMMARIES).exists()
    _ingest(tmp_path / "without", "--summaries", logs=[str(DATA / "wmi_chain.jsonl")])
    assert (tmp_path / "without" / SUMMARIES).is_dir()
