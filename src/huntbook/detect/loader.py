"""Sigma files -> ``Rule``: from the cache when converted before, else converted (pySigma and
the converter are imported only then, so a run on cached rules starts fast)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from huntbook.detect.cache import RuleCache
from huntbook.detect.model import FAILED, Rule

SUFFIXES = (".yml", ".yaml")


def rule_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The Sigma files among ``paths`` (folders searched recursively), in a stable order."""
    found: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            found.extend(sorted(p for p in given.rglob("*") if p.suffix.lower() in SUFFIXES))
        else:
            found.append(given)
    return found


def load_rules(paths: Iterable[str | os.PathLike[str]], cache: RuleCache | None) -> list[Rule]:
    """Every rule of every file, converted (from ``cache`` when converted before)."""
    rules: list[Rule] = []
    for path in rule_files(paths):
        rules.extend(_file_rules(path, cache))
    return rules


def _file_rules(path: Path, cache: RuleCache | None) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Rule(str(path), "", path.stem, status=FAILED, reason=f"cannot read: {exc}")]
    rules = cache.get(text) if cache else None
    if rules is None:
        from huntbook.detect.convert import convert_text

        rules = convert_text(str(path), text)
        if cache:
            cache.put(text, rules)
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    for number, rule in enumerate(rules):
        rule.path, rule.key = str(path), f"{digest}#{number}"
    return rules
