"""One Parquet file per batch: parts merged at commit, and ``Store.compact`` for older stores."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.store import Store, core
from huntbook.store.compact import MERGED
from huntbook.store.manifest import write_manifest
from huntbook.store.testing import make_store
from huntbook.store.writer import BatchWriter


def _events(n: int) -> list[dict[str, Any]]:
    """``n`` events; a sparse field only in the last one, a multivalue field in every other."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        event: dict[str, Any] = {
            "_time": 100.0 + i,
            "_raw": f"r{i}",
            "index": "main",
            "host": f"ws{i % 3}",
            "sourcetype": "WinEventLog",
            "EventCode": "4624",
        }
        if i % 2:
            event["Logon_ID"] = ["0x0", f"0x{i:x}"]
        events.append(event)
    events[-1]["OnlyLast"] = "late"
    return events


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A part every 2 events, so a handful of events makes several parts."""
    monkeypatch.setattr(core, "BatchWriter", functools.partial(BatchWriter, chunk_rows=2))


def _unmerged(tmp_path: Path, events: list[dict[str, Any]]) -> Store:
    """A store whose batch is one file per part, as huntbook wrote them before merging."""
    store = make_store(tmp_path, events)
    manifest = store.manifest()
    for batch in manifest["batches"]:
        merged = tmp_path / batch["files"][0]
        data = pq.ParquetFile(merged)
        batch["files"] = []
        del batch["bytes"]  # nor were the files' sizes recorded then
        for i in range(data.num_row_groups):
            name = f"events/{batch['id']}/part-{i:05d}.parquet"
            pq.write_table(data.read_row_group(i), tmp_path / name)
            batch["files"].append(name)
        merged.unlink()
    write_manifest(tmp_path, manifest)
    return store


def _rows(store: Store) -> list[tuple[Any, ...]]:
    with store.connect() as con:
        return con.execute(
            'SELECT _cd, _time, host, "Logon_ID", "OnlyLast" FROM events ORDER BY _cd'
        ).fetchall()


def test_a_batch_of_many_parts_commits_as_one_file_with_every_row_in_order(
    tmp_path: Path, small_parts: None
) -> None:
    store = make_store(tmp_path, _events(7))
    [batch] = store.manifest()["batches"]
    assert batch["files"] == [f"events/{batch['id']}/{MERGED}"]
    assert sorted(p.name for p in (tmp_path / "events" / batch["id"]).iterdir()) == [MERGED]
    meta = pq.ParquetFile(tmp_path / batch["files"][0]).metadata
    assert (meta.num_rows, meta.num_row_groups) == (7, 4)  # one row group per part
    rows = _rows(store)
    assert [r[0] for r in rows] == list(range(7))
    assert rows[1][3] == ["0x0", "0x1"] and rows[0][3] is None
    assert [r[4] for r in rows] == [None] * 6 + ["late"]  # a column of the last part only


def test_compact_merges_an_old_store_and_keeps_every_row(tmp_path: Path, small_parts: None) -> None:
    store = _unmerged(tmp_path, _events(5))
    make_store(tmp_path, _events(1))  # one part: nothing to merge
    before = _rows(store)
    assert [len(b["files"]) for b in store.manifest()["batches"]] == [3, 1]
    assert store.compact() == 1
    assert [len(b["files"]) for b in store.manifest()["batches"]] == [1, 1]
    assert _rows(store) == before
    assert store.compact() == 0
    assert not (tmp_path / "tmp").exists() or not any((tmp_path / "tmp").iterdir())


def test_files_the_manifest_does_not_name_are_cleared_when_writing(tmp_path: Path) -> None:
    store = make_store(tmp_path, _events(3))
    [batch] = store.manifest()["batches"]
    stray = tmp_path / "events" / batch["id"] / "part-00007.parquet"  # a compact that died
    stray.write_bytes(b"half")
    with store.writing():
        pass
    assert not stray.exists()
    assert len(_rows(store)) == 3


def test_compact_command_reports_the_batches_merged(tmp_path: Path, small_parts: None) -> None:
    _unmerged(tmp_path, _events(4))
    result = CliRunner().invoke(cli, ["compact", "--store", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 batch(es) merged" in result.output
    assert Store(tmp_path).manifest()["batches"][0]["files"][0].endswith(MERGED)
