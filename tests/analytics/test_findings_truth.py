"""The findings engine against the hand-labelled truth table (tests/truth/lateral_movement.yaml).

Every recording of ../shared/data is ingested into its own index of one store;
``Workspace.findings`` runs on each index and its lateral-movement edges are compared with the
table's moves: an edge matches a move when its destination, source and technique agree (host
names compared case-insensitively in short form; a move whose source the table calls unresolved
needs an edge that says it is unresolved, not one that names a host). Moves the table lists as
``unseen`` are neither required nor counted against the engine.

Per technique: moves found / labelled (recall) and edges right / drawn (precision). ``FLOOR``
holds the engine to at least the figures measured when this test was written and raised with
each new rule; docs/findings.md states the same figures, and ``test_docs_state_the_figures``
keeps the two equal (the doc is written from this test's output, not generated).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from huntbook.analytics.scan import scan
from huntbook.hunts.findings import ANALYTICS, to_jsonable
from huntbook.hunts.scope import IndexScope
from huntbook.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
TRUTH = ROOT / "tests" / "truth" / "lateral_movement.yaml"
DOC = ROOT / "docs" / "findings.md"
ENTRIES: list[dict[str, Any]] = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["recordings"]

# The engine's method name -> the table's technique names it may stand for.
TECHNIQUES_OF: dict[str, tuple[str, ...]] = {
    "WMI": ("WMI",),
    "WinRM": ("WinRM",),
    "PsExec": ("PsExec",),
    "service": ("Service",),
    "PsExec/service": ("Service", "PsExec"),
    "DCOM": ("DCOM",),
    "RDP": ("RDP",),
    "RDP tunnel": ("RDP",),
    "scheduled task": ("ScheduledTask",),
    "SMB copy": ("SMBCopy",),
    "explicit credentials": ("ExplicitCredentials",),
    "pass the hash": ("PassTheHash",),
    "remote registry": ("RemoteRegistry",),
}

# technique -> (moves found at least, false edges at most) on the whole table.
FLOOR: dict[str, tuple[int, int]] = {
    "DCOM": (1, 0),
    "PassTheHash": (1, 0),
    "PsExec": (3, 0),
    "RDP": (2, 0),
    "SMBCopy": (2, 0),
    "ScheduledTask": (3, 0),
    "Service": (5, 0),
    "WMI": (4, 0),
    "WinRM": (4, 0),
}

ROW = re.compile(r"^\| (\w+) \| (\d+) \| (\d+) \| (\d+) \| ([\d.-]+) \| ([\d.-]+) \|$", re.M)
REAL_SECTION = "## Precision and recall on the truth table"
NEEDS = ("Authentication Logs", "Netflow", "Process Monitoring", "Process Command-Line Parameters")

pytestmark = pytest.mark.shared


@dataclass
class Score:
    """Per technique: labelled moves, moves found, edges drawn that match no move."""

    labelled: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    false: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, int, int, int, str, str]]:
        """(technique, labelled, found, false, recall, precision), techniques in name order."""
        out = []
        for name in sorted(set(self.labelled) | set(self.false)):
            drawn = self.found[name] + self.false[name]
            recall = f"{self.found[name] / self.labelled[name]:.2f}" if self.labelled[name] else "-"
            precision = f"{self.found[name] / drawn:.2f}" if drawn else "-"
            out.append(
                (name, self.labelled[name], self.found[name], self.false[name], recall, precision)
            )
        return out


def _host(name: str | None) -> str:
    return (name or "").split(".", 1)[0].lower()


def _source_fits(move: dict[str, Any], edge: dict[str, Any]) -> bool:
    if move["source_kind"] == "unresolved":
        return bool(edge["source_kind"] == "unresolved")
    return _host(edge["source"]) == _host(move["source"])


def _fits(move: dict[str, Any], edge: dict[str, Any]) -> bool:
    return (
        _host(edge["destination"]) == _host(move["destination"])
        and move["technique"] in TECHNIQUES_OF.get(edge["method"], ())
        and _source_fits(move, edge)
    )


def _describe(path: str, item: dict[str, Any], technique: str) -> str:
    return f"{path}: {item['source']} -> {item['destination']} {technique}"


def _score_one(score: Score, path: str, moves: list[dict[str, Any]], edges: list[Any]) -> None:
    left = list(edges)
    for move in moves:
        score.labelled[move["technique"]] += 1
        hit = next((e for e in left if _fits(move, e)), None)
        if hit is None:
            score.misses.append(_describe(path, move, move["technique"]))
            continue
        left.remove(hit)
        score.found[move["technique"]] += 1
    for edge in left:
        technique = TECHNIQUES_OF.get(edge["method"], (edge["method"],))[0]
        score.false[technique] += 1
        score.wrong.append(_describe(path, edge, edge["method"]))


def _unseen_fits(entry: dict[str, Any], edge: dict[str, Any]) -> bool:
    """An edge for a move the table lists as not visible: neither right nor wrong."""
    return any(
        _host(edge["destination"]) == _host(u["destination"])
        and u["technique"] in TECHNIQUES_OF.get(edge["method"], ())
        for u in entry.get("unseen", [])
    )


@pytest.fixture(scope="module")
def workspace(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Every recording of the table in its own index (``rec<N>``, N its place in the table)."""
    found = Workspace(tmp_path_factory.mktemp("findings-truth") / "store")
    for number, entry in enumerate(ENTRIES):
        found.ingest([shared_data / entry["path"]], index=f"rec{number}", workers=1)
    return found


@pytest.fixture(scope="module")
def score(workspace: Workspace) -> Score:
    result = Score()
    for number, entry in enumerate(ENTRIES):
        edges = workspace.findings(index=f"rec{number}")["lateral_movement"]
        edges = [e for e in edges if not _unseen_fits(entry, e)]
        _score_one(result, entry["path"], entry["moves"], edges)
    return result


def test_scan_changes_no_finding(workspace: Workspace) -> None:
    """Each analytic gives the same findings on the one-pass scan (analytics/scan.py) as on the
    store's events, on every recording."""
    differ = []
    for number, entry in enumerate(ENTRIES):
        store = IndexScope(workspace.store, f"rec{number}")
        scanned = scan(store)
        for key, (analytic, _) in ANALYTICS.items():
            plain = to_jsonable(analytic(store, NEEDS))
            if to_jsonable(analytic(scanned, NEEDS)) != plain:
                differ.append(f"{entry['path']}: {key}")
    assert differ == []


def test_print_figures(score: Score) -> None:
    """The measured table (run with -s to see it), and every miss and false edge."""
    for row in score.rows():
        print(row)
    print("missed:", *score.misses, sep="\n  ")
    print("false:", *score.wrong, sep="\n  ")
    assert sum(score.labelled.values()) == sum(len(e["moves"]) for e in ENTRIES)


@pytest.mark.parametrize("technique", sorted(FLOOR))
def test_technique_holds_its_floor(score: Score, technique: str) -> None:
    found_at_least, false_at_most = FLOOR[technique]
    assert score.found[technique] >= found_at_least, score.misses
    assert score.false[technique] <= false_at_most, score.wrong


def test_nothing_false_on_recordings_without_movement(score: Score) -> None:
    quiet = {e["path"] for e in ENTRIES if e["no_movement"]}
    assert [w for w in score.wrong if w.split(":", 1)[0] in quiet] == []


def stated_rows(heading: str) -> list[tuple[str, ...]]:
    """The figures table of one section of docs/findings.md (from ``heading`` to the next)."""
    text = DOC.read_text(encoding="utf-8").split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    return ROW.findall(text)


def test_docs_state_the_figures(score: Score) -> None:
    stated = stated_rows(REAL_SECTION)
    assert [tuple(map(str, row)) for row in score.rows()] == stated
