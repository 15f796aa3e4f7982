"""docs/spl-support.md is generated from the code and names every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from huntbook.query.spl.parser import COMMAND_PARSERS
from huntbook.query.spl.support import COMMAND_SUPPORT

DOC = Path(__file__).resolve().parents[3] / "docs" / "spl-support.md"


def test_every_command_has_a_support_entry() -> None:
    assert set(COMMAND_SUPPORT) == set(COMMAND_PARSERS)


def test_support_matrix_is_current() -> None:
    """Regenerate with: cog -r docs/spl-support.md"""
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(DOC)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_command_appears_in_the_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in COMMAND_PARSERS if f"| `{name}` |" not in text]
    assert not missing
