"""Search macro definitions read from files: Splunk's ``macros.conf`` and ESCU's ``macros/*.yml``.

    load_macros(paths) -> MacroTable      (files or folders, later ones override earlier ones)

``macros.conf`` ([S-macros conf spec]): a ``[name]`` or ``[name(N)]`` stanza per macro with
``definition =``, ``args =`` (N comma-separated names) and ``iseval =``; a line ending in ``\\``
continues on the next; ``#`` starts a comment line. ESCU's YAML: ``name``, ``definition`` and an
optional ``arguments`` list. huntbook ships the Common Information Model app's utility macros
(``cim_macros.conf`` beside this module: ``drop_dm_object_name``), loaded under every other source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from huntbook.errors import MacroFileError
from huntbook.query.spl.macros import Macro, MacroTable, valid_arg_name

BUILTIN = Path(__file__).resolve().parent / "datamodels" / "cim_macros.conf"
STANZA = re.compile(r"^\[(?P<name>[^\]()]+?)\s*(?:\((?P<n>\d+)\))?\]\s*$")
SUFFIXES = {".conf": "conf", ".yml": "yaml", ".yaml": "yaml"}


def load_macros(paths: Iterable[str | Path], *, builtin: bool = True) -> MacroTable:
    """Definitions from each file or folder (its ``*.conf``, ``*.yml``, ``*.yaml``), in order.

    Raises:
        MacroFileError: a path is missing, unreadable or holds a malformed definition.
    """
    table = _file_table(BUILTIN, "huntbook's CIM macros") if builtin else MacroTable()
    for path in map(Path, paths):
        table = table.merged(_path_table(path))
    return table


def store_macros(store_path: Path | None) -> list[Path]:
    """The store's own ``macros/`` folder when it exists (like its ``lookups/`` folder)."""
    if store_path is None:
        return []
    folder = Path(store_path) / "macros"
    return [folder] if folder.is_dir() else []


def _path_table(path: Path) -> MacroTable:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        macros: dict[str, Macro] = {}
        for file in files:
            macros.update(_read(file))
        return MacroTable(macros, (str(path),))
    if not path.is_file():
        raise MacroFileError(f"macro definitions {path} not found")
    return _file_table(path, str(path))


def _file_table(path: Path, label: str) -> MacroTable:
    return MacroTable(_read(path), (label,))


def _read(path: Path) -> dict[str, Macro]:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise MacroFileError(f"{path}: macro files are .conf (macros.conf) or .yml (ESCU)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MacroFileError(f"cannot read macro definitions {path}: {exc}") from None
    macros = _conf_macros(text, path) if kind == "conf" else _yaml_macros(text, path)
    return {m.key: m for m in macros}


def _yaml_macros(text: str, path: Path) -> list[Macro]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MacroFileError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    docs = doc if isinstance(doc, list) else [doc]
    return [_yaml_macro(d, path) for d in docs]


def _yaml_macro(doc: Any, path: Path) -> Macro:
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise MacroFileError(f"{path}: a macro needs a `name` and a `definition`")
    definition = doc.get("definition")
    if not isinstance(definition, str):
        raise MacroFileError(f"{path}: macro {doc['name']!r} has no text `definition`")
    args = doc.get("arguments") or []
    if not isinstance(args, list):
        raise MacroFileError(f"{path}: macro {doc['name']!r}: `arguments` must be a list")
    return _macro(doc["name"], definition, [str(a) for a in args], None, str(path), False)


def _conf_macros(text: str, path: Path) -> list[Macro]:
    stanzas: list[tuple[str, int | None, dict[str, str]]] = []
    for number, line in _logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            match = STANZA.match(stripped)
            if match is None:
                raise MacroFileError(f"{path}:{number}: malformed stanza {stripped!r}")
            n = match.group("n")
            stanzas.append((match.group("name").strip(), int(n) if n else None, {}))
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not stanzas:
            raise MacroFileError(f"{path}:{number}: expected `key = value` inside a [stanza]")
        stanzas[-1][2][key.strip().lower()] = value.strip()
    return [_conf_macro(name, n, keys, path) for name, n, keys in stanzas if name != "default"]


def _conf_macro(name: str, n: int | None, keys: dict[str, str], path: Path) -> Macro:
    if "definition" not in keys:
        raise MacroFileError(f"{path}: macro [{name}] has no `definition`")
    args = [a.strip() for a in keys.get("args", "").split(",") if a.strip()]
    iseval = keys.get("iseval", "0").lower() in ("1", "true", "t", "yes")
    return _macro(name, keys["definition"], args, n, str(path), iseval)


def _macro(
    name: str, definition: str, args: list[str], n: int | None, origin: str, iseval: bool
) -> Macro:
    expected = len(args) if n is None else n
    if len(args) != expected:
        raise MacroFileError(
            f"{origin}: macro {name}({expected}) names {len(args)} argument(s) in `args`"
        )
    bad = [a for a in args if not valid_arg_name(a)]
    if bad:
        raise MacroFileError(f"{origin}: macro {name}: bad argument name {bad[0]!r}")
    return Macro(name.strip(), definition, tuple(args), origin, iseval)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``\\``-continuations joined (by a newline, as Splunk keeps them)."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        lines.append((start, "\n".join(pending)))
        pending = []
    if pending:
        lines.append((start, "\n".join(pending)))
    return lines
