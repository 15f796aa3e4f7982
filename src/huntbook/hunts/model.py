"""The hunt document as data: a playbook in the seed's markdown format, as frozen dataclasses.

Every part keeps the 1-based line it came from, so lint messages, run errors and reports can point a
hunter back to the exact spot in the markdown they wrote (issue 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A ``## Heading`` of the playbook and the lines under it (until the next ``##``)."""

    name: str
    line: int
    body: tuple[tuple[int, str], ...] = ()

    @property
    def text(self) -> str:
        """The section's prose: body lines outside tables, joined and stripped."""
        kept = [text for _, text in self.body if not text.lstrip().startswith("|")]
        return "\n".join(kept).strip()


@dataclass(frozen=True)
class Technique:
    """A row of the ATT&CK table: ``Windows Management Instrumentation | [T1047](url)``."""

    name: str
    ids: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class DataNeed:
    """An item of "Data That is Needed" (e.g. ``Authentication Logs``)."""

    name: str
    line: int


@dataclass(frozen=True)
class Query:
    """A titled ```spl block. ``spl_line`` is the file line of the query's first line."""

    index: int
    title: str
    spl: str
    line: int
    spl_line: int
    language: str = "spl"
    group: str = ""


@dataclass(frozen=True)
class ResultRow:
    """A row of the playbook's own Results table; ``hits`` is None when blank or not a number."""

    search: str
    hits: int | None
    line: int


@dataclass(frozen=True)
class Playbook:
    """One hunt document. ``sections`` keeps every ``##`` section, known or not, in file order."""

    path: str
    title: str
    title_line: int
    sections: tuple[Section, ...]
    description: str = ""
    metadata: tuple[tuple[str, str], ...] = ()
    techniques: tuple[Technique, ...] = ()
    hypothesis: str = ""
    data_needed: tuple[DataNeed, ...] = ()
    queries: tuple[Query, ...] = ()
    results: tuple[ResultRow, ...] = ()
    conclusion: str = ""
    outputs: tuple[str, ...] = ()
    notes: str = ""
    references: tuple[str, ...] = ()
    name: str = field(default="")

    def section(self, name: str) -> Section | None:
        """The section whose canonical name is ``name`` (see ``loader.SECTION_NAMES``), or None."""
        return next((s for s in self.sections if s.name == name), None)

    @property
    def attack_ids(self) -> tuple[str, ...]:
        """Every ATT&CK id of the technique table, in order, without duplicates."""
        seen: dict[str, None] = {}
        for technique in self.techniques:
            seen.update(dict.fromkeys(technique.ids))
        return tuple(seen)
