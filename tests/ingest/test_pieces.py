"""Big EVTX files read in pieces (file header + a run of chunks), so several workers share one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import evtx
import orjson
import pytest

from huntbook.ingest import IngestSettings, ingest, members
from huntbook.ingest.pieces import EVTX_CHUNK, pieces
from huntbook.store import Store

BIG = ("DeepBlueCLI", "Powershell-Invoke-Obfuscation-many.evtx")  # 49 chunks, 3.2 MB
DATA = Path(__file__).resolve().parents[1] / "data"


def _records(source: Any) -> list[tuple[int, str]]:
    return [(r["event_record_id"], r["data"]) for r in evtx.PyEvtxParser(source).records_json()]


@pytest.mark.shared
def test_an_evtx_file_cut_in_pieces_yields_every_record_once_in_order(shared_data: Path) -> None:
    path = shared_data / "evtx" / Path(*BIG)
    (member,) = members(path)
    cut = pieces(member, "evtx", 4 * EVTX_CHUNK)
    assert len(cut) == 13 and cut[0].piece == "chunks 0-3" and cut[-1].piece == "chunks 48-48"
    assert [r for piece in cut for r in _records(piece.open())] == _records(str(path))


@pytest.mark.shared
def test_a_file_that_cannot_be_cut_is_read_whole(shared_data: Path) -> None:
    path = shared_data / "evtx" / Path(*BIG)
    (member,) = members(path)
    assert pieces(member, "evtx", 64 * EVTX_CHUNK) == [member]  # smaller than a piece
    assert pieces(member, "json", EVTX_CHUNK) == [member]  # no cut for this format


def _rows(store: Store) -> list[tuple[Any, ...]]:
    with store.connect() as con:
        return con.execute(
            "SELECT _cd, _time, EventRecordID, _raw FROM events ORDER BY _cd"
        ).fetchall()


@pytest.mark.shared
def test_pieces_read_by_workers_make_the_same_store_as_the_whole_file(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = shared_data / "evtx" / BIG[0]
    whole = Store(tmp_path / "whole")
    assert ingest(whole, [folder], settings=IngestSettings(workers=1)).ok
    cut = Store(tmp_path / "cut")
    summary = ingest(cut, [folder], settings=IngestSettings(workers=2, piece_bytes=4 * EVTX_CHUNK))
    assert summary.ok and summary.events == len(_rows(whole))
    assert _rows(cut) == _rows(whole)
    assert [b["inputs"] for b in cut.manifest()["batches"]] == [
        b["inputs"] for b in whole.manifest()["batches"]
    ]


@pytest.mark.shared
def test_a_corrupt_chunk_in_a_piece_is_skipped_and_named(shared_data: Path, tmp_path: Path) -> None:
    data = bytearray((shared_data / "evtx" / Path(*BIG)).read_bytes())
    sixth_chunk = 4096 + 5 * EVTX_CHUNK + 512
    data[sixth_chunk + 64 : sixth_chunk + 4096] = b"\x41" * (4096 - 64)
    path = tmp_path / "corrupt.evtx"
    path.write_bytes(bytes(data))
    settings = IngestSettings(workers=2, piece_bytes=4 * EVTX_CHUNK)
    (result,) = ingest(Store(tmp_path / "s"), [path], settings=settings).files
    assert result.status == "stored" and result.partial
    assert [s.position for s in result.skipped] == ["chunks 4-7, chunk 5"]


def _big_jsonl(path: Path, copies: int, bad_line: int) -> Path:
    """The fixture chain's lines ``copies`` times (renumbered), one broken line at ``bad_line``."""
    events = [orjson.loads(line) for line in (DATA / "wmi_chain.jsonl").read_bytes().splitlines()]
    out = [
        orjson.dumps({**event, "RecordNumber": copy * 1000 + i})
        for copy in range(copies)
        for i, event in enumerate(events)
    ]
    out[bad_line - 1] = b'{"EventID": 4624, broken'
    path.write_bytes(b"\n".join(out))  # no line break at the end
    return path


def test_a_json_lines_file_cut_at_line_breaks_reads_every_line_once(tmp_path: Path) -> None:
    path = _big_jsonl(tmp_path / "big.jsonl", 200, bad_line=456)
    (member,) = members(path)
    cut = pieces(member, "jsonl", 256 << 10)
    assert len(cut) > 10 and cut[0].first_line == 1
    joined = b"".join(piece.open().read() for piece in cut)
    assert joined == path.read_bytes()
    assert all(p.open().read().endswith(b"\n") for p in cut[:-1])
    assert [p.first_line for p in cut[1:]] == [
        joined[: sum(len(q.open().read()) for q in cut[:i])].count(b"\n") + 1
        for i in range(1, len(cut))
    ]


def test_json_lines_pieces_make_the_same_store_and_name_the_files_lines(tmp_path: Path) -> None:
    path = _big_jsonl(tmp_path / "big.jsonl", 200, bad_line=456)
    whole = Store(tmp_path / "whole")
    (one,) = ingest(whole, [path], settings=IngestSettings(workers=1)).files
    cut = Store(tmp_path / "cut")
    (two,) = ingest(cut, [path], settings=IngestSettings(workers=2, piece_bytes=256 << 10)).files
    assert one.events == two.events > 0
    assert [s.position for s in two.skipped] == [s.position for s in one.skipped] == ["line 456"]
    with whole.connect() as a, cut.connect() as b:
        query = "SELECT _cd, _time, RecordNumber, _raw FROM events ORDER BY _cd"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_progress_counts_every_input_byte_once_and_moves_within_a_big_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _big_jsonl(folder / "big.jsonl", 200, bad_line=456)
    (folder / "notes.txt").write_text("not a log\n")
    two = IngestSettings(workers=2, piece_bytes=256 << 10)
    store = Store(tmp_path / "s")
    for _ in range(2):  # the second time every file is a duplicate
        ticks: list[int] = []
        ingest(store, [folder, DATA], progress=ticks.append, settings=two)
        total = sum(p.stat().st_size for p in [*folder.iterdir(), *DATA.iterdir()])
        assert sum(ticks) == total
    big = (folder / "big.jsonl").stat().st_size
    first: list[int] = []
    one = IngestSettings(workers=1, piece_bytes=256 << 10)
    ingest(Store(tmp_path / "t"), [folder / "big.jsonl"], progress=first.append, settings=one)
    assert len(first) > 10 and sum(first) == big
