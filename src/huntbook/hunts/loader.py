"""Read a hunt document in the seed's markdown format into a ``Playbook``.

The format is the one of ../shared/seed/wmi-lateral-movement-hunt.md, read as it is written by hand:
``# Title``, then ``##`` sections (Description with a metadata table and an ATT&CK table,
Hypothesis, Data That is Needed, Queries with titled ```spl blocks, Results, Conclusion,
Outputs and Follow-up Tasks, Notes, References). A query's title is the last text line before
its fence. Problems go to a ``Collector`` so lint can list all of them and a run can refuse a
broken document.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from huntbook.errors import PlaybookError
from huntbook.hunts.model import DataNeed, Playbook, Query, ResultRow, Section, Technique
from huntbook.hunts.problems import Collector, ErrorLevel

# Heading text (lower-cased, spaces collapsed) -> canonical section name.
SECTION_NAMES: dict[str, str] = {
    "description": "description",
    "hypothesis": "hypothesis",
    "data that is needed": "data_needed",
    "data needed": "data_needed",
    "queries": "queries",
    "results": "results",
    "conclusion": "conclusion",
    "outputs and follow-up tasks": "outputs",
    "follow-up tasks": "outputs",
    "notes": "notes",
    "references": "references",
}
REQUIRED_SECTIONS = ("description", "hypothesis", "data_needed", "queries")
RECOMMENDED_SECTIONS = ("results", "conclusion", "outputs", "notes", "references")
HEADINGS = {
    "description": "Description",
    "hypothesis": "Hypothesis",
    "data_needed": "Data That is Needed",
    "queries": "Queries",
    "results": "Results",
    "conclusion": "Conclusion",
    "outputs": "Outputs and Follow-up Tasks",
    "notes": "Notes",
    "references": "References",
}
QUERY_LANGUAGES = {"spl": "spl", "splunk": "spl"}

_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*\S)\s*$")
_ATTACK_ID = re.compile(r"\bT\d{4}(?:\.\d{3})?\b(?!/)")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")

Lines = tuple[tuple[int, str], ...]


def load_playbook(
    path: str | os.PathLike[str], *, error_level: ErrorLevel = ErrorLevel.RAISE
) -> Playbook:
    """Read and parse a playbook file.

    Args:
        path: the markdown file.
        error_level: RAISE (default) raises ``PlaybookError`` listing every error; WARN and IGNORE
            return what could be read.

    Raises:
        PlaybookError: the file is unreadable, or (RAISE/IMMEDIATE) the document has errors.
    """
    playbook, collector = parse_file(path, error_level)
    collector.check()
    return playbook


def parse_file(path: str | os.PathLike[str], error_level: ErrorLevel) -> tuple[Playbook, Collector]:
    """Parse a file and return the playbook together with the problems found (not yet checked)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"cannot read playbook {path}: {exc}") from exc
    collector = Collector(str(path), error_level)
    return parse_text(text, collector, path=str(path)), collector


def parse_text(text: str, collector: Collector, *, path: str = "") -> Playbook:
    """Parse playbook markdown; every problem goes to ``collector``."""
    lines = tuple(enumerate(text.splitlines(), start=1))
    title, title_line = _title(lines, collector)
    sections = _sections(lines, collector)
    by_name = {s.name: s for s in sections}
    _check_sections(by_name, collector)
    description = by_name.get("description", Section("description", 0))
    tables = list(_tables(description.body, collector))
    return Playbook(
        path=path,
        name=Path(path).stem if path else "",
        title=title,
        title_line=title_line,
        sections=sections,
        description=description.text,
        metadata=_metadata(tables),
        techniques=_techniques(tables),
        hypothesis=_text(by_name, "hypothesis"),
        data_needed=tuple(DataNeed(t, n) for n, t in _bullets(by_name, "data_needed")),
        queries=_queries(by_name.get("queries"), collector),
        results=_results(by_name.get("results"), collector),
        conclusion=_text(by_name, "conclusion"),
        outputs=tuple(t for _, t in _bullets(by_name, "outputs")),
        notes=_text(by_name, "notes"),
        references=tuple(t.strip("<>") for _, t in _bullets(by_name, "references")),
    )


def _title(lines: Lines, collector: Collector) -> tuple[str, int]:
    for number, text in _outside_fences(lines):
        if text.startswith("# "):
            return text[2:].strip(), number
        if text.startswith("## "):
            break
    collector.error(1, "missing-title", "the document has no '# Title' line before its sections")
    return "", 0


def _outside_fences(lines: Lines) -> Iterator[tuple[int, str]]:
    """Lines that are not inside a fenced code block (a '#' in a query is not a heading)."""
    fence: str | None = None
    for number, text in lines:
        match = _FENCE.match(text)
        if match and (fence is None or match.group(1)[:3] == fence):
            fence = match.group(1)[:3] if fence is None else None
            continue
        if fence is None:
            yield number, text


def _sections(lines: Lines, collector: Collector) -> tuple[Section, ...]:
    heads = [(n, t[3:].strip()) for n, t in _outside_fences(lines) if t.startswith("## ")]
    sections = []
    for i, (number, heading) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(lines) + 1
        body = tuple((n, t) for n, t in lines if number < n < end)
        key = SECTION_NAMES.get(" ".join(heading.lower().split()))
        if key is None:
            collector.warning(number, "unknown-section", f"unknown section '## {heading}'")
            key = heading
        sections.append(Section(key, number, body))
    return tuple(sections)


def _check_sections(by_name: dict[str, Section], collector: Collector) -> None:
    for name in REQUIRED_SECTIONS:
        if name not in by_name:
            collector.error(1, "missing-section", f"missing section '## {HEADINGS[name]}'")
        elif not by_name[name].text and name != "queries":
            collector.error(
                by_name[name].line, "empty-section", f"section '{HEADINGS[name]}' is empty"
            )
    for name in RECOMMENDED_SECTIONS:
        if name not in by_name:
            collector.warning(1, "missing-section", f"missing section '## {HEADINGS[name]}'")


def _text(by_name: dict[str, Section], name: str) -> str:
    section = by_name.get(name)
    return section.text if section else ""


def _bullets(by_name: dict[str, Section], name: str) -> list[tuple[int, str]]:
    section = by_name.get(name)
    if section is None:
        return []
    return [(n, m.group(1)) for n, t in section.body if (m := _BULLET.match(t))]


def _tables(
    body: Lines, collector: Collector
) -> Iterator[tuple[list[str], list[tuple[int, list[str]]]]]:
    """Yield (header cells, [(line, cells)]) for each markdown table in ``body``."""
    block: list[tuple[int, str]] = []
    for number, text in (*body, (0, "")):
        if text.lstrip().startswith("|"):
            block.append((number, text))
            continue
        if block:
            yield _table(block, collector)
            block = []


def _table(
    block: list[tuple[int, str]], collector: Collector
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header = _cells(block[0][1])
    if len(block) < 2 or not _TABLE_SEPARATOR.match(block[1][1]):
        collector.warning(block[0][0], "table", "table without a '|---|' separator line")
        return header, [(n, _cells(t)) for n, t in block[1:]]
    return header, [(n, _cells(t)) for n, t in block[2:]]


def _cells(text: str) -> list[str]:
    return [c.strip() for c in text.strip().strip("|").split("|")]


def _metadata(
    tables: list[tuple[list[str], list[tuple[int, list[str]]]]],
) -> tuple[tuple[str, str], ...]:
    rows: list[tuple[str, str]] = []
    for header, body in tables:
        if not _is_attack(header):
            rows.extend((cells[0], cells[1] if len(cells) > 1 else "") for _, cells in body)
    return tuple(rows)


def _techniques(
    tables: list[tuple[list[str], list[tuple[int, list[str]]]]],
) -> tuple[Technique, ...]:
    found = []
    for header, body in tables:
        if _is_attack(header):
            for number, cells in body:
                ids = tuple(dict.fromkeys(_ATTACK_ID.findall(" ".join(cells[1:]) or cells[0])))
                found.append(Technique(cells[0], ids, number))
    return tuple(found)


def _is_attack(header: list[str]) -> bool:
    joined = " ".join(header).lower()
    return "att&ck" in joined or "technique" in joined


def _queries(section: Section | None, collector: Collector) -> tuple[Query, ...]:
    if section is None:
        return ()
    queries: list[Query] = []
    pending: tuple[int, str] | None = None
    group = ""
    body = iter(section.body)
    for number, text in body:
        fence = _FENCE.match(text)
        if fence:
            block = _read_block(number, fence.group(1)[:3], body, collector)
            query = _query(
                len(queries), fence.group(2).lower(), pending, group, number, block, collector
            )
            if query is not None:
                queries.append(query)
            pending = None
        elif text.startswith("#"):
            group, pending = text.lstrip("#").strip(), None
        elif text.strip() and not text.lstrip().startswith("|"):
            pending = (number, text.strip())
    if not queries:
        collector.error(section.line, "no-queries", "section 'Queries' has no ```spl block")
    return tuple(queries)


def _read_block(
    start: int, fence: str, body: Iterator[tuple[int, str]], collector: Collector
) -> list[tuple[int, str]]:
    block: list[tuple[int, str]] = []
    for number, text in body:
        if text.strip().startswith(fence):
            return block
        block.append((number, text))
    collector.error(start, "unterminated-fence", "code block is never closed (missing ```)")
    return block


def _query(
    index: int,
    language: str,
    title: tuple[int, str] | None,
    group: str,
    fence_line: int,
    block: list[tuple[int, str]],
    collector: Collector,
) -> Query | None:
    if language not in QUERY_LANGUAGES:
        collector.warning(fence_line, "not-spl", f"code block '{language or '(none)'}' is not SPL")
        return None
    spl = "\n".join(t.rstrip() for _, t in block).strip("\n")
    if not spl.strip():
        collector.error(fence_line, "empty-query", "empty query block")
    if title is None:
        collector.error(
            fence_line, "untitled-query", "query has no title line before its ```spl fence"
        )
    first = next((n for n, t in block if t.strip()), fence_line + 1)
    name = title[1] if title else f"Query {index + 1}"
    return Query(
        index, name, spl, title[0] if title else fence_line, first, QUERY_LANGUAGES[language], group
    )


def _results(section: Section | None, collector: Collector) -> tuple[ResultRow, ...]:
    if section is None:
        return ()
    rows = []
    for _, body in _tables(section.body, collector):
        for number, cells in body:
            hits = cells[1] if len(cells) > 1 else ""
            value = int(hits.replace(",", "")) if hits.replace(",", "").isdigit() else None
            if hits and value is None:
                collector.warning(number, "results-hits", f"hits '{hits}' is not a whole number")
            rows.append(ResultRow(cells[0], value, number))
    return tuple(rows)
