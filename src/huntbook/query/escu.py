"""Splunk ESCU detection files (security_content ``detections/**/*.yml``) as searches.

    load_detection(path) -> Detection

A detection's ``search:`` calls the content's macros (``macros/*.yml``) and lookups
(``lookups/*.csv`` named by ``lookups/*.yml``), found in the content folder that holds the
detection (the nearest parent with ``macros/`` and ``lookups/``). Every ESCU search ends with
``<detection name>_filter``, a macro ESCU's build defines as ``search *`` for users to tune:
huntbook defines it the same way unless the macros given define it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from huntbook.errors import MacroFileError
from huntbook.query.spl.macros import Macro, MacroTable

FILTER_DEFINITION = "search *"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Detection:
    """An ESCU detection: its search and where its macros and lookups live."""

    path: Path
    name: str
    search: str
    macro_dirs: tuple[Path, ...]
    lookup_dirs: tuple[Path, ...]

    @property
    def filter_macro(self) -> Macro:
        """``<name>_filter`` as ESCU's build writes it (``search *``)."""
        stem = self.name
        for ch in " -./":
            stem = stem.replace(ch, "_")
        return Macro(f"{stem.lower()}_filter", FILTER_DEFINITION, (), "ESCU's default filter")

    def macros(self, base: MacroTable) -> MacroTable:
        """``base`` plus the filter macro when ``base`` does not define it."""
        macro = self.filter_macro
        if macro.key in base.macros:
            return base
        return MacroTable({**base.macros, macro.key: macro}, base.searched)


def load_detection(path: str | os.PathLike[str]) -> Detection:
    """Read an ESCU detection YAML.

    Raises:
        MacroFileError: the file is unreadable, not YAML, or has no ``name`` and ``search``.
    """
    path = Path(path)
    try:
        doc: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MacroFileError(f"cannot read detection {path}: {exc.__class__.__name__}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("search"), str):
        raise MacroFileError(f"{path}: an ESCU detection needs a `search:` text")
    root = content_root(path)
    macro_dirs = (root / "macros",) if root else ()
    lookup_dirs = (root / "lookups",) if root else ()
    return Detection(
        path, str(doc.get("name") or path.stem), doc["search"], macro_dirs, lookup_dirs
    )


def content_root(path: Path) -> Path | None:
    """The nearest parent of ``path`` holding both ``macros/`` and ``lookups/``."""
    for parent in path.resolve().parents:
        if (parent / "macros").is_dir() and (parent / "lookups").is_dir():
            return parent
    return None


def lookup_definition(folder: Path, table: str) -> tuple[Path, list[str]] | None:
    """An ESCU lookup ``<folder>/<table>.yml`` naming its CSV (``filename:``), and warnings for
    the matching rules it asks for that huntbook's exact, case-sensitive lookup does not apply."""
    spec = folder / f"{table}.yml"
    if not spec.is_file():
        return None
    try:
        doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("filename"), str):
        return None
    csv = folder / doc["filename"]
    if not csv.is_file():
        return None
    warnings = [
        f"lookup {table}: {key} = {doc[key]} is not applied (huntbook matches exactly, "
        "case-sensitively)"
        for key in ("match_type", "case_sensitive_match")
        if key in doc and str(doc[key]).lower() not in ("true", "exact")
    ]
    return csv, warnings
