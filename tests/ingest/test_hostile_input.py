"""Inputs that would exhaust the machine: archive bombs, endless lines, FIFOs and devices.

Each is refused with InputLimitError naming the file (and member), fast, and the good file beside it
is still stored.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from huntbook.ingest import IngestSettings, Limits, ingest
from huntbook.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"
FIRST_EVENT = (DATA / "wmi_chain.jsonl").read_bytes().splitlines()[0] + b"\n"
BOMB_BYTES = 32 << 20  # newlines after one good line: a small zip bomb (32 MB from ~32 KB)
CAP = 1 << 20


def _limited(**limits: int) -> IngestSettings:
    return IngestSettings(limits=Limits(**limits))


def _newlines(total: int) -> bytes:
    return FIRST_EVENT + b"\n" * total


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("logs/bomb.jsonl", _newlines(BOMB_BYTES))
    assert path.stat().st_size < BOMB_BYTES // 500
    return path


def _good(tmp_path: Path) -> Path:
    good = tmp_path / "good.jsonl"
    shutil.copy(DATA / "wmi_chain.jsonl", good)
    return good


def test_a_zip_bomb_is_refused_and_the_file_beside_it_stored(tmp_path: Path) -> None:
    bomb = _zip_bomb(tmp_path / "bomb.zip")
    good = _good(tmp_path)
    store = Store(tmp_path / "s")
    started = time.perf_counter()
    refused, stored = ingest(store, [bomb, good], settings=_limited(member_bytes=CAP)).files
    assert time.perf_counter() - started < 20
    assert (refused.status, stored.status, stored.events) == ("failed", "stored", 3)
    assert refused.error.startswith(f"{bomb}:logs/bomb.jsonl: archive member says it holds")
    assert "(--max-member-bytes)" in refused.error
    assert store.connect().execute("SELECT count(*) FROM events").fetchone() == (3,)


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".tar.gz"])
def test_gzip_and_tar_bombs_stop_at_the_cap(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bomb{suffix}"
    if suffix == ".tar.gz":  # the member's header states its size: refused before reading
        with tarfile.open(path, "w:gz") as tf:
            info = tarfile.TarInfo("bomb.jsonl")
            info.size = BOMB_BYTES + len(FIRST_EVENT)
            tf.addfile(info, io.BytesIO(_newlines(BOMB_BYTES)))
    else:  # a gzip stream says nothing trustworthy of its size: stopped while reading
        path.write_bytes(gzip.compress(_newlines(BOMB_BYTES), compresslevel=9))
    (result,) = ingest(Store(tmp_path / "s"), [path], settings=_limited(member_bytes=CAP)).files
    assert result.status == "failed" and result.events == 0
    assert result.error.startswith(f"{path}:bomb.jsonl: archive member ")
    assert f"more than {CAP:,} bytes (--max-member-bytes)" in result.error


def test_a_line_over_the_limit_fails_its_file_only(tmp_path: Path) -> None:
    long = tmp_path / "long.jsonl"
    long.write_bytes(FIRST_EVENT + b'{"EventID": 1, "x": "' + b"a" * 50_000 + b'"}\n')
    good = _good(tmp_path)
    refused, stored = ingest(
        Store(tmp_path / "s"), [long, good], settings=_limited(line_bytes=20_000)
    ).files
    assert (refused.status, stored.status, stored.events) == ("failed", "stored", 3)
    assert refused.error.startswith(f"{long}: line 2 is longer than 20,000 bytes")


def test_an_endless_xml_event_fails_at_the_line_limit(tmp_path: Path) -> None:
    path = tmp_path / "endless.xml"
    path.write_bytes(b"<Events><Event><System>" + b"x" * 3_000_000)
    (result,) = ingest(Store(tmp_path / "s"), [path], settings=_limited(line_bytes=1_000_000)).files
    assert result.status == "failed"
    assert "an <Event> element at char 8 is longer than 1,000,000 bytes" in result.error


def test_line_numbers_hold_across_long_blank_stretches(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    blank = b"\n" * (3 << 20) + b" \t\r\n" * 1000  # over several read blocks
    path.write_bytes(FIRST_EVENT + blank + b"{bad\n" + blank + FIRST_EVENT)
    (result,) = ingest(Store(tmp_path / "s"), [path]).files
    assert (result.events, result.skipped_count) == (2, 1)
    assert result.skipped[0].position == f"line {2 + (3 << 20) + 1000}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_and_dev_zero_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    good = _good(tmp_path)
    command = [sys.executable, "-m", "huntbook", "ingest", str(fifo), "/dev/zero", str(good)]
    proc = subprocess.run(
        [*command, "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,  # before the fix, hashing the FIFO waited for a writer forever
    )
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert f"{fifo}: a FIFO (named pipe), not a regular file: refused" in proc.stdout
    assert "/dev/zero: a character device, not a regular file: refused" in proc.stdout
    assert "Ingested 3 events from 1 files" in proc.stdout
    assert proc.stderr.startswith("Error: 2 files could not be ingested")
