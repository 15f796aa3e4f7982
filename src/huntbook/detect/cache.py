"""Converted rules on disk, keyed by the rule file's content and everything conversion depends
on (this format, huntbook's version, the log source mapping, the multivalue fields), so a second
run reads JSON instead of parsing and compiling Sigma again."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from sqlglot import serde

from huntbook import __version__
from huntbook.detect.mapping import Branch, load_mapping
from huntbook.detect.model import Rule
from huntbook.normalize.types import multivalue_fields

FORMAT = 1
_SAVED = (
    "id",
    "title",
    "level",
    "tags",
    "logsource",
    "status",
    "reason",
    "fields",
    "lowered",
    "ipv4",
    "ipv6",
    "name",
    "correlation",
)


def default_cache_dir() -> Path:
    """``$HUNTBOOK_CACHE/sigma``, else ``$XDG_CACHE_HOME/huntbook/sigma`` (``~/.cache``)."""
    base = os.environ.get("HUNTBOOK_CACHE")
    if base:
        return Path(base) / "sigma"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "huntbook" / "sigma"


def pipeline_version() -> str:
    """What a converted rule depends on besides its text (the converter's own code included)."""
    code = hashlib.sha256()
    for module in sorted(resources.files("huntbook.detect").iterdir(), key=lambda p: p.name):
        if module.name.endswith(".py"):
            code.update(module.read_bytes())
    lists = ",".join(sorted(multivalue_fields()))
    return f"{FORMAT}/{__version__}/{load_mapping().version}/{code.hexdigest()[:16]}/{lists}"


class RuleCache:
    """A folder of ``<sha256>.json`` files, one per converted rule file."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._version = pipeline_version()

    def _path(self, text: str) -> Path:
        key = hashlib.sha256(f"{self._version}\n{text}".encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.json"

    def sql(self, parts: Any, render: Callable[[], str]) -> str:
        """The SQL sqlglot renders for a group query, memoized under everything it depends on
        (``parts``: the rules' identities, the branches, the store's fields, the index)."""
        text = json.dumps([self._version, parts], sort_keys=True, default=str)
        key = hashlib.sha256(text.encode()).hexdigest()
        path = self.folder / "sql" / f"{key}.sql"
        with contextlib.suppress(OSError):
            return path.read_text(encoding="utf-8")
        rendered = render()
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(rendered, encoding="utf-8")
            partial.replace(path)
        return rendered

    def get(self, text: str) -> list[Rule] | None:
        """The rules converted from ``text`` before, or None."""
        try:
            saved = json.loads(self._path(text).read_text(encoding="utf-8"))
            return [_load(entry) for entry in saved]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: convert again

    def put(self, text: str, rules: list[Rule]) -> None:
        """Save the conversion; a cache that cannot be written only costs the next run time."""
        path = self._path(text)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps([_dump(r) for r in rules]), encoding="utf-8")
            partial.replace(path)


def _dump(rule: Rule) -> dict[str, Any]:
    entry = {k: getattr(rule, k) for k in _SAVED}
    entry["predicate"] = serde.dump(rule.predicate) if rule.predicate is not None else None
    entry["branches"] = [
        [b.source, list(b.codes), [list(f) for f in b.fields]] for b in rule.branches
    ]
    return entry


def _load(entry: dict[str, Any]) -> Rule:
    rule = Rule(path="", **{k: entry[k] for k in _SAVED})
    rule.pending = entry["predicate"]
    rule.branches = [
        Branch(s, tuple(c), tuple((a, b) for a, b in f)) for s, c, f in entry["branches"]
    ]
    return rule
