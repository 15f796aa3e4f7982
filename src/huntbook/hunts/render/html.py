"""report.html: one self-contained page (inline CSS and SVG, no script, no external asset).

Same sections as report.md, plus the host graph and the evidence timeline drawn as inline SVG.
Every value from the data is HTML-escaped: event fields are attacker-controlled text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from huntbook.hunts.render import common, svg
from huntbook.hunts.result import HuntResult, PlaybookDoc, QueryOutcome

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;color:#1b1b1b;padding:0 1em}
h1{border-bottom:3px solid #1a4fa0;padding-bottom:.3em}h2{margin-top:1.8em;color:#0b2a5b}
table{border-collapse:collapse;margin:.8em 0;font-size:14px}th,td{border:1px solid #ccc;
padding:4px 8px;text-align:left;vertical-align:top;max-width:460px;min-width:5ch;
overflow-wrap:anywhere}
th{background:#eef2f8}
tr.no_data td{background:#fff4e5}tr.error td{background:#fde8e8}tr.unfilled td{background:#f3f3f3}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:13px;white-space:pre-wrap}
.meta{color:#555;font-size:13px}.conclusion{background:#f1f7ee;border-left:4px solid #2e7d32;
padding:.6em 1em}details{margin:.4em 0}code{font-size:13px}
"""


def render_html(result: HuntResult) -> str:
    """The whole report as one HTML document."""
    book = result.playbook
    body = [
        f"<h1>{escape(book.title)}</h1>",
        _provenance(result),
        _section("At a Glance", _glance(result)),
        _section("Description", _p(book.description) + _attack(book)),
        _section("Hypothesis", _p(book.hypothesis)),
        _section("Data That is Needed", _ul(book.data_needed) + _visibility(result)),
        _section("Results", _results(result)),
        _section("Lateral Movement", _edges(result)),
        _section("Timeline", svg.timeline(common.timeline_points(result))),
        _section("Encoded PowerShell", _generic(result.findings.powershell)),
        _section("Conclusion", f'<div class="conclusion">{_p(common.conclusion(result))}</div>'),
        _section("Outputs and Follow-up Tasks", _ul(common.outputs(result))),
        _section("Queries", "".join(_query(q) for q in result.queries)),
        _section("Notes", _p(book.notes)),
        _section("References", _ul(book.references)),
        _section("Inputs", _inputs(result) + _ul(common.problem_lines(result))),
    ]
    title = escape(book.title)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = []
    for i, row in enumerate(rows):
        css = f' class="{escape(classes[i])}"' if i < len(classes) and classes[i] else ""
        lines.append(
            f"<tr{css}>"
            + "".join(f"<td>{escape(common.value_text(v))}</td>" for v in row)
            + "</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _section(title: str, html: str) -> str:
    return f"<section><h2>{escape(title)}</h2>\n{html}</section>" if html else ""


def _p(text: str) -> str:
    return "".join(
        f"<p>{escape(block).replace(chr(10), '<br>')}</p>"
        for block in text.split("\n\n")
        if block.strip()
    )


def _ul(items: Iterable[Any]) -> str:
    lis = "".join(f"<li>{escape(str(i))}</li>" for i in items)
    return f"<ul>{lis}</ul>" if lis else ""


def _provenance(result: HuntResult) -> str:
    meta = common.run_metadata(result)
    meta["Executed"] = result.run_time
    meta["huntbook"] = result.huntbook_version
    return table(["Field", "Description"], meta.items())


def _attack(book: PlaybookDoc) -> str:
    return table(
        ["MITRE ATT&CK Technique", "IDs"],
        ([t.name, ", ".join(t.ids)] for t in book.techniques),
    )


def _visibility(result: HuntResult) -> str:
    rows = common.visibility_rows(result)
    if not rows:
        return ""
    columns = common.columns_of(rows, ("host", "need", "status", "present", "absent", "sources"))
    detail = table(columns, ([r.get(c) for c in columns] for r in rows))
    return (
        "<h3>Visibility per host</h3>"
        + _visibility_matrix(rows)
        + f"<details><summary>Events behind each verdict</summary>{detail}</details>"
    )


def _visibility_matrix(rows: list[dict[str, Any]]) -> str:
    """Hosts down, data needs across, the verdict in each cell: gaps stand out at a glance."""
    needs = list(dict.fromkeys(str(r.get("need")) for r in rows))
    verdict = {(r.get("host"), str(r.get("need"))): r.get("status") for r in rows}
    hosts = list(dict.fromkeys(r.get("host") for r in rows))
    return table(["host", *needs], ([h, *(verdict.get((h, n), "") for n in needs)] for h in hosts))


def _glance(result: HuntResult) -> str:
    """This hunt's answer and the host-to-host graph first: what a reader opens the report for
    (edges of other techniques drawn muted)."""
    summary = _p(common.glance(result))
    return f'<div class="conclusion">{summary}</div>' + svg.graph(
        result.edges, common.hunt_edges(result)
    )


def _results(result: HuntResult) -> str:
    expected = {
        r.query_index: r.expected_hits for r in result.results_table if r.query_index is not None
    }
    override = common.index_override_text(result.index_override)
    html = f"<p><strong>{escape(override)}</strong></p>" if override else ""
    html += table(
        ["Search", "Hits", "Playbook's hits", "Notes"],
        (
            [q.title, common.hits_text(q), expected.get(q.index, ""), common.query_note(q)]
            for q in result.queries
        ),
        [q.status for q in result.queries],
    )
    html += '<p class="meta">Hits of a templated query are the sum over its runs.</p>'
    if result.results_table:
        html += "<h3>Playbook Results rows mapped to queries</h3>" + table(
            ["Playbook row", "Line", "Query", "Match", "Expected", "Observed"],
            (
                [
                    r.search,
                    r.line,
                    r.query_title or "(none)",
                    r.match,
                    r.expected_hits,
                    r.observed_hits,
                ]
                for r in result.results_table
            ),
        )
    return html


def _edges(result: HuntResult) -> str:
    edges = result.edges
    if not edges:
        return ""
    html = table(common.EDGE_HEADERS, common.edge_rows(edges))
    for e in edges:
        items = common.evidence_items(e)
        lines = "".join(
            f"<li>{escape(common.fmt_time(common.evidence_time(i)))} "
            f"{escape(common.evidence_text(i))}</li>"
            for i in items
        )
        html += (
            f"<details><summary>Evidence {escape(str(e.get('source')))} → "
            f"{escape(str(e.get('destination')))} ({len(items)} events)</summary>"
            f"<ul>{lines}</ul></details>"
        )
    return html


def _generic(items: list[Any]) -> str:
    columns, rows = common.finding_table(items)
    if not rows:
        return "<p>None found.</p>"
    folded = "".join(
        f'<details class="script"><summary>{escape(title)}</summary>'
        f"<pre><code>{escape(script)}</code></pre></details>"
        for title, script in common.scripts(items)
    )
    return table(columns, rows) + folded


def _query(q: QueryOutcome) -> str:
    html = f"<h3>{q.index + 1}. {escape(q.title)}</h3><pre><code>{escape(q.spl)}</code></pre>"
    note = escape(common.query_note(q))
    html += f'<p class="meta">Hits: {escape(common.hits_text(q))}, {q.elapsed:.3f} s. {note}</p>'
    if q.runs:
        html += table(
            ["Values", "Hits", "Error"],
            (
                [", ".join(f"{k}={v}" for k, v in r.values.items()), r.hits, r.error or ""]
                for r in q.runs
            ),
        )
    if q.sql:
        html += f"<details><summary>Compiled SQL</summary><pre>{escape(q.sql)}</pre></details>"
    if q.sample:
        columns = q.columns or common.columns_of(q.sample)
        html += (
            f"<details open><summary>Sample rows ({len(q.sample)})</summary>"
            + table(columns, ([r.get(c) for c in columns] for r in q.sample))
            + "</details>"
        )
    return html


def _inputs(result: HuntResult) -> str:
    return table(
        ["Input", "sha256", "Events", "Index"],
        ([i.path, i.sha256, i.events, i.index] for i in result.store.inputs),
    )
