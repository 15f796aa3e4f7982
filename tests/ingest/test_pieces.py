"""Big EVTX files read in pieces (file header + a run of chunks), so several workers share one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import evtx
import pytest

from huntbook.ingest import members
from huntbook.ingest.pieces import EVTX_CHUNK, pieces
from huntbook.store import Store, ingesting

pytestmark = pytest.mark.shared
BIG = ("DeepBlueCLI", "Powershell-Invoke-Obfuscation-many.evtx")  # 49 chunks, 3.2 MB


def _records(source: Any) -> list[tuple[int, str]]:
    return [(r["event_record_id"], r["data"]) for r in evtx.PyEvtxParser(source).records_json()]


def test_an_evtx_file_cut_in_pieces_yields_every_record_once_in_order(shared_data: Path) -> None:
    path = shared_data / "evtx" / Path(*BIG)
    (member,) = members(path)
    cut = pieces(member, "evtx", 4 * EVTX_CHUNK)
    assert len(cut) == 13 and cut[0].piece == "chunks 0-3" and cut[-1].piece == "chunks 48-48"
    assert [r for piece in cut for r in _records(piece.open())] == _records(str(path))


def test_a_file_that_cannot_be_cut_is_read_whole(shared_data: Path) -> None:
    path = shared_data / "evtx" / Path(*BIG)
    (member,) = members(path)
    assert pieces(member, "evtx", 64 * EVTX_CHUNK) == [member]  # smaller than a piece
    assert pieces(member, "jsonl", EVTX_CHUNK) == [member]  # no cut for this format


def _rows(store: Store) -> list[tuple[Any, ...]]:
    with store.connect() as con:
        return con.execute(
            "SELECT _cd, _time, EventRecordID, _raw FROM events ORDER BY _cd"
        ).fetchall()


def test_pieces_read_by_workers_make_the_same_store_as_the_whole_file(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = shared_data / "evtx" / BIG[0]
    whole = Store(tmp_path / "whole")
    assert whole.ingest([folder], workers=1).ok
    monkeypatch.setattr(ingesting, "PIECE_BYTES", 4 * EVTX_CHUNK)
    cut = Store(tmp_path / "cut")
    summary = cut.ingest([folder], workers=2)
    assert summary.ok and summary.events == len(_rows(whole))
    assert _rows(cut) == _rows(whole)
    assert [b["inputs"] for b in cut.manifest()["batches"]] == [
        b["inputs"] for b in whole.manifest()["batches"]
    ]


def test_a_corrupt_chunk_in_a_piece_is_skipped_and_named(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytearray((shared_data / "evtx" / Path(*BIG)).read_bytes())
    sixth_chunk = 4096 + 5 * EVTX_CHUNK + 512
    data[sixth_chunk + 64 : sixth_chunk + 4096] = b"\x41" * (4096 - 64)
    path = tmp_path / "corrupt.evtx"
    path.write_bytes(bytes(data))
    monkeypatch.setattr(ingesting, "PIECE_BYTES", 4 * EVTX_CHUNK)
    (result,) = Store(tmp_path / "s").ingest([path], workers=2).files
    assert result.status == "stored" and result.skipped_count >= 1
    assert all(s.position.startswith("chunks 4-7, record") for s in result.skipped)
