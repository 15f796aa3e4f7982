"""detect scans the store's files a slice at a time: memory bounded by the slice, same results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.detect.events import sysmon_event

from huntbook import Workspace
from huntbook.detect import scan
from huntbook.store import views
from huntbook.store.testing import make_store

RULES = {
    "whoami.yml": """
title: Whoami Run
id: 00000000-0000-0000-0000-0000000000e1
logsource: {product: windows, category: process_creation}
detection: {a: {CommandLine|contains: whoami}, condition: a}
level: medium
""",
    "parent.yml": """
title: Started By Word
id: 00000000-0000-0000-0000-0000000000e2
logsource: {product: windows, category: process_creation}
detection:
    a: {ParentImage|endswith: '\\winword.exe'}
    b: {User|exists: true}
    condition: a and not b
level: high
""",
    "net.yml": """
title: Local Connection
id: 00000000-0000-0000-0000-0000000000e3
logsource: {product: windows, category: network_connection}
detection: {a: {DestinationIp|cidr: 10.0.0.0/8}, condition: a}
level: low
""",
}
NETWORK = {"EventCode": "3", "DestinationIp": "10.1.2.3"}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Five batches (five Parquet files), each with fields the others lack."""
    path = tmp_path / "store"
    make_store(path, [sysmon_event(n, CommandLine=f"cmd /c whoami {n}") for n in range(3)])
    make_store(path, [sysmon_event(5, ParentImage="C:\\Office\\WINWORD.EXE")])
    make_store(path, [sysmon_event(6, ParentImage="C:\\Office\\winword.exe", User="bob")])
    make_store(path, [sysmon_event(n, **NETWORK) for n in (7, 8)])
    make_store(path, [sysmon_event(1, CommandLine="whoami /all"), sysmon_event(9, **NETWORK)])
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in RULES.items():
        (rules / name).write_text(text)
    return path


def _detect(root: Path, files: int, out: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(scan, "FILES", files, raising=False)
    workspace = Workspace(root / "store")
    result = workspace.detect([root / "rules"], out=root / out, cache=root / "cache")
    summary = json.loads((root / out / "summary.json").read_text())
    return {
        "hits": {r.title: r.hits for r in result.rules},
        "summary": [(e["id"], e["status"], e["hits"]) for e in summary["results"]],
        "detections": (root / out / "detections.jsonl").read_text(),
    }


def test_each_view_binds_at_most_a_slice_of_the_files(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What DuckDB binds (and keeps the metadata of) per connection is a slice of the files."""
    bound: list[list[str]] = []
    made = views.events_view

    def recording(files: Any, *args: Any) -> Any:
        bound.append(list(files))
        return made(files, *args)

    monkeypatch.setattr(views, "events_view", recording)
    monkeypatch.setattr(scan, "events_view", recording, raising=False)
    found = _detect(store.parent, 2, "out", monkeypatch)
    assert found["hits"] == {"Whoami Run": 4, "Started By Word": 1, "Local Connection": 3}
    assert bound and max(len(files) for files in bound) == 2
    every = sorted(str(f) for f in (store / "events").rglob("*.parquet"))
    assert len(every) == 5
    assert sorted({f for files in bound for f in files}) == every


@pytest.mark.parametrize("files", [1, 2, 3])
def test_the_same_hits_however_the_files_are_sliced(
    store: Path, files: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _detect(store.parent, 100, "whole", monkeypatch)
    sliced = _detect(store.parent, files, f"sliced-{files}", monkeypatch)
    assert whole["hits"] == {"Whoami Run": 4, "Started By Word": 1, "Local Connection": 3}
    assert sliced == whole


def test_a_rule_failing_on_one_slice_fails_as_a_whole(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query that breaks on the second view (group and rule alone) after hits on the first:
    the rule is failed with the reason and none of its hits count; the others keep theirs."""
    views_made: list[scan.View] = []
    made = scan.View.__init__

    def counting(self: scan.View, *args: Any) -> None:
        made(self, *args)
        views_made.append(self)

    query = scan.Scanner._query

    def breaking(self: scan.Scanner, view: scan.View, key: Any, rules: list[Any]) -> Iterator[Any]:
        if len(views_made) == 5 and any(r.title == "Whoami Run" for r in rules):
            raise duckdb.InvalidInputException("broken on this slice")
        yield from query(self, view, key, rules)

    monkeypatch.setattr(scan.View, "__init__", counting)
    monkeypatch.setattr(scan.Scanner, "_query", breaking)
    # views: the 3 of the first pass (pairs), then files 1-2 (whoami hits), 3-4 (broken), 5
    found = _detect(store.parent, 2, "out", monkeypatch)
    assert found["hits"] == {"Whoami Run": 0, "Started By Word": 1, "Local Connection": 3}
    summary = json.loads((store.parent / "out" / "summary.json").read_text())
    failed = [e for e in summary["results"] if e["status"] == "failed"]
    assert [(e["title"], e["reason"]) for e in failed] == [
        ("Whoami Run", "DuckDB: broken on this slice")
    ]
    titles = [json.loads(line)["title"] for line in found["detections"].splitlines()]
    assert sorted(titles) == ["Local Connection"] * 3 + ["Started By Word"]
