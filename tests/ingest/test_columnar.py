"""The compiled JSON-lines path (ingest/columnar.py) on hand-made lines: the same store as the
Python path, with what it cannot reproduce read by the Python path and counted."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from huntbook.ingest import columnar, ingest, lines, reading
from huntbook.ingest.base import IngestSettings
from huntbook.store import Store

ONE_PROCESS = IngestSettings(workers=1)
SECURITY = "Microsoft-Windows-Security-Auditing"
SYSMON = "Microsoft-Windows-Sysmon"


def _line(n: int, **fields: Any) -> dict[str, Any]:
    """An NXLog line: Security 4624 unless ``fields`` say otherwise."""
    base = {
        "EventTime": f"2020-09-18 09:07:{n % 60:02d}",
        "EventReceivedTime": "2020-09-18 09:07:59",
        "@timestamp": "2020-09-18T13:07:59.000Z",
        "Hostname": "WORKSTATION5.theshire.local",
        "Channel": "Security",
        "SourceName": SECURITY,
        "EventID": 4624,
        "RecordNumber": 1000 + n,
        "SubjectUserName": "-",
        "SubjectDomainName": "THESHIRE",
        "TargetUserName": f"pgustavo{n % 3}",
        "TargetDomainName": "THESHIRE",
        "LogonType": "3",
        "ElevatedToken": "%%1842",
        "port": 60737,
        "tags": ["mordorDataset"],
        "Version": 2,
        "Flag": n % 2 == 0,
        "Empty": "",
        "Nothing": None,
        "Custom": f"value {n}",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def _sysmon(n: int) -> dict[str, Any]:
    return _line(
        n,
        Channel="Microsoft-Windows-Sysmon/Operational",
        SourceName=SYSMON,
        EventID=1,
        UtcTime=f"2020-09-18 13:07:{n % 60:02d}.{n:03d}",
        Image="C:\\Windows\\System32\\cmd.exe",
        User="THESHIRE\\pgustavo",
        user="lower-case twin",
        CommandLine="cmd.exe /c whoami\nsecond line",
        ParentImage="-",
        TargetUserName=...,
    )


def _write(path: Path, objects: list[dict[str, Any]], *, extra: bytes = b"") -> Path:
    lines = [orjson.dumps(o) for o in objects]
    path.write_bytes(b"\r\n".join(lines[:3]) + b"\r\n\n   \n" + b"\n".join(lines[3:]) + extra)
    return path


def _shuffled(obj: dict[str, Any], n: int) -> dict[str, Any]:
    """The same object with its keys in another order (NXLog lines differ in key order)."""
    items = list(obj.items())
    return dict(items[n % len(items) :] + items[: n % len(items)])


def _objects(count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        obj = _sysmon(n) if n % 4 == 3 else _line(n, Extra=f"x{n}" if n % 5 == 0 else ...)
        yield _shuffled(obj, n)


def _stores(tmp_path: Path, source: Path) -> tuple[Store, Store, Any, Any]:
    columnar.REFUSALS.clear()
    columnar.READ.clear()
    fast = Store(tmp_path / "fast")
    fast_summary = ingest(fast, [source], index="t", settings=ONE_PROCESS)
    before = dict(reading.COMPILED)
    reading.COMPILED.clear()
    try:
        reference = Store(tmp_path / "reference")
        reference_summary = ingest(reference, [source], index="t", settings=ONE_PROCESS)
    finally:
        reading.COMPILED.update(before)
    return fast, reference, fast_summary, reference_summary


def _assert_same(fast: Store, reference: Store) -> None:
    mine = [pq.read_table(f) for f in fast.files()]
    theirs = [pq.read_table(f) for f in reference.files()]
    assert len(mine) == len(theirs) > 0
    for a, b in zip(mine, theirs, strict=True):
        assert a.schema == b.schema
        assert a.to_pylist() == b.to_pylist()
    assert fast.catalog() == reference.catalog()
    assert fast.columns() == reference.columns()


def test_lines_of_every_kind_give_the_python_paths_store(tmp_path: Path) -> None:
    source = _write(tmp_path / "mixed.json", list(_objects(400)))
    fast, reference, _, _ = _stores(tmp_path, source)
    _assert_same(fast, reference)
    assert columnar.REFUSALS == {}
    assert columnar.READ["events"] == 400
    row = pq.read_table(fast.files()[0]).slice(3, 1).to_pylist()[0]
    assert (row["host"], row["Flag"], row["Version"], row["user~1"]) == (
        "WORKSTATION5",
        "false",
        "2",
        "lower-case twin",
    )


def test_runs_cut_parts_the_way_events_one_by_one_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(columnar, "RUN_BYTES", 3_000)  # runs of a few lines, cut across parts
    monkeypatch.setattr(lines, "BLOCK", 2_000)
    monkeypatch.setattr(reading, "PartWriter", _small_parts(reading.PartWriter))
    source = _write(tmp_path / "mixed.json", list(_objects(300)))
    fast, reference, _, _ = _stores(tmp_path, source)
    _assert_same(fast, reference)
    assert columnar.READ["runs"] > 20


def _small_parts(writer: Any) -> Any:
    def make(out_dir: Path, prefix: str) -> Any:
        return writer(out_dir, prefix, chunk_rows=7)

    return make


@pytest.mark.parametrize(
    ("odd", "reason"),
    [
        (b'{"EventID": 4624, "Channel": "Security", "Score": 1.5}', "'Score' holds double"),
        (b'{"EventID": 4624, "Channel": "Security", "Nested": {"a": 1}}', "'Nested' holds struct"),
        (b'{"Channel": "Security", "EventTime": "2020-09-18 09:07:01"}', "a line without EventID"),
        (b'{"EventID": 4624, "Channel": "Sec', "Arrow cannot read it"),
        (b'{"EventID": 4625, "Channel": "Security"}', "a line without a time"),
        (b'{"EventID": 4624, "RecordNumber": 5, "EventRecordID": "5"}', "two keys named"),
    ],
)
def test_a_run_it_cannot_reproduce_is_read_by_the_python_path(
    tmp_path: Path, odd: bytes, reason: str
) -> None:
    source = _write(tmp_path / "odd.json", list(_objects(40)), extra=b"\n" + odd + b"\n")
    fast, reference, fast_summary, reference_summary = _stores(tmp_path, source)
    _assert_same(fast, reference)
    assert [r for r in columnar.REFUSALS if r.startswith(reason)], columnar.REFUSALS
    assert sum(columnar.REFUSALS.values()) == 1
    assert _skips(fast_summary) == _skips(reference_summary)


def _skips(summary: Any) -> list[tuple[int, list[Any], int]]:
    return [(f.skipped_count, f.skipped, f.events) for f in summary.files]


def test_a_broken_stream_is_reported_where_the_python_path_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines, "BLOCK", 20_000)  # the stream breaks after a few blocks
    data = gzip.compress(b"\n".join(orjson.dumps(o) for o in _objects(200)) + b"\n")
    source = tmp_path / "cut.json.gz"
    source.write_bytes(data[: len(data) * 2 // 3])
    fast, reference, fast_summary, reference_summary = _stores(tmp_path, source)
    _assert_same(fast, reference)
    assert _skips(fast_summary) == _skips(reference_summary)
    assert fast_summary.files[0].skipped_count == 1
    assert 0 < fast.event_count() < 200
    assert columnar.READ["events"] > 0
