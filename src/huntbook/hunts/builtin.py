"""The playbooks shipped inside the package (src/huntbook/playbooks/*.md), found by name."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from huntbook.errors import PlaybookError, did_you_mean


@dataclass(frozen=True)
class BuiltinPlaybook:
    """A shipped playbook: its name (file stem), title and ATT&CK ids."""

    name: str
    title: str
    attack_ids: tuple[str, ...]
    path: Path


def playbook_dir() -> Path:
    return Path(str(resources.files("huntbook") / "playbooks"))


def names() -> list[str]:
    """Names of the shipped playbooks, sorted."""
    return sorted(p.stem for p in playbook_dir().glob("*.md"))


def list_builtin() -> list[BuiltinPlaybook]:
    """Every shipped playbook with its title and techniques (loaded, so a broken one fails here)."""
    return [describe(playbook_dir() / f"{name}.md") for name in names()]


def describe(path: Path) -> BuiltinPlaybook:
    """A playbook file's name (its stem), title and techniques (PlaybookError when broken)."""
    from huntbook.hunts.loader import load_playbook

    book = load_playbook(path)
    return BuiltinPlaybook(path.stem, book.title, book.attack_ids, Path(book.path))


def resolve(playbook: str | os.PathLike[str]) -> Path:
    """A playbook argument as a file: an existing path, else a built-in name.

    Raises:
        PlaybookError: neither a file nor a built-in name (with a did-you-mean).
    """
    path = Path(playbook)
    if path.is_file():
        return path
    candidate = playbook_dir() / f"{path.stem if path.suffix == '.md' else path.name}.md"
    if candidate.is_file():
        return candidate
    hint = did_you_mean(str(playbook), names())
    raise PlaybookError(f"no playbook file or built-in playbook named {str(playbook)!r}.{hint}")
