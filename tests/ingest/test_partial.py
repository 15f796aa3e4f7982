"""Files stored only in part, and text that used to be misread: encodings, byte-order marks, a bad
first line. A file with records that could not be read is "partial": listed by ingest (exit 3),
remembered in the manifest and flagged by ``huntbook stats``."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.ingest import ingest
from huntbook.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"
CHAIN = DATA / "wmi_chain.jsonl"


def _count(store: Store, where: str = "true") -> int:
    with store.connect() as con:
        return int(con.execute(f"SELECT count(*) FROM events WHERE {where}").fetchone()[0])


def test_windows_1252_text_keeps_its_letters(tmp_path: Path) -> None:
    text = (DATA / "wmi_chain_security.log").read_text().replace("pgustavo", "pgüstävo")
    path = tmp_path / "ansi.log"
    path.write_bytes(text.encode("cp1252"))
    store = Store(tmp_path / "s")
    (result,) = ingest(store, [path]).files
    assert (result.status, result.events, result.skipped_count) == ("stored", 2, 0)
    assert _count(store, "_raw LIKE '%pgüstävo%' AND _raw NOT LIKE '%\ufffd%'") == 2


def test_utf16_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "unicode.log"
    path.write_bytes((DATA / "wmi_chain_security.log").read_text().encode("utf-16"))
    (result,) = ingest(Store(tmp_path / "s"), [path]).files
    assert (result.fmt, result.events, result.skipped_count) == ("wineventlog", 2, 0)


def test_bytes_no_code_page_reads_are_counted(tmp_path: Path) -> None:
    raw = (DATA / "wmi_chain_security.log").read_bytes()
    path = tmp_path / "odd.log"
    path.write_bytes(raw.replace(b"pgustavo", b"pg\x81stavo\x9d", 1))  # undefined in cp1252
    (result,) = ingest(Store(tmp_path / "s"), [path]).files
    assert (result.status, result.events, result.partial) == ("stored", 2, True)
    (skip,) = result.skipped
    assert skip.position == "line 30"
    assert skip.reason == "2 byte(s) neither UTF-8 nor Windows-1252, kept as U+FFFD"


def test_json_lines_with_a_byte_order_mark_keep_their_first_event(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + CHAIN.read_bytes())
    (result,) = ingest(Store(tmp_path / "s"), [path]).files
    assert (result.status, result.events, result.skipped_count) == ("stored", 3, 0)


def _bad_first_line(tmp_path: Path, first: bytes) -> Path:
    event = orjson.loads(CHAIN.read_bytes().splitlines()[0])
    lines = [orjson.dumps({**event, "RecordNumber": i}) for i in range(99)]
    path = tmp_path / "bad_first.jsonl"
    path.write_bytes(b"\n".join([first, *lines]) + b"\n")
    return path


def test_a_bad_first_line_costs_that_line_only(tmp_path: Path) -> None:
    firsts = (b'{"EventID": 4624, "Chan', b"# exported by a tool", b'{"exported": "2024"}')
    for n, first in enumerate(firsts):
        path = _bad_first_line(tmp_path, first)
        store = Store(tmp_path / f"s{n}")
        (result,) = ingest(store, [path]).files
        assert (result.fmt, result.events, result.partial) == ("jsonl", 99, True), first
        assert [s.position for s in result.skipped] == ["line 1"]
        assert _count(store) == 99


def test_partial_file_exits_3_and_stats_flags_it(tmp_path: Path) -> None:
    path = _bad_first_line(tmp_path, b'{"EventID": 4624, "Chan')
    good = tmp_path / "good.jsonl"
    good.write_bytes(CHAIN.read_bytes())
    store = str(tmp_path / "s")
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(path), str(good), "--store", store])
    assert result.exit_code == 3, result.output
    assert "Ingested 102 events from 2 files" in result.stdout
    assert "Files stored only in part: 1" in result.stdout
    listed = f"{path}: 99 events stored, 1 records or stretches could not be read; first: line 1"
    assert listed + ": bad JSON" in result.stdout
    assert result.stderr == "Warning: 1 file stored only in part (listed above)\n"
    (entry,) = [i for i in Store(store).inputs() if i.get("skipped")]
    assert (entry["path"], entry["skipped"]) == (str(path.resolve()), 1)
    assert entry["damage"][0].startswith("line 1: bad JSON")
    table = runner.invoke(cli, ["stats", "--store", store])
    assert table.exit_code == 0
    assert "Partial inputs (stored only in part): 1" in table.stdout
    assert f"{path.resolve()}: 99 events stored, 1 records or stretches" in table.stdout
    as_json = runner.invoke(cli, ["stats", "--store", store, "--format", "json"])
    assert sum(r["count"] for r in json.loads(as_json.stdout)) == 102
    assert "Partial inputs (stored only in part): 1" in as_json.stderr
