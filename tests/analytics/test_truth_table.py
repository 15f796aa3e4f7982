"""The hand-labelled lateral-movement truth table: tests/truth/lateral_movement.yaml.

It labels every recording in ../shared/data (issue 16; docs/truth-table.md says how it was made).
These tests hold the table itself to account, not the findings engine: its shape, that every
recording is labelled exactly once, and that every evidence event it names is in the recording
(by EventRecordID, or by exact time and a field value where the recording has no record ids),
with each move's first_seen the time of its earliest evidence event.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from huntbook.workspace import Workspace

TRUTH = Path(__file__).resolve().parents[1] / "truth" / "lateral_movement.yaml"
ENTRIES: list[dict[str, Any]] = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["recordings"]

# Where recordings live under ../shared/data, and which files there are recordings.
RECORDING_GLOBS = {"lateral-movement": "*.zip", "security-datasets": "*.zip", "evtx": "**/*.evtx"}

TECHNIQUES = {
    "WMI",
    "PsExec",
    "Service",
    "ScheduledTask",
    "DCOM",
    "WinRM",
    "RDP",
    "SMBCopy",
    "ExplicitCredentials",
    "PassTheHash",
    "RemoteRegistry",
}
CONFIDENCE = {"logon_id", "direct", "time", "inferred"}
SOURCE_KINDS = {"host", "address", "unresolved"}
ATTACK_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
ENTRY_KEYS = {"path", "no_movement", "moves", "notes"}
ENTRY_OPTIONAL = {"unseen"}
MOVE_KEYS = {
    "source",
    "source_kind",
    "destination",
    "account",
    "technique",
    "attack",
    "first_seen",
    "confidence",
    "evidence",
}
MOVE_OPTIONAL = {"source_address", "note"}
UNSEEN_KEYS = {"source", "destination", "account", "technique", "attack", "why", "partial_evidence"}
# An event is named by its record id, or (no record ids in the recording) by exact time + a field.
EVIDENCE_BY_RECORD = {"EventCode", "host", "record", "what"}
EVIDENCE_BY_TIME = {"EventCode", "host", "time", "field", "what"}
FLOAT_SLACK = 1e-6  # seconds: epoch floats are not exact to the microsecond

pytestmark = pytest.mark.shared


def _by_path(entry: dict[str, Any]) -> str:
    return str(entry["path"])


def _timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _same_millisecond(actual: float, given: str) -> bool:
    """The table gives times truncated to the millisecond."""
    return -FLOAT_SLACK <= actual - _timestamp(given) < 0.001 + FLOAT_SLACK


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_evidence(item: dict[str, Any]) -> None:
    assert set(item) in (EVIDENCE_BY_RECORD, EVIDENCE_BY_TIME), item
    assert isinstance(item["EventCode"], int) and item["host"], item
    if "record" in item:
        assert isinstance(item["record"], int), item
    else:
        _timestamp(item["time"])
        assert len(item["field"]) == 1, item


def _check_source(move: dict[str, Any]) -> None:
    kind, source = move["source_kind"], move["source"]
    assert kind in SOURCE_KINDS, move
    if kind == "host":
        assert source and not _is_address(source), move
    if kind == "address":
        assert _is_address(source) and move["source_address"] == source, move
        assert not ipaddress.ip_address(source).is_loopback, move
    if kind == "unresolved":
        assert source is None or ipaddress.ip_address(source).is_loopback, move


def _check_move(move: dict[str, Any]) -> None:
    assert MOVE_KEYS <= set(move) <= MOVE_KEYS | MOVE_OPTIONAL, sorted(set(move) ^ MOVE_KEYS)
    _check_source(move)
    assert move["destination"], move
    assert move["technique"] in TECHNIQUES, move
    assert ATTACK_ID.match(move["attack"]), move
    assert move["confidence"] in CONFIDENCE, move
    _timestamp(move["first_seen"])
    assert move["evidence"], move
    for item in move["evidence"]:
        _check_evidence(item)
    hosts = {item["host"] for item in move["evidence"]}
    assert move["destination"] in hosts, f"no evidence on the destination: {move}"


def _check_unseen(unseen: dict[str, Any]) -> None:
    assert set(unseen) == UNSEEN_KEYS, sorted(set(unseen) ^ UNSEEN_KEYS)
    assert unseen["technique"] in TECHNIQUES and ATTACK_ID.match(unseen["attack"]), unseen
    assert unseen["why"], unseen
    for item in unseen["partial_evidence"]:
        _check_evidence(item)


@pytest.mark.parametrize("entry", ENTRIES, ids=_by_path)
def test_entry_has_the_documented_shape(entry: dict[str, Any]) -> None:
    assert ENTRY_KEYS <= set(entry) <= ENTRY_KEYS | ENTRY_OPTIONAL, sorted(entry)
    assert entry["notes"].strip()
    for move in entry["moves"]:
        _check_move(move)
    for unseen in entry.get("unseen", []):
        _check_unseen(unseen)
    nothing = not entry["moves"] and not entry.get("unseen")
    assert entry["no_movement"] is nothing, "no_movement must be true exactly when nothing moved"


def test_every_recording_is_labelled_exactly_once(shared_data: Path) -> None:
    labelled = [entry["path"] for entry in ENTRIES]
    assert len(labelled) == len(set(labelled)), "a recording is labelled twice"
    present = {
        path.relative_to(shared_data).as_posix()
        for folder, pattern in RECORDING_GLOBS.items()
        for path in (shared_data / folder).glob(pattern)
    }
    assert set(labelled) == present


@pytest.fixture(scope="session")
def truth_recording(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], tuple[Workspace, str]]:
    """A recording ingested once per session into one store, one index per recording."""
    workspace = Workspace(tmp_path_factory.mktemp("truth") / "store")
    indexes: dict[str, str] = {}

    def get(path: str) -> tuple[Workspace, str]:
        if path not in indexes:
            indexes[path] = f"truth{len(indexes)}"
            workspace.ingest([shared_data / path], index=indexes[path], workers=1)
        return workspace, indexes[path]

    return get


def _events(workspace: Workspace, index: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    codes = sorted({item["EventCode"] for item in items})
    fields = sorted({name for item in items for name in item.get("field", {})})
    spl = (
        f"index={index} EventCode IN ({', '.join(map(str, codes))}) "
        f"| table _time host EventCode EventRecordID {' '.join(fields)}"
    )
    return workspace.search(spl).rows()


def _matches(event: dict[str, Any], item: dict[str, Any]) -> bool:
    if event["host"] != item["host"] or event["EventCode"] != str(item["EventCode"]):
        return False
    if "record" in item:
        return bool(event["EventRecordID"] == str(item["record"]))
    (name, value), *_ = item["field"].items()
    return _same_millisecond(event["_time"], item["time"]) and event.get(name) == value


def _found(events: list[dict[str, Any]], item: dict[str, Any]) -> dict[str, Any]:
    hits = [event for event in events if _matches(event, item)]
    assert len(hits) == 1, f"{len(hits)} events match {item}"
    return hits[0]


WITH_EVIDENCE = [entry for entry in ENTRIES if entry["moves"] or entry.get("unseen")]


@pytest.mark.parametrize("entry", WITH_EVIDENCE, ids=_by_path)
def test_every_evidence_event_is_in_the_recording(
    entry: dict[str, Any], truth_recording: Callable[[str], tuple[Workspace, str]]
) -> None:
    workspace, index = truth_recording(entry["path"])
    unseen = [item for u in entry.get("unseen", []) for item in u["partial_evidence"]]
    items = [item for move in entry["moves"] for item in move["evidence"]] + unseen
    events = _events(workspace, index, items)
    for item in unseen:
        _found(events, item)
    for move in entry["moves"]:
        first = min(_found(events, item)["_time"] for item in move["evidence"])
        assert _same_millisecond(first, move["first_seen"]), (
            f"first_seen {move['first_seen']} but the earliest evidence is at {first}"
        )
