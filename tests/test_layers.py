"""The one-way imports docs/architecture.md promises, checked on the source (no import is run).

Each package of ``huntbook`` may import only the packages its row of ``ALLOWED`` names (and itself);
``TYPE_CHECKING``-only imports count too, since they are the contracts between stages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "huntbook"

#: package -> the huntbook packages it may import (besides itself). ``huntbook`` is the top module.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "ingest": {"errors", "normalize", "store"},
    "normalize": {"errors"},
    "store": {"errors", "normalize"},
    "engines": {"errors", "normalize", "store"},  # below query: results and the run live here
    "query": {"errors", "engines", "normalize", "store"},
    "analytics": {"errors"},
    "hunts": {"huntbook", "errors", "normalize", "query", "analytics", "store"},
    "detect": {"huntbook", "errors", "engines", "query", "store", "normalize"},
    "demo": {"errors", "hunts", "store", "workspace"},
    "workspace": {"errors", "store", "query", "hunts", "engines", "ingest", "detect"},
    "web": {"huntbook", "errors", "workspace"},
    "cli": {"huntbook", "errors", "workspace", "demo", "web"},
    "__init__": {"errors", "workspace"},
    "__main__": {"cli"},
}


#: modules outside its row a package may still import: result documents, their formatters and
#: constants (types and pure functions, no action: every action goes through ``Workspace``).
READ_ONLY: dict[str, set[str]] = {
    "cli": {
        "huntbook.engines.base",
        "huntbook.engines.result",
        "huntbook.hunts.render.common",
        "huntbook.hunts.result",
        "huntbook.ingest.base",
        "huntbook.ingest.summary",
        "huntbook.detect.model",
        "huntbook.detect.report",
    },
    "web": {"huntbook.engines.result", "huntbook.query.explore", "huntbook.detect.model"},
}


def _package(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imports(path: Path) -> Iterator[tuple[int, str, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "huntbook":
                yield node.lineno, parts[1] if len(parts) > 1 else "huntbook", name


def test_every_package_has_a_row() -> None:
    packages = {_package(p) for p in SRC.rglob("*.py")}
    assert packages <= set(ALLOWED), f"add a row to ALLOWED for {packages - set(ALLOWED)}"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_layers(package: str) -> None:
    broken = [
        f"{path.relative_to(SRC)}:{line} imports huntbook.{target}"
        for path in sorted(SRC.rglob("*.py"))
        if _package(path) == package
        for line, target, module in _imports(path)
        if target != package
        and target not in ALLOWED[package]
        and module not in READ_ONLY.get(package, set())
    ]
    assert not broken, "\n".join(broken)
