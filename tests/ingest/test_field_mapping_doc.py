"""docs/field-mapping.md is generated from the mapping YAML and must be current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from huntbook.normalize.tables import tables

DOC = Path(__file__).resolve().parents[2] / "docs" / "field-mapping.md"


def test_field_mapping_doc_is_current() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(DOC)], capture_output=True, text=True
    )
    assert proc.returncode == 0, f"run `cog -r docs/field-mapping.md`\n{proc.stdout}{proc.stderr}"


def test_every_mapped_name_is_documented() -> None:
    text = DOC.read_text()
    t = tables()
    names = [*t.classic_default.values(), *t.flat_rename.values(), *t.task_categories.values()]
    names += [rule.name for rules in t.cim.values() for rule in rules]
    assert [n for n in names if f"`{n}`" not in text] == []
