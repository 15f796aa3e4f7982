"""The loader reads the seed exactly as written, and ErrorLevel decides what a problem does."""

from __future__ import annotations

from pathlib import Path

import pytest

from huntbook.errors import PlaybookError
from huntbook.hunts import ErrorLevel, load_playbook
from huntbook.hunts.builtin import list_builtin, names, resolve

from .conftest import SHIPPED_SEED


def test_seed_loads_unchanged(seed_path: Path) -> None:
    book = load_playbook(seed_path)
    assert book.title == "WMI - Lateral Movement Hunt (Example Report)"
    assert [q.title for q in book.queries] == [
        "What Data Do We Have?",
        "WMI Process Execution - Destination Host",
        "WMI Network Connection - Destination Host",
        "Systems with Network 4624 Event followed by Sysmon Process Creations - Destination Host",
        "All Events for Host by Logon ID",
        "WMI Parent Command-Line",
    ]
    assert [q.line for q in book.queries] == [34, 44, 51, 57, 70, 80]
    assert book.queries[4].spl.startswith(
        "index=botsv2 ((Logon_ID=<login_id> OR LogonId=<login_id>)"
    )
    assert book.queries[3].spl.count("\n") == 7
    assert [t.ids for t in book.techniques] == [("T1047",)]
    assert [d.name for d in book.data_needed] == [
        "Authentication Logs",
        "Netflow",
        "Process Monitoring",
        "Process Command-Line Parameters",
    ]
    assert [(r.search.strip(), r.hits, r.line) for r in book.results][2] == (
        "Remote Execution via WMI - Destination Host",
        2,
        93,
    )
    assert dict(book.metadata)["Environment"] == "BOTs v2"
    assert book.outputs[-1] == "Visibility Gap: No Sysmone Event ID 3 Logs."
    assert len(book.references) == 6 and book.conclusion.startswith("During the week")


def test_shipped_copy_is_the_seed_byte_for_byte(seed_path: Path) -> None:
    assert SHIPPED_SEED.read_bytes() == seed_path.read_bytes()


def test_builtins_all_load_and_resolve_by_name() -> None:
    books = list_builtin()
    assert "wmi-lateral-movement" in names()
    assert all(b.attack_ids and b.title for b in books)
    assert resolve("wmi-lateral-movement").samefile(SHIPPED_SEED)


def test_unknown_builtin_suggests_a_name() -> None:
    with pytest.raises(PlaybookError, match="Did you mean 'wmi-lateral-movement'"):
        resolve("wmi-lateral-movment")


def test_raise_lists_every_error_with_lines(fixture_path) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(fixture_path("missing-section"))
    lines = sorted(loc.line for loc, _ in caught.value.problems)
    assert lines == [1, 31]  # missing Hypothesis, empty query (unknown needs are lint's business)
    assert "missing section '## Hypothesis'" in str(caught.value)


def test_immediate_stops_at_the_first_error(fixture_path) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(fixture_path("missing-section"), error_level=ErrorLevel.IMMEDIATE)
    assert len(caught.value.problems) == 1


def test_warn_returns_what_could_be_read_and_ignore_too(fixture_path) -> None:
    for level in (ErrorLevel.WARN, ErrorLevel.IGNORE):
        book = load_playbook(fixture_path("missing-section"), error_level=level)
        assert book.hypothesis == "" and [q.title for q in book.queries][0] == "Process Starts"


def test_hash_inside_a_query_is_not_a_heading(tmp_path: Path, fixture_path) -> None:
    text = (
        fixture_path("minimal")
        .read_text()
        .replace(
            "| table _time, host, LogonId, Image", '| eval x="a"\n## not a section\n| table _time'
        )
    )
    path = tmp_path / "p.md"
    path.write_text(text)
    book = load_playbook(path)
    assert "## not a section" in book.queries[0].spl
    assert book.section("results") is not None
