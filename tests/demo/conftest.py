"""Generated demo data shared by the demo tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from huntbook.demo import DEFAULT_EVENTS, DEFAULT_SEED, generate

from .replay import Event, load


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo dataset (seed and size of ``huntbook demo``)."""
    out = tmp_path_factory.mktemp("demo") / "logs"
    generate(out, events=DEFAULT_EVENTS, seed=DEFAULT_SEED)
    return out


@pytest.fixture(scope="session")
def demo_events(demo_dir: Path) -> list[Event]:
    """The default demo dataset parsed with Splunk's extraction rules (tests/demo/replay.py)."""
    return load(demo_dir)
