"""Damaged EVTX files are stored in part, never as if whole: what the file says of itself (chunk
count, header and chunk CRC32s) is checked, and a chunk that fails is left out and reported."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import evtx
import orjson
import pytest
from click.testing import CliRunner
from evtx_bytes import CHUNK, FILE_HEADER, evtx_file

from huntbook.cli import cli
from huntbook.ingest import IngestSettings, Member, ingest
from huntbook.ingest.evtx_check import survey
from huntbook.store import Store

MANY = ("DeepBlueCLI", "Powershell-Invoke-Obfuscation-many.evtx")  # 302 records, 48 chunks


def _survey(data: bytes, **member: object) -> list[tuple[str, str]]:
    piece = Member("x.evtx", lambda: io.BytesIO(data), **member)  # type: ignore[arg-type]
    found = survey(piece, io.BytesIO(data))
    return [(s.position, s.reason) for s in found.skips]


def test_a_sound_file_and_its_preallocated_space_pass() -> None:
    assert _survey(evtx_file(3, slots=8)) == []


def test_a_file_cut_short_is_reported() -> None:
    data = evtx_file(4)[: FILE_HEADER + 2 * CHUNK + 1000]
    assert _survey(data) == [
        ("chunk 2", "cut short (1,000 of 65,536 bytes): its 0 records (ids 3-2) not stored"),
        (
            "end of file",
            "the file header counts 4 chunks, 2 are whole: the file was cut short, 2 chunk(s) lost",
        ),
    ]


def test_flipped_bytes_in_headers_are_reported() -> None:
    data = bytearray(evtx_file(3))
    data[20] ^= 0x01  # the file header's last chunk number
    data[FILE_HEADER + CHUNK + 30] ^= 0x10  # chunk 1's first record id
    assert _survey(bytes(data)) == [
        ("file header", "CRC32 mismatch: the header is damaged"),
        ("chunk 1", "chunk header CRC32 mismatch: damaged, its records not stored"),
    ]


def test_a_piece_checks_its_chunks_and_only_the_last_piece_the_length() -> None:
    data = bytearray(evtx_file(6))
    data[FILE_HEADER + CHUNK + 8] ^= 0xFF  # chunk 1 of the piece, chunk 5 of the file
    piece = bytes(data[: FILE_HEADER + 2 * CHUNK])
    assert _survey(piece, first_chunk=4, ends_file=False) == [
        ("chunk 5", "chunk header CRC32 mismatch: damaged, its records not stored")
    ]
    last_two = evtx_file(6)[: FILE_HEADER + 2 * CHUNK]  # chunks 4-5 of six: the file is whole
    assert _survey(last_two, first_chunk=4) == []
    assert _survey(last_two, first_chunk=2) == [
        (
            "end of file",
            "the file header counts 6 chunks, 4 are whole: the file was cut short, 2 chunk(s) lost",
        )
    ]


def test_a_file_with_no_sound_chunk_fails_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "cut.evtx"
    path.write_bytes(evtx_file(3)[: FILE_HEADER + 300])
    proc = subprocess.run(
        [sys.executable, "-m", "huntbook", "ingest", str(path), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert f"{path}: no readable records (2 skipped; first: {path} (chunk 0): cut short" in (
        proc.stdout
    )


def _ids(source: object) -> list[int]:
    """The records' EventRecordID (the System element's, which is what is stored)."""
    records = evtx.PyEvtxParser(source).records_json()
    return [int(orjson.loads(r["data"])["Event"]["System"]["EventRecordID"]) for r in records]


def _header_ids(data: bytes, number: int) -> tuple[int, int]:
    """The first and last record identifier chunk ``number``'s header names."""
    return struct.unpack_from("<QQ", data, FILE_HEADER + number * CHUNK + 24)


def _chunk_ids(data: bytes, number: int) -> list[int]:
    start = FILE_HEADER + number * CHUNK
    return _ids(io.BytesIO(data[:FILE_HEADER] + data[start : start + CHUNK]))


def _stored_ids(store: Store) -> list[int]:
    with store.connect() as con:
        rows = con.execute("SELECT EventRecordID FROM events ORDER BY _cd").fetchall()
    return [int(r[0]) for r in rows]


@pytest.mark.shared
def test_a_truncated_evtx_is_stored_in_part_and_exits_3(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "evtx" / Path(*MANY)).read_bytes()
    cut = FILE_HEADER + 15 * CHUNK + 20_000
    path = tmp_path / "cut.evtx"
    path.write_bytes(data[:cut])
    store = tmp_path / "s"
    result = CliRunner().invoke(cli, ["ingest", str(path), "--store", str(store)])
    assert result.exit_code == 3, result.output
    whole = [i for n in range(15) for i in _chunk_ids(data, n)]
    first, last = _header_ids(data, 15)
    assert _stored_ids(Store(store)) == whole
    assert "Files stored only in part: 1" in result.stdout
    assert (
        f"(chunk 15): cut short (20,000 of 65,536 bytes): its {last - first + 1} records "
        f"(ids {first:,}-{last:,}) not stored"
    ) in result.stdout
    assert "the file header counts 48 chunks, 15 are whole: the file was cut short" in result.stdout
    stats = CliRunner().invoke(cli, ["stats", "--store", str(store)])
    assert f"{path.resolve()}: {len(whole)} events stored, 2 records or stretches" in stats.stdout


@pytest.mark.shared
def test_flipped_record_bytes_drop_their_chunk_not_alter_it(
    shared_data: Path, tmp_path: Path
) -> None:
    data = bytearray((shared_data / "evtx" / Path(*MANY)).read_bytes())
    (free,) = struct.unpack_from("<I", data, FILE_HEADER + 7 * CHUNK + 48)
    data[FILE_HEADER + 7 * CHUNK + free - 300] ^= 0x20  # a letter's case, inside a record
    path = tmp_path / "flipped.evtx"
    path.write_bytes(bytes(data))
    store = Store(tmp_path / "s")
    (result,) = ingest(store, [path]).files
    assert result.partial and result.events == 302 - len(_chunk_ids(bytes(data), 7))
    (skip,) = result.skipped
    assert skip.position == "chunk 7"
    assert skip.reason.startswith("event records CRC32 mismatch (altered bytes): its ")
    assert _stored_ids(store) == [i for n in range(48) if n != 7 for i in _chunk_ids(data, n)]


@pytest.mark.shared
def test_damage_is_found_when_the_file_is_read_in_pieces(shared_data: Path, tmp_path: Path) -> None:
    data = bytearray((shared_data / "evtx" / Path(*MANY)).read_bytes())
    data[30] ^= 0x01  # the file header's next record id: its CRC32 fails
    (free,) = struct.unpack_from("<I", data, FILE_HEADER + 9 * CHUNK + 48)
    data[FILE_HEADER + 9 * CHUNK + free - 100] ^= 0x01
    path = tmp_path / "pieces.evtx"
    path.write_bytes(bytes(data[: FILE_HEADER + 30 * CHUNK + 100]))
    settings = IngestSettings(workers=2, piece_bytes=4 * CHUNK)
    (result,) = ingest(Store(tmp_path / "s"), [path], settings=settings).files
    assert result.partial
    assert [(s.position, s.reason.split(":")[0]) for s in result.skipped] == [
        ("chunks 0-3, file header", "CRC32 mismatch"),
        ("chunks 8-11, chunk 9", "event records CRC32 mismatch (altered bytes)"),
        ("chunks 28-29, chunk 30", "cut short (100 of 65,536 bytes)"),
    ]
