"""pyproject.toml's package-data globs each ship at least one file (a glob matching nothing is a
typo or a leftover)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_data_glob_matches_a_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["huntbook"]
    package = ROOT / "src" / "huntbook"
    assert [g for g in globs if not any(package.glob(g))] == []
