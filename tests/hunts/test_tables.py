"""The hunts' data-need names agree with the analytics' visibility table."""

from __future__ import annotations

from huntbook.analytics.visibility import _lookup
from huntbook.hunts.tables import DATA_NEED_ALIASES, canonical_need


def test_every_need_name_lint_accepts_is_one_visibility_knows() -> None:
    unknown = [name for name in DATA_NEED_ALIASES if _lookup(name) is None]
    assert unknown == []


def test_need_names_are_matched_case_and_space_insensitively() -> None:
    assert (
        canonical_need("  Process   Command-Line Parameters ") == "process command-line parameters"
    )
    assert canonical_need("Telepathy Logs") is None
