"""What the Markdown and HTML reports share: formatting of times, values, edges and evidence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from huntbook import analytics
from huntbook.hunts.result import Coverage, HuntResult, IndexOverride, QueryOutcome, QueryStatus

# What a query's status adds to its note, and what stands in its Hits cell instead of a count.
STATUS_NOTE: dict[QueryStatus, str] = {QueryStatus.ZERO: "true zero: the data it needs is present"}
HITS_INSTEAD: dict[QueryStatus, str] = {QueryStatus.ERROR: "error", QueryStatus.UNFILLED: "not run"}
EVIDENCE_TIME_KEYS = ("_time", "time", "timestamp", "first_seen")
POWERSHELL_COLUMNS = (
    "family",
    "hosts",
    "accounts",
    "launchers",
    "count",
    "first_seen",
    "last_seen",
    "iocs",
)  # the decoded script is not a cell: it is shown whole, folded, under the table (``scripts``)
EDGE_HEADERS = ["Source", "Destination", "Account", "Method", "First seen", "Last seen", "Evidence"]


def fmt_time(value: Any) -> str:
    """Epoch seconds or ISO text as ``YYYY-MM-DD HH:MM:SS`` UTC; anything else as text."""
    epoch = to_epoch(value)
    if epoch is None:
        return "" if value is None else str(value)
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def to_epoch(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
    return None


def value_text(value: Any, limit: int = 200) -> str:
    """A cell: multivalue joined with ' | ', long text cut with an ellipsis."""
    if value is None:
        return ""
    if isinstance(value, list):
        text = " | ".join(value_text(v, limit) for v in value)
    elif isinstance(value, dict):
        text = "; ".join(f"{k}: {value_text(v, limit)}" for k, v in value.items())
    elif isinstance(value, float) and value > 1e8:
        text = fmt_time(value)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hits_text(query: QueryOutcome) -> str:
    return HITS_INSTEAD.get(query.status, str(query.hits))


def query_note(query: QueryOutcome) -> str:
    """Why a row reads the way it does: no-data explanation, error, pivot runs."""
    parts = [query.note] if query.note else []
    if query.status in STATUS_NOTE:
        parts.append(STATUS_NOTE[query.status])
    if query.error:
        parts.append(query.error.splitlines()[0])
    if query.hits_note:
        parts.append(query.hits_note)
    return "; ".join(parts)


def edge_label(edge: dict[str, Any]) -> str:
    return f"{edge.get('method') or '?'}, {edge.get('account') or '?'}"


def host_label(edge: dict[str, Any], end: str) -> str:
    """``WORKSTATION5 (172.18.39.5)`` when the analytics resolved an address for the host."""
    name = str(edge.get(end) or "?")
    address = edge.get(f"{end}_ip") or edge.get(f"{end}_address")
    return f"{name} ({address})" if address and address != name else name


def evidence_items(edge: dict[str, Any]) -> list[dict[str, Any]]:
    items = edge.get("evidence") or []
    return [e if isinstance(e, dict) else {"event": e} for e in items]


def evidence_time(item: dict[str, Any]) -> float | None:
    for key in EVIDENCE_TIME_KEYS:
        epoch = to_epoch(item.get(key))
        if epoch is not None:
            return epoch
    return None


def evidence_text(item: dict[str, Any]) -> str:
    """One line for an evidence event: code, host and what it shows."""
    skip = set(EVIDENCE_TIME_KEYS) | {"_raw", "_cd"}
    parts = [
        f"{k}={value_text(v, 120)}"
        for k, v in item.items()
        if k not in skip and v not in (None, "")
    ]
    return ", ".join(parts)


def timeline_points(result: HuntResult) -> list[tuple[float, str, str]]:
    """(epoch, lane, text) for every timed evidence event, oldest first: one lane per
    lateral-movement edge, one per decoded PowerShell payload."""
    points: list[tuple[float, str, str]] = []
    for edge in result.edges:
        lane = f"{edge.get('source')} → {edge.get('destination')}"
        points.extend(_timed(edge, lane))
    for finding in result.findings.powershell:
        if isinstance(finding, dict):
            name = finding.get("family") or finding.get("payload_id") or "payload"
            points.extend(_timed(finding, f"PowerShell: {name}"))
    return sorted(points)


def _timed(item: dict[str, Any], lane: str) -> list[tuple[float, str, str]]:
    """The item's timed evidence on ``lane``; its first/last seen when no evidence has a time."""
    timed = [
        (t, lane, evidence_text(e))
        for e in evidence_items(item)
        if (t := evidence_time(e)) is not None
    ]
    if not timed:
        timed = [
            (t, lane, key) for key in ("first_seen", "last_seen") if (t := to_epoch(item.get(key)))
        ]
    return timed


def conclusion(result: HuntResult) -> str:
    """The generated conclusion, or a plain statement that the analytics produced none."""
    text = str(result.findings.conclusion or "").strip()
    if text:
        return text
    edges = result.edges
    if not edges:
        return "The hunt found no lateral movement in the data searched."
    pairs = ", ".join(
        f"{e.get('source')} -> {e.get('destination')} ({edge_label(e)})" for e in edges
    )
    return f"The hunt found {len(edges)} lateral-movement edge(s): {pairs}."


def glance(result: HuntResult) -> str:
    """At a Glance: the findings as the answer to this hunt's hypothesis (its ATT&CK
    techniques), not the whole-store conclusion every hunt of the store shares."""
    findings = result.findings
    bundle = {
        "lateral_movement": findings.lateral_movement,
        "powershell": findings.powershell,
        "visibility": findings.visibility,
    }
    return analytics.glance(bundle, ((t.name, t.ids) for t in result.playbook.techniques))


def hunt_edges(result: HuntResult) -> list[bool]:
    """Per edge: whether it is movement by this hunt's techniques (the graph mutes the rest)."""
    return analytics.answers(result.edges, ((t.name, t.ids) for t in result.playbook.techniques))


def visibility_rows(result: HuntResult) -> list[dict[str, Any]]:
    """One row per (host, data need): its verdict and the events of each source on that host.

    Reads analytics' ``Visibility.to_dict()`` (``needs[*].hosts`` and ``sources[*].events``).
    """
    vis = result.findings.visibility
    rows = []
    for need in vis.get("needs", []) if isinstance(vis, dict) else []:
        hosts = need.get("hosts") or {}
        for host in sorted(hosts) or [""]:
            counts = [
                f"{s.get('name')}: {(s.get('events') or {}).get(host, 0)}"
                for s in need.get("sources", [])
            ]
            status = hosts.get(host, need.get("status", ""))
            rows.append(
                {
                    "host": host,
                    "need": need.get("need"),
                    "status": status,
                    "sources": "; ".join(counts),
                }
            )
    return rows


def columns_of(rows: list[dict[str, Any]], preferred: tuple[str, ...] = ()) -> list[str]:
    """Preferred columns first (when present), then the others in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    first = [c for c in preferred if c in seen]
    return first + [c for c in seen if c not in first]


def edge_rows(edges: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per lateral-movement edge under ``EDGE_HEADERS`` (evidence as a count)."""
    return [
        [
            host_label(e, "source"),
            host_label(e, "destination"),
            e.get("account"),
            e.get("method"),
            fmt_time(e.get("first_seen")),
            fmt_time(e.get("last_seen")),
            len(evidence_items(e)),
        ]
        for e in edges
    ]


def finding_table(items: list[Any]) -> tuple[list[str], list[list[Any]]]:
    """Findings as (columns, rows): PowerShell's columns where they apply, else every key."""
    found = [i if isinstance(i, dict) else {"finding": i} for i in items]
    columns = [c for c in POWERSHELL_COLUMNS if any(c in r for r in found)] or columns_of(found)
    return columns, [[r.get(c) for c in columns] for r in found]


def scripts(items: list[Any]) -> list[tuple[str, str]]:
    """(title, the whole decoded script) of each finding that has one, e.g. ("Decoded script:
    PowerShell Empire stager (4,012 characters)", "If($PSVersionTable..."): never cut."""
    found = [i for i in items if isinstance(i, dict) and i.get("script")]
    return [
        (
            f"Decoded script: {f.get('family') or f.get('payload_id') or 'payload'} "
            f"({len(str(f['script'])):,} characters)",
            str(f["script"]),
        )
        for f in found
    ]


def outputs(result: HuntResult) -> list[str]:
    """The playbook's follow-ups, then the visibility gaps this run found (marked as such)."""
    return [*result.playbook.outputs, *run_outputs(result)]


def run_outputs(result: HuntResult) -> list[str]:
    """The visibility gaps this run found: text from the data (host names), to be escaped.

    A query whose zero comes from missing data and a data need absent on a host become
    "Visibility Gap" items (the seed's own wording); needs that are only thin share one line.
    """
    items = sorted(
        {
            f"Visibility Gap (this run): {q.note} (query '{q.title}' returned 0)."
            for q in result.queries
            if q.status == QueryStatus.NO_DATA
        }
    )
    vis = result.findings.visibility
    gaps = [str(g) for g in (vis.get("gaps", []) if isinstance(vis, dict) else [])]
    items += [f"Visibility Gap (this run): {g}." for g in gaps if "absent" in g]
    thin: dict[str, list[str]] = {}
    for gap in gaps:
        need, _, where = gap.partition(": thin on ")
        if where:
            thin.setdefault(need, []).append(where)
    if thin:
        listed = "; ".join(f"{need} on {', '.join(hosts)}" for need, hosts in thin.items())
        items.append(f"Thin visibility (this run): {listed}.")
    return items


NOT_SET = "not set"
MAX_HOSTS = 8


def run_metadata(result: HuntResult) -> dict[str, str]:
    """The playbook's Field/Description table with the run's own values: Executed, Time Frame
    (the data the searches covered), Environment (its indexes and hosts) and Threat Hunter (the
    ``--hunter`` given, else "not set": never a made-up name, nor the playbook author's)."""
    meta = dict(result.playbook.metadata)
    meta["Executed"] = result.run_time[:10]
    meta["Time Frame"] = time_frame(result.coverage)
    meta["Environment"] = environment(result.coverage, result.store.path)
    meta["Threat Hunter"] = result.hunter or NOT_SET
    return meta


def time_frame(coverage: Coverage) -> str:
    if not coverage.earliest:
        return "no events in the indexes searched"
    return (
        f"{fmt_time(coverage.earliest)} - {fmt_time(coverage.latest)} UTC "
        f"({coverage.events} events)"
    )


def environment(coverage: Coverage, store: str) -> str:
    """ "store /data/s, index main; hosts W5, W6" (long host lists end with "and N more")."""
    indexes = ", ".join(coverage.indexes) or "none"
    where = f"every index ({indexes})" if coverage.all_indexes else f"index {indexes}"
    hosts = coverage.hosts
    shown = ", ".join(hosts[:MAX_HOSTS]) + (
        f" and {len(hosts) - MAX_HOSTS} more" if len(hosts) > MAX_HOSTS else ""
    )
    return f"store {store}, {where}; hosts {shown or 'none'}"


def index_override_text(override: IndexOverride | None) -> str:
    """ "Index overridden: ..." for a run with ``--index``; "" for a run on the playbook's own."""
    if override is None:
        return ""
    replaced = ", ".join(override.replaced) or "none: no query named an index"
    return (
        f"Index overridden: every search ran against index {override.index} in place of "
        f"the index the playbook names ({replaced})."
    )


def problem_lines(result: HuntResult) -> list[str]:
    """The playbook's own warnings (``line N: message``), as the loader and lint found them."""
    return [f"line {p.line}: {p.message}" for p in result.problems]
