"""Generated docs must match the code they are generated from (`make docs` regenerates them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COGGED = sorted(p for p in (ROOT / "docs").glob("*.md") if "[[[cog" in p.read_text())


@pytest.mark.parametrize("doc", COGGED, ids=lambda p: p.name)
def test_generated_doc_is_current(doc):
    proc = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(doc)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"{doc.name} is stale: run `make docs`\n{proc.stdout}{proc.stderr}"


def test_public_api_is_pinned():
    """The names a notebook may rely on; changing them is an API change."""
    import huntbook

    assert sorted(huntbook.__all__) == ["HuntbookError", "Workspace", "__version__"]
    for name in huntbook.__all__:
        assert hasattr(huntbook, name), name
