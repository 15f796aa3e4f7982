"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check answers, not speed: Hypothesis's per-example deadline (200 ms) fails them
# on a loaded CI machine for no fault of the code (speed is measured by bench/, not by tests).
settings.register_profile("huntbook", deadline=None)
settings.load_profile("huntbook")

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (real recorded attacks); skips the test when absent."""
    path = SHARED_DATA.resolve()
    if not path.is_dir():
        pytest.skip("../shared/data is absent")
    return path
