"""Search-time names (normalize/mappings/search.yaml): equivalent source/sourcetype names of the two
generations of Splunk's Windows add-on, and field aliases (Splunk's FIELDALIAS-).

Both are tables; this module only reads them and says what a clause or a field reference means.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from huntbook.errors import MappingError
from huntbook.normalize.types import load_mapping

# A clause's meaning: any of the conjunctions holds; a conjunction holds when each of its fields
# matches one of its values.
Conjunction = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class SearchNames:
    generations: tuple[str, ...]
    aliases: dict[str, str]  # alias -> field


@lru_cache(maxsize=1)
def search_names() -> SearchNames:
    """The table, checked (raises MappingError on a malformed one)."""
    data = load_mapping("search")
    generations, aliases = data.get("generations"), data.get("aliases")
    if not isinstance(generations, list) or not all(isinstance(g, str) for g in generations):
        raise MappingError("mappings/search.yaml: 'generations' must be a list of names")
    if not isinstance(aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        raise MappingError("mappings/search.yaml: 'aliases' must map alias names to field names")
    return SearchNames(tuple(generations), dict(aliases))


def equivalent_names(field: str, text: str) -> list[Conjunction] | None:
    """What ``field=text`` means across the add-on's generations; None when no rule applies."""
    if field not in ("source", "sourcetype"):
        return None
    generations = search_names().generations
    head, colon, rest = text.partition(":")
    if head.lower() not in {g.lower() for g in generations}:
        return None
    if not colon:
        return [((field, generations),)] if field == "sourcetype" else None
    named = tuple(f"{g}:{rest}" for g in generations)
    if field == "source":
        return [(("source", named),)]
    return [(("sourcetype", named),), (("sourcetype", generations), ("source", named))]


def field_aliases() -> dict[str, str]:
    return search_names().aliases


__all__ = ["Conjunction", "equivalent_names", "field_aliases"]
