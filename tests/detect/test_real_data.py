"""huntbook detect on the real recordings of ../shared/data with SigmaHQ's Windows rules."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from huntbook import Workspace
from huntbook.detect import scan

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def evtx_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("detect")
    workspace = Workspace(root / "store")
    workspace.ingest([shared_data / "evtx"])
    out = root / "out"
    (root / "correlation.yml").write_text(CORRELATION)
    rules = [shared_data / "sigma" / "rules", root / "correlation.yml"]
    result = workspace.detect(rules, out=out, cache=root / "cache")
    return result, out


# Three or more suspicious rundll32 runs on one host within an hour (a clock hour, see docs).
CORRELATION = """
title: Rundll32 burst
correlation:
    type: event_count
    rules: [e593cf51-88db-4ee1-b920-37e89012a3c9]
    group-by: [host]
    timespan: 1h
    condition: {gte: 3}
level: high
"""


def test_every_rule_is_accounted_for(shared_data: Path, evtx_run: Any) -> None:
    result, out = evtx_run
    files = sorted((shared_data / "sigma" / "rules").rglob("*.yml"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rules"] == len(files) + 1 == len(summary["results"])
    paths = {e["path"] for e in summary["results"]}
    assert {str(f) for f in files} <= paths
    assert all(e["status"] in ("ran", "skipped", "failed") for e in summary["results"])
    assert all(e.get("reason") for e in summary["results"] if e["status"] != "ran")
    parsed = [e for e in summary["results"] if not e.get("reason", "").startswith("pySigma")]
    ran = [e for e in parsed if e["status"] == "ran"]
    assert len(ran) / len(parsed) >= 0.99


def test_pinned_hits_on_the_evtx_recordings(evtx_run: Any) -> None:
    result, out = evtx_run
    hits = {r.title: r.hits for r in result.rules if r.hits}
    # process_creation rules fed by Sysmon 1 and Security 4688 (the 4688 hit below)
    assert hits["Base64 Encoded PowerShell Command Detected"] == 5
    assert hits["Local Accounts Discovery"] == 5
    assert hits["Potentially Suspicious Rundll32 Activity"] == 10
    assert any(h.event.get("EventCode") == "4688" for h in result.hits)
    burst = [h.event for h in result.hits if h.rule.title == "Rundll32 burst"]
    assert [(e["host"], e["value"]) for e in burst] == [("IEWIN7", 7)]
    lines = (out / "detections.jsonl").read_text().splitlines()
    assert len(lines) == len(result.hits)
    first = json.loads(lines[0])
    assert {
        "rule_id",
        "title",
        "level",
        "tags",
        "_time",
        "host",
        "EventCode",
        "source",
        "_cd",
    } <= set(first)
    assert "<h2>Rules that did not run</h2>" in (out / "report.html").read_text()


def test_smaller_queries_on_one_thread_find_the_same_hits(
    evtx_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group queries cut in chunks and run on threads: how they are cut changes nothing."""
    result, out = evtx_run
    monkeypatch.setattr(scan, "CHUNK", 40)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    workspace = Workspace(out.parent / "store")
    again = workspace.detect(
        [r.path for r in result.rules], cache=out.parent / "cache", out=tmp_path / "out"
    )
    assert {r.key: r.hits for r in again.rules} == {r.key: r.hits for r in result.rules}
    assert sum(r.hits for r in again.rules) > 300


def test_the_same_detections_whatever_the_files_per_view(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store of four ingests (four Parquet files: EVTX thirds, a JSON recording) scanned one
    file per view and all in one view: the same detections.jsonl and summary.json."""
    workspace = Workspace(tmp_path / "store")
    evtx = sorted((shared_data / "evtx").rglob("*.evtx"))
    for third in (evtx[0::3], evtx[1::3], evtx[2::3]):
        workspace.ingest(third)
    workspace.ingest([shared_data / "security-datasets" / "empire_launcher_vbs.zip"])
    assert len(workspace.store.files()) == 4
    outputs = []
    for files in (1, 48):
        monkeypatch.setattr(scan, "FILES", files)
        out = tmp_path / f"out-{files}"
        result = workspace.detect([shared_data / "sigma" / "rules"], out=out, cache=tmp_path / "c")
        summary = json.loads((out / "summary.json").read_text())
        outputs.append(
            (
                [(e["path"], e["status"], e["hits"]) for e in summary["results"]],
                (out / "detections.jsonl").read_text(),
                sum(r.hits for r in result.rules),
            )
        )
    assert outputs[0] == outputs[1]
    assert outputs[0][2] > 300
