"""Analytics are called from a table; a data condition they report is a findings note, a bug is
not swallowed (it used to read as "0 edges" with exit 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huntbook.errors import MappingError
from huntbook.hunts import findings, run_hunt
from huntbook.store.testing import make_store

from .conftest import RecordingSearch


@pytest.fixture
def store(tmp_path: Path) -> Any:
    return make_store(tmp_path / "store", [])


def _broken(exc: Exception) -> Any:
    def analytic(store: Any, needs: tuple[str, ...]) -> Any:
        raise exc

    return analytic


def test_a_bug_in_an_analytic_propagates(
    store: Any, fixture_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(findings.ANALYTICS, "lateral_movement", (_broken(ZeroDivisionError()), []))
    with pytest.raises(ZeroDivisionError):
        run_hunt(store, fixture_path("minimal"), search=RecordingSearch())


def test_a_reported_data_condition_is_a_note_and_the_rest_still_runs(
    store: Any, fixture_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = _broken(MappingError("methods.yaml: bad rule"))
    monkeypatch.setitem(findings.ANALYTICS, "powershell", (broken, []))
    result = run_hunt(store, fixture_path("minimal"), search=RecordingSearch())
    assert result.findings.errors == ["powershell: methods.yaml: bad rule"]
    assert result.findings.powershell == []
    assert result.findings.conclusion == "The hunt found no lateral movement."
    assert isinstance(result.findings.visibility, dict) and "needs" in result.findings.visibility


def test_the_table_names_functions_that_exist() -> None:
    """A rename in huntbook.analytics fails at import/call, not silently: every entry is callable
    and the findings hold exactly the table's keys plus the conclusion and errors."""
    assert all(callable(fn) for fn, _ in findings.ANALYTICS.values())
    assert set(findings.ANALYTICS) == {"lateral_movement", "powershell", "visibility"}
