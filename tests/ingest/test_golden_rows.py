"""Snapshots of the normalized rows each input sample gives (issue 14): a change to a reader or to
the normalizer shows as a diff of these files, field by field.

Regenerate after an intended change, then read the diff before committing it:

    HUNTBOOK_REGEN_GOLDEN=1 .venv/bin/python -m pytest -q tests/ingest/test_golden_rows.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from huntbook import Workspace

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLES = sorted(p.name for p in DATA.iterdir() if p.is_file())


def _rows(store: Path) -> list[dict[str, Any]]:
    con = Workspace(store).store.connect()
    cursor = con.execute("SELECT * FROM events ORDER BY _cd")
    names = [d[0] for d in cursor.description]
    return [
        {k: v for k, v in zip(names, row, strict=True) if v is not None and k != "_cd"}
        for row in cursor.fetchall()
    ]


@pytest.mark.parametrize("sample", SAMPLES)
def test_normalized_rows_match_the_snapshot(sample: str, tmp_path: Path) -> None:
    Workspace(tmp_path / "store").ingest([DATA / sample], index="golden")
    text = json.dumps(_rows(tmp_path / "store"), indent=1, sort_keys=True, ensure_ascii=False)
    golden = GOLDEN / f"{sample}.json"
    if os.environ.get("HUNTBOOK_REGEN_GOLDEN") == "1":
        golden.write_text(text + "\n", encoding="utf-8")
    assert golden.is_file(), f"no snapshot for {sample}: regenerate (see the module docstring)"
    assert text + "\n" == golden.read_text(encoding="utf-8")
