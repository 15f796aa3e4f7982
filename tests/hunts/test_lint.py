"""``huntbook hunt lint`` reports every problem with its line number."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.hunts import lint


def _errors(path: Path) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in lint(path) if p.severity == "error"]


def test_seed_and_minimal_are_clean(seed_path: Path, fixture_path) -> None:
    assert _errors(seed_path) == []
    assert lint(fixture_path("minimal")) == []


def test_broken_query_points_at_its_line(fixture_path) -> None:
    problems = [p for p in lint(fixture_path("broken-query")) if p.severity == "error"]
    assert [(p.line, p.code) for p in problems] == [(28, "spl")]
    assert "Process Starts" in problems[0].message and "col " in problems[0].message


def test_missing_section_empty_query_unknown_need(fixture_path) -> None:
    assert _errors(fixture_path("missing-section")) == [
        (1, "missing-section"),
        (18, "unknown-data-need"),
        (31, "empty-query"),
    ]


def test_unknown_placeholder_line_and_hint(fixture_path) -> None:
    problems = [p for p in lint(fixture_path("unknown-placeholder")) if p.severity == "error"]
    assert [(p.line, p.code) for p in problems] == [(36, "unknown-placeholder")]
    assert "Did you mean 'login_id'" in problems[0].message
    assert lint(fixture_path("unknown-placeholder"), {"logon_guid": "x"}) == []


def test_untitled_query_and_unterminated_fence(tmp_path: Path, fixture_path) -> None:
    text = fixture_path("minimal").read_text()
    text = text.replace("Process Starts\n\n```spl", "### Sub\n\n```spl", 1)
    text = text.replace("| table _time, host, Image\n```", "| table _time, host, Image\n")
    path = tmp_path / "p.md"
    path.write_text(text)
    codes = {p.code for p in lint(path)}
    assert {"untitled-query", "unterminated-fence"} <= codes


def test_cli_lint_prints_lines_and_exits_11(fixture_path) -> None:
    result = CliRunner().invoke(cli, ["hunt", "lint", str(fixture_path("missing-section"))])
    assert result.exit_code == 11
    assert "missing-section.md:31: error: empty query block" in result.output
    ok = CliRunner().invoke(cli, ["hunt", "lint", str(fixture_path("minimal"))])
    assert ok.exit_code == 0, ok.output


def test_every_builtin_playbook_is_clean() -> None:
    from huntbook.hunts.builtin import list_builtin

    books = list_builtin()
    assert len(books) == 7
    assert {b.name: lint(b.path) for b in books} == {b.name: [] for b in books}


def test_workspace_lints_a_builtin_by_name_as_the_cli_lints_its_file() -> None:
    """The CLI's `hunt lint` and a notebook's Workspace.lint are one call (issue 14)."""
    from huntbook import Workspace
    from huntbook.hunts.builtin import resolve

    by_name = Workspace.lint("wmi-lateral-movement")
    by_file = Workspace.lint(resolve("wmi-lateral-movement"))
    assert by_name == by_file
    assert not [p for p in by_name if p.severity == "error"]
    assert {b.name for b in Workspace.playbooks()} >= {"wmi-lateral-movement"}
