"""The findings engine against the derived fixtures (tests/truth/derived_lateral_movement.yaml).

The techniques no real recording in ../shared/data shows (WMI event consumers and a planted WMI
provider DLL, DCOM through Office automation, remote registry, renamed PsExec, RDP seen only in
the RDP channels) are measured on fixtures built from real events of the same lab
(tests/truth/derived/README.md). Each fixture is ingested into a store of its own and scored as
the real table is (test_findings_truth.py): every move found, with its ATT&CK id, confidence and
the evidence events the table names, and no edge that matches no move. docs/findings.md states
these figures in their own section, apart from the real recordings'. When ../shared/data is
there, rebuilding the fixtures from it gives the same bytes (they are what the README says).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.analytics.test_findings_truth import ROOT, Score, _fits, _score_one, stated_rows

from huntbook.workspace import Workspace

DERIVED = ROOT / "tests" / "truth" / "derived"
TRUTH = ROOT / "tests" / "truth" / "derived_lateral_movement.yaml"
ENTRIES: list[dict[str, Any]] = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["recordings"]
SECTION = "## Derived fixtures (not real recordings)"


@pytest.fixture(scope="module")
def edges_of(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Each fixture's lateral-movement edges, each fixture in a store of its own."""
    found = {}
    for entry in ENTRIES:
        workspace = Workspace(tmp_path_factory.mktemp("derived") / "store")
        workspace.ingest([DERIVED / entry["path"]], index="fixture", workers=1)
        found[entry["path"]] = workspace.findings(index="fixture")["lateral_movement"]
    return found


@pytest.fixture(scope="module")
def score(edges_of: dict[str, list[dict[str, Any]]]) -> Score:
    result = Score()
    for entry in ENTRIES:
        _score_one(result, entry["path"], entry["moves"], edges_of[entry["path"]])
    return result


def test_every_derived_move_is_found_and_nothing_false(score: Score) -> None:
    assert score.misses == []
    assert score.wrong == []
    assert set(score.labelled) == {"DCOM", "PsExec", "RDP", "RemoteRegistry", "SMBCopy", "WMI"}


@pytest.mark.parametrize(
    "entry, move",
    [(e, m) for e in ENTRIES for m in e["moves"]],
    ids=[f"{e['path']}-{m['technique']}" for e in ENTRIES for m in e["moves"]],
)
def test_each_edge_says_what_the_table_says(
    edges_of: dict[str, list[dict[str, Any]]], entry: dict[str, Any], move: dict[str, Any]
) -> None:
    """ATT&CK id, confidence, account, and every evidence event the table names (by record)."""
    edge = next(e for e in edges_of[entry["path"]] if _fits(move, e))
    assert (edge["attack"], edge["confidence"], edge["account"]) == (
        move["attack"],
        move["confidence"],
        move["account"],
    )
    assert edge["first_seen"][:19] + "Z" == move["first_seen"]
    named = {(str(x["EventCode"]), str(x["record"])) for x in move["evidence"]}
    assert named <= {(x["EventCode"], x.get("record")) for x in edge["evidence"]}


def test_docs_state_the_derived_figures(score: Score) -> None:
    assert [tuple(map(str, row)) for row in score.rows()] == stated_rows(SECTION)


def test_fixtures_rebuild_from_the_real_recordings(shared_data: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_fixtures", DERIVED / "build_fixtures.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    builder.main(shared_data, tmp_path)
    built = sorted(p.name for p in tmp_path.glob("*.json"))
    assert built == sorted(e["path"] for e in ENTRIES)
    for name in built:
        assert (tmp_path / name).read_bytes() == (DERIVED / name).read_bytes(), name
