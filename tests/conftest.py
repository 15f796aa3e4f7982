"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (real recorded attacks); skips the test when absent."""
    path = SHARED_DATA.resolve()
    if not path.is_dir():
        pytest.skip("../shared/data is absent")
    return path
