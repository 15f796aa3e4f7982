"""Snapshots: report.md and report.html rendered from one fixed result document.

``golden/result.json`` is a result document (a real run of the seed with ``--index main`` on a
small store whose host, account and command-line values carry ``<script>``/``onerror`` payloads,
with run time, version, store path and timings fixed). A renderer change shows here as a diff to
review. When the change is intended, regenerate the snapshots and review the diff:

    HUNTBOOK_REGEN_GOLDEN=1 .venv/bin/python -m pytest -q tests/hunts/test_golden.py
    git diff tests/hunts/golden/

(tests/hunts/golden/README.md says the same.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from huntbook.hunts import render_html, render_markdown
from huntbook.hunts.result import HuntResult

GOLDEN = Path(__file__).parent / "golden"
RENDERERS: dict[str, Callable[[HuntResult], str]] = {
    "report.md": render_markdown,
    "report.html": render_html,
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_report_matches_its_snapshot(name: str) -> None:
    result = HuntResult.from_json((GOLDEN / "result.json").read_bytes())
    text = RENDERERS[name](result)
    path = GOLDEN / name
    if os.environ.get("HUNTBOOK_REGEN_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs: see the module docstring"


def test_the_document_round_trips() -> None:
    """The fixed document is read and written back unchanged (report.json's shape is stable)."""
    raw = (GOLDEN / "result.json").read_bytes()
    result = HuntResult.from_json(raw)
    assert HuntResult.from_json(result.to_json()).to_dict() == result.to_dict()
    assert result.to_dict().keys() >= {"queries", "findings", "store", "time_range", "playbook"}


def test_the_document_is_typed() -> None:
    """Issue 14: the result is dataclasses with an enum status, not dicts at its core; the JSON
    keeps its field names (the snapshot above is rendered from it)."""
    from huntbook.hunts.result import Coverage, Findings, PlaybookDoc, QueryStatus, StoreStamp

    result = HuntResult.from_json((GOLDEN / "result.json").read_bytes())
    assert isinstance(result.findings, Findings) and isinstance(result.playbook, PlaybookDoc)
    assert isinstance(result.store, StoreStamp) and isinstance(result.coverage, Coverage)
    assert [q.status for q in result.queries][:2] == [QueryStatus.OK, QueryStatus.ZERO]
    assert result.queries[4].status is QueryStatus.UNFILLED
    doc = result.to_dict()
    assert doc["queries"][4]["status"] == "unfilled"
    assert '"status": "unfilled"' in result.to_json()
    with pytest.raises(ValueError, match="'bogus' is not a valid QueryStatus"):
        QueryStatus("bogus")
