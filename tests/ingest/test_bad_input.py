"""Bad input is skipped and counted with file and position; other files and records go on."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.ingest import ingest
from huntbook.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"


def _many_lines(count: int) -> bytes:
    """``count`` distinct NXLog lines (the chain's 4624 with its RecordNumber changed)."""
    first = orjson.loads((DATA / "wmi_chain.jsonl").read_bytes().splitlines()[0])
    return b"".join(orjson.dumps({**first, "RecordNumber": i}) + b"\n" for i in range(count))


def test_unreadable_json_line_is_skipped(tmp_path: Path) -> None:
    good = (DATA / "wmi_chain.jsonl").read_bytes().splitlines()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good[0], b'{"EventID": 4624, "Channel": "Secu', good[2]]) + b"\n")
    summary = ingest(Store(tmp_path / "s"), [path])
    (result,) = summary.files
    assert (result.status, result.events, result.skipped_count) == ("stored", 2, 1)
    assert result.partial and summary.partial == [result]
    skip = result.skipped[0]
    assert (skip.path, skip.position) == (str(path), "line 2") and "bad JSON" in skip.reason


def test_truncated_gzip_keeps_what_came_before(tmp_path: Path) -> None:
    packed = gzip.compress(_many_lines(3000), compresslevel=1)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    (result,) = ingest(Store(tmp_path / "s"), [path]).files
    assert result.status == "stored" and 0 < result.events < 3000
    assert result.skipped_count == 1
    assert result.skipped[0].position.startswith("line ")
    assert "ends early" in result.skipped[0].reason


def test_gzip_cut_inside_its_header_fails_alone(tmp_path: Path) -> None:
    bad = tmp_path / "tiny.jsonl.gz"
    bad.write_bytes(gzip.compress(_many_lines(10))[:12])
    good = tmp_path / "good.jsonl"
    shutil.copy(DATA / "wmi_chain.jsonl", good)
    store = Store(tmp_path / "s")
    summary = ingest(store, [bad, good])
    assert [f.status for f in summary.files] == ["failed", "stored"]
    assert str(bad) in summary.files[0].error
    assert store.connect().execute("SELECT count(*) FROM events").fetchone() == (3,)


@pytest.mark.shared
def test_corrupt_evtx_chunk_is_skipped(shared_data: Path, tmp_path: Path) -> None:
    source = (
        shared_data / "evtx" / "EVTX-ATTACK-SAMPLES" / "Execution" / "rogue_msi_url_1040_1042.evtx"
    )
    data = bytearray(source.read_bytes())
    third_chunk = 4096 + 2 * 65536 + 512
    data[third_chunk + 64 : third_chunk + 4096] = b"\x41" * (4096 - 64)
    path = tmp_path / "corrupt.evtx"
    path.write_bytes(bytes(data))
    (result,) = ingest(Store(tmp_path / "s"), [path]).files
    assert result.status == "stored" and result.partial
    assert 200 < result.events < 351 and result.skipped_count == 1  # one chunk left out, whole
    (skip,) = result.skipped
    assert (skip.path, skip.position) == (str(path), "chunk 2")
    assert skip.reason.startswith("event records CRC32 mismatch")


def test_unrecognized_named_file_fails_with_what_was_tried(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("just some notes\n")
    good = tmp_path / "chain.jsonl"
    shutil.copy(DATA / "wmi_chain.jsonl", good)
    store = tmp_path / "s"
    proc = subprocess.run(
        [sys.executable, "-m", "huntbook", "ingest", str(odd), str(good), "--store", str(store)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert "unrecognized format (tried evtx, xml, wineventlog, jsonl, json, csv)" in proc.stdout
    assert "Ingested 3 events from 1 files" in proc.stdout
    assert proc.stderr.startswith("Error: 1 file could not be ingested")
    assert Store(store).connect().execute("SELECT count(*) FROM events").fetchone() == (3,)


def test_unrecognized_files_in_a_folder_are_ignored_not_failed(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "LICENSE").write_text("MIT\n")
    (tmp_path / "in" / "manifest.json").write_text('{\n  "events": 3\n}\n')
    shutil.copy(DATA / "wmi_chain_security.log", tmp_path / "in" / "security.log")
    result = CliRunner().invoke(
        cli, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    assert "Ignored in folders (unrecognized format): 2" in result.output


def test_unknown_format_option_suggests_the_closest(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["ingest", str(DATA / "wmi_chain.jsonl"), "--format", "jsnol", "--store", str(tmp_path)],
    )
    assert result.exit_code != 0
    assert "Did you mean 'jsonl'?" in str(result.exception) + result.output


def test_format_option_overrides_detection(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    summary = ingest(store, [DATA / "wmi_chain_security.log"], fmt="jsonl")
    assert summary.files[0].status == "failed"  # text read as JSON: every line unreadable
    summary = ingest(store, [DATA / "wmi_chain_security.log"], fmt="wineventlog")
    assert summary.events == 2
