"""Fixtures of the hunts tests: playbook paths, the seed, and a recording search function."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "playbooks"
SEED = ROOT / ".." / "shared" / "seed" / "wmi-lateral-movement-hunt.md"
SHIPPED_SEED = ROOT / "src" / "huntbook" / "playbooks" / "wmi-lateral-movement.md"


@pytest.fixture
def seed_path() -> Path:
    """The seed as the founders wrote it, else the package's verbatim copy of it."""
    return SEED.resolve() if SEED.is_file() else SHIPPED_SEED


@pytest.fixture
def fixture_path() -> Callable[[str], Path]:
    return lambda name: FIXTURES / f"{name}.md"


@dataclass
class FakeResult:
    columns: list[str]
    data: list[dict[str, Any]]
    sql: str = "SELECT 1"
    elapsed: float = 0.001

    def __len__(self) -> int:
        return len(self.data)

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        return list(self.data[:limit])


@dataclass
class RecordingSearch:
    """Stands in for ``run_spl`` where the engine is not the subject: answers by substring."""

    answers: list[tuple[str, list[dict[str, Any]] | Exception]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    pipelines: list[Any] = field(default_factory=list)

    def __call__(self, store: Any, spl: str, *, keep: int = 0, pipeline: Any = None) -> FakeResult:
        self.seen.append(spl)
        self.pipelines.append(pipeline)
        for needle, answer in self.answers:
            if needle in spl:
                if isinstance(answer, Exception):
                    raise answer
                columns = list(dict.fromkeys(k for row in answer for k in row))
                return FakeResult(columns, answer)
        return FakeResult([], [])


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("headless chromium is not installed")
    return path
