"""report.md: the seed's own structure, with the Results table filled from the run.

The hunt's answer comes first (At a Glance, as in report.html), then the seed's sections in the
seed's order (Description, Hypothesis, Data That is Needed, Queries, Results, Conclusion, Outputs
and Follow-up Tasks, Notes, References); the run adds Findings, Visibility and a Run section with
provenance (version, inputs and their sha256, data time range) and evidence.

Event fields are attacker-controlled text (a host name or a command line can hold ``<script>``):
every value that comes from the data or the run goes through ``inline`` (table cells through
``_cell``), so no raw HTML tag, link or image reaches a Markdown viewer. Only the playbook's own
prose (written by the hunter) and links huntbook composes itself (``Md``) pass as Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from huntbook.hunts.render import common
from huntbook.hunts.result import HuntResult


def render_markdown(result: HuntResult) -> str:
    """The whole report as Markdown text."""
    parts = [
        f"# {result.playbook.title}\n",
        _section("At a Glance", inline(common.glance(result))),
        _header(result),
        _hypothesis(result),
        _data_needed(result),
        _queries(result),
        _results(result),
        _findings(result),
        _section("Conclusion", inline(common.conclusion(result))),
        _outputs(result),
        _section("Notes", result.playbook.notes),
        _bullets("References", [f"<{r}>" for r in result.playbook.references]),
        _run(result),
    ]
    return "\n".join(p for p in parts if p).rstrip() + "\n"


class Md(str):
    """Markdown huntbook composed itself (an ATT&CK link): a table cell keeps it as it is."""


INLINE_ESCAPES = str.maketrans(
    {
        "<": "&lt;",
        ">": "&gt;",
        "[": "\\[",
        "]": "\\]",
        "`": "\\`",
        "\r": " ",
        "\n": " ",
    }
)
BACKTICKS = re.compile(r"`+")
ENTITY = re.compile(
    r"&(?=#?[0-9A-Za-z]+;)"
)  # an ``&`` a viewer would read as a character reference


def inline(value: Any) -> str:
    """A value from the data as inline Markdown text: no raw HTML (``<``, ``>`` and an ``&`` that
    starts a character reference as entities), no link or image (``[``, ``]`` escaped), no code
    span, no line break."""
    return ENTITY.sub("&amp;", str(value)).translate(INLINE_ESCAPES)


def fenced(text: str, language: str) -> str:
    """A fenced code block that ``text`` cannot close (the fence outgrows its backtick runs)."""
    longest = max((len(m) for m in BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}\n"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; every cell, header included, is escaped (``_cell``)."""
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    """One table cell: ``inline`` text, and ``|`` cannot end the cell."""
    text = value if isinstance(value, Md) else inline(common.value_text(value))
    return text.replace("|", "\\|")


def _section(title: str, body: str) -> str:
    return f"## {title}\n\n{body.strip()}\n" if body.strip() else ""


def _bullets(title: str, items: Sequence[str]) -> str:
    return _section(title, "\n".join(f"- {i}" for i in items)) if items else ""


def _header(result: HuntResult) -> str:
    book = result.playbook
    meta = common.run_metadata(result)
    attack = table(
        ["MITRE ATT&CK Technique", "IDs"],
        (
            [
                t.name,
                Md(
                    ", ".join(
                        f"[{i}](https://attack.mitre.org/techniques/{i.replace('.', '/')})"
                        for i in t.ids
                    )
                ),
            ]
            for t in book.techniques
        ),
    )
    meta_table = table(["Field", "Description"], meta.items())
    body = f"{book.description}\n\n{meta_table}\n{attack}"
    return _section("Description", body)


def _hypothesis(result: HuntResult) -> str:
    return _section("Hypothesis", result.playbook.hypothesis)


def _data_needed(result: HuntResult) -> str:
    needs = result.playbook.data_needed
    rows = common.visibility_rows(result)
    body = "\n".join(f"- {n}" for n in needs)
    if rows:
        columns = common.columns_of(
            rows, ("host", "need", "status", "present", "absent", "sources")
        )
        body += "\n\n### Visibility\n\n" + table(
            columns, ([r.get(c) for c in columns] for r in rows)
        )
    return _section("Data That is Needed", body)


def _queries(result: HuntResult) -> str:
    blocks = []
    for q in result.queries:
        blocks.append(f"{q.title}\n\n{fenced(q.spl, 'spl')}")
    return _section("Queries", "### Splunk\n\n" + "\n".join(blocks))


def _results(result: HuntResult) -> str:
    expected = {r.query_index: r for r in result.results_table if r.query_index is not None}
    rows = []
    for q in result.queries:
        row = expected.get(q.index)
        rows.append(
            [q.title, common.hits_text(q), row.expected_hits if row else "", common.query_note(q)]
        )
    override = common.index_override_text(result.index_override)
    body = (f"**{inline(override)}**\n\n" if override else "") + table(
        ["Search", "Hits", "Playbook's hits", "Notes"], rows
    )
    body += "\nHits of a templated query are the sum over its runs (one run per pivot value set).\n"
    if result.results_table:
        body += "\nHow the playbook's Results rows map to its queries:\n\n" + table(
            ["Playbook row (line)", "Query", "Match", "Expected", "Observed"],
            (
                [
                    f"{r.search} ({r.line})",
                    r.query_title or "(none)",
                    r.match,
                    r.expected_hits,
                    r.observed_hits,
                ]
                for r in result.results_table
            ),
        )
    return _section("Results", body)


def _findings(result: HuntResult) -> str:
    edges = result.edges
    body = "### Lateral Movement\n\n"
    if edges:
        body += table(common.EDGE_HEADERS, common.edge_rows(edges))
    else:
        body += "No lateral-movement edges were found.\n"
    body += "\n### Encoded PowerShell\n\n" + _generic(result.findings.powershell)
    errors = result.findings.errors
    if errors:
        body += "\n### Analytics errors\n\n" + "\n".join(f"- {inline(e)}" for e in errors) + "\n"
    return _section("Findings", body)


def _generic(items: list[Any]) -> str:
    columns, rows = common.finding_table(items)
    if not rows:
        return "None found.\n"
    folded = "".join(
        f"\n<details><summary>{inline(title)}</summary>\n\n"
        f"{fenced(script, 'powershell')}\n</details>\n"
        for title, script in common.scripts(items)
    )
    return table(columns, rows) + folded


def _outputs(result: HuntResult) -> str:
    """The playbook's follow-ups as written, then what this run found (escaped: host names)."""
    items = list(result.playbook.outputs)
    items += [inline(i) for i in common.run_outputs(result)]
    return _bullets("Outputs and Follow-up Tasks", items)


def _run(result: HuntResult) -> str:
    span = result.time_range
    lines = [
        f"- huntbook {result.huntbook_version}, run at {result.run_time}",
        f"- Store: {inline(result.store.path)}; "
        f"data from {common.fmt_time(span.earliest)} to "
        f"{common.fmt_time(span.latest)} UTC ({span.events} events)",
    ]
    if result.index_override:
        lines.append(f"- {inline(common.index_override_text(result.index_override))}")
    lines += [f"- Playbook warning, {inline(text)}" for text in common.problem_lines(result)]
    if result.params:
        values = ", ".join(f"{k}={v}" for k, v in result.params.items())
        lines.append(f"- Parameters: {inline(values)}")
    body = (
        "\n".join(lines)
        + "\n\n"
        + table(
            ["Input", "sha256", "Events", "Index"],
            ([i.path, i.sha256, i.events, i.index] for i in result.store.inputs),
        )
    )
    return _section("Run", body + "\n" + "\n".join(_evidence(q) for q in result.queries))


def _evidence(q: Any) -> str:
    text = f"### {q.index + 1}. {q.title}\n\nHits: {common.hits_text(q)}, {q.elapsed:.3f} s. "
    text += inline(common.query_note(q)) + "\n"
    if q.runs:
        text += "\n" + table(
            ["Values", "Hits", "Error"],
            (
                [", ".join(f"{k}={v}" for k, v in r.values.items()), r.hits, r.error or ""]
                for r in q.runs
            ),
        )
    if q.sql:
        text += (
            f"\n<details><summary>Compiled SQL</summary>\n\n{fenced(q.sql, 'sql')}\n</details>\n"
        )
    if q.sample:
        columns = q.columns or common.columns_of(q.sample)
        text += f"\nSample ({len(q.sample)} rows):\n\n" + table(
            columns, ([r.get(c) for c in columns] for r in q.sample)
        )
    return text
