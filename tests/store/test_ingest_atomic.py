"""Ingest is idempotent and atomic per batch, even when the process is killed at a random moment."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from huntbook.store import Store, ingesting

DATA = Path(__file__).resolve().parents[1] / "data"
FILES, LINES = 20, 100
INGEST = (
    "import sys; from huntbook.store import Store; print('ready', flush=True); "
    "Store(sys.argv[1]).ingest([sys.argv[2]], batch_bytes=0)"
)


def _inputs(folder: Path) -> Path:
    """FILES distinct JSON-lines files of LINES events each (the chain's 4624, renumbered)."""
    first = orjson.loads((DATA / "wmi_chain.jsonl").read_bytes().splitlines()[0])
    folder.mkdir()
    for f in range(FILES):
        lines = (orjson.dumps({**first, "RecordNumber": f * LINES + i}) for i in range(LINES))
        (folder / f"part{f:02d}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return folder


def _check_whole_batches(store: Store) -> int:
    """Every committed batch is complete: its files hold exactly the events its inputs say."""
    manifest = store.manifest()
    con = store.connect()
    total = con.execute("SELECT count(*) FROM events").fetchone()[0]
    assert total == sum(b["events"] for b in manifest["batches"])
    assert total == sum(i["events"] for b in manifest["batches"] for i in b["inputs"])
    assert total % LINES == 0
    shas = [i["sha256"] for i in store.inputs()]
    assert len(shas) == len(set(shas))
    cds = [r[0] for r in con.execute("SELECT _cd FROM events ORDER BY _cd").fetchall()]
    assert cds == sorted(set(cds))
    return int(total)


def test_ingesting_twice_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    first = store.ingest([DATA], index="a")
    manifest = (tmp_path / "s" / "manifest.json").read_bytes()
    files = sorted(p.name for p in (tmp_path / "s").rglob("*.parquet"))
    again = store.ingest([DATA], index="a")
    assert first.events > 0 and again.events == 0
    assert len(again.duplicates) == len(first.stored)
    assert (tmp_path / "s" / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in (tmp_path / "s").rglob("*.parquet")) == files


def test_killed_ingest_leaves_whole_batches_and_a_rerun_completes(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    path = tmp_path / "store"
    rng = random.Random(20170823)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    seen = []
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", INGEST, str(path), str(inputs)], env=env, stdout=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"  # imports done
        time.sleep(rng.uniform(0.0, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen.append(_check_whole_batches(Store(path)))
    assert seen == sorted(seen)
    summary = Store(path).ingest([inputs], batch_bytes=0)
    assert len(summary.stored) + len(summary.duplicates) == FILES
    assert _check_whole_batches(Store(path)) == FILES * LINES
    assert not list((path / "tmp").glob("*"))


def test_small_files_share_a_batch_and_a_broken_one_fails_alone(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    (inputs / "part05.jsonl").write_bytes(b"\x00not json at all\n")
    store = Store(tmp_path / "s")
    summary = store.ingest([inputs])
    assert [f.status for f in summary.files].count("stored") == FILES - 1
    assert len(store.manifest()["batches"]) == 1
    assert _check_whole_batches(store) == (FILES - 1) * LINES
    assert Store(tmp_path / "s").ingest([inputs]).events == 0


def test_a_batch_that_breaks_is_retried_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(tmp_path / "in")
    real = ingesting.normalize

    def breaks_on_one_file(kind: str, payload: Any, raw: str, **kw: Any) -> dict[str, Any]:
        event = real(kind, payload, raw, **kw)
        if event.get("EventRecordID") == str(7 * LINES + 3):
            event["Image"] = ["a", "b"]  # a list for a field that is not multivalue: StoreError
        return event

    monkeypatch.setattr(ingesting, "normalize", breaks_on_one_file)
    store = Store(tmp_path / "s")
    summary = store.ingest([inputs])
    failed = [f for f in summary.files if f.status == "failed"]
    assert [Path(f.path).name for f in failed] == ["part07.jsonl"]
    assert "not declared multivalue" in failed[0].error
    assert _check_whole_batches(store) == (FILES - 1) * LINES
