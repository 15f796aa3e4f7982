"""Field aliases live in one table (analytics/aliases.py), not copied by hand per analytic."""

from __future__ import annotations

from pathlib import Path

from huntbook.analytics import sessions
from huntbook.analytics.aliases import FIELD_ALIASES
from huntbook.analytics.methods import FIELD_OF
from huntbook.analytics.powershell_findings import SOURCE_FIELDS
from huntbook.analytics.visibility import _source, _table
from huntbook.hunts.tables import PLACEHOLDER_ALIASES

SRC = Path(__file__).resolve().parents[2] / "src" / "huntbook"
SPELLINGS = ('"NewProcessName"', '"Creator_Process_Name"', '"Process_Command_Line"', '"ImagePath"')


def test_each_alias_spelling_is_written_once() -> None:
    files = [*(SRC / "analytics").glob("*.py"), *(SRC / "hunts").rglob("*.py")]
    for spelling in SPELLINGS:
        holders = [f.name for f in files if spelling in f.read_text()]
        assert holders == ["aliases.py"], spelling


def test_every_user_reads_the_table() -> None:
    for name in ("Image", "ParentImage", "CommandLine"):
        assert sessions.ACTIVITY_FIELDS[name] == list(FIELD_ALIASES[name])
    # the method rules read their fields (parent_image -> ParentImage) from the activity's table
    assert sessions.ACTIVITY_FIELDS[FIELD_OF["parent_image"]] == list(FIELD_ALIASES["ParentImage"])
    assert SOURCE_FIELDS["CommandLine"] == list(FIELD_ALIASES["CommandLine"])
    assert set(FIELD_ALIASES["Image"]) < set(PLACEHOLDER_ALIASES["image"])
    cmd = next(
        s
        for need, spec in _table()["needs"].items()
        if need == "process command-line parameters"
        for s in map(_source, spec["sources"])
        if "4688" in s.codes
    )
    assert cmd.field == FIELD_ALIASES["CommandLine"]
