"""``--out`` files: detections.jsonl (one line per hit), summary.json (one entry per rule) and
report.html (hits by host and over time, ATT&CK coverage, the rules that did not run and why)."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from huntbook.detect.model import RAN, DetectResult
from huntbook.engines.result import iso_time

STYLE = (
    "body{font-family:sans-serif}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 6px}"
)


def detection_records(result: DetectResult) -> Iterator[dict[str, Any]]:
    """The hits as ``detections.jsonl`` records, ``_time`` in ISO-8601 UTC, one at a time."""
    return ({**r, "_time": iso_time(r.get("_time"))} for r in (h.record() for h in result.hits))


def summary(result: DetectResult) -> dict[str, Any]:
    return {
        "rules": len(result.rules),
        "counts": result.counts(),
        "hits": len(result.hits),
        "seconds": round(result.seconds, 3),
        "results": [r.summary() for r in result.rules],
    }


def write_reports(result: DetectResult, out: Path) -> None:
    """Write the three files into ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "detections.jsonl").open("w", encoding="utf-8") as handle:
        for record in detection_records(result):
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    (out / "summary.json").write_text(json.dumps(summary(result), indent=1), encoding="utf-8")
    (out / "report.html").write_text(render_html(result), encoding="utf-8")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(result: DetectResult) -> str:
    """A self-contained page: counts, hits by host, by day, by rule, ATT&CK tags, non-run rules."""
    counts = result.counts()
    hosts: Counter[str] = Counter()
    days: Counter[str] = Counter()
    by_rule: Counter[tuple[str, str]] = Counter()
    for hit in result.hits:  # one pass over the spooled hits
        hosts[str(hit.event.get("host"))] += 1
        days[str(iso_time(hit.event.get("_time")))[:10]] += 1
        by_rule[(hit.rule.level, hit.rule.title)] += 1
    tags = Counter(t for r in result.rules if r.hits for t in r.tags if t.startswith("attack.t"))
    not_run = [[r.status, r.title, r.path, r.reason] for r in result.rules if r.status != RAN]
    sections = [
        f"<h1>huntbook detect</h1><p>{len(result.rules)} rules: {counts['ran']} ran, "
        f"{counts['skipped']} skipped, {counts['failed']} failed; {len(result.hits)} hits.</p>",
        "<h2>Hits by host</h2>" + _table(["host", "hits"], [list(x) for x in hosts.most_common()]),
        "<h2>Hits over time (UTC day)</h2>"
        + _table(["day", "hits"], sorted(map(list, days.items()))),
        "<h2>Rules that matched</h2>"
        + _table(["level", "rule", "hits"], [[lv, t, n] for (lv, t), n in by_rule.most_common()]),
        "<h2>ATT&amp;CK techniques seen</h2>"
        + _table(["tag", "hits by rules"], [list(x) for x in tags.most_common()]),
        "<h2>Rules that did not run</h2>" + _table(["status", "rule", "file", "reason"], not_run),
    ]
    head = f"<meta charset='utf-8'><title>huntbook detect</title><style>{STYLE}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{''.join(sections)}</body></html>\n"
