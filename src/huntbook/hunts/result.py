"""The result document of a hunt: the one source of truth every report is rendered from.

``HuntResult.to_json()`` is report.json; ``render_markdown`` and ``render_html`` read nothing else
(capa's result document, kept apart from its renderers). pydantic is not a dependency, so the
document is dataclasses plus ``validate_document``, which checks the contract outside scripts rely
on (issue 4): ``queries[*].title/spl/hits`` and the lateral-movement edge keys.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import orjson

from huntbook.errors import HuntbookError

EDGE_KEYS = ("source", "destination", "account", "method", "first_seen", "last_seen", "evidence")
QUERY_STATUSES = ("ok", "zero", "no_data", "error", "unfilled")
SCHEMA_VERSION = 1


@dataclass
class QueryRun:
    """One execution of a query: a templated query runs once per pivot value tuple."""

    values: dict[str, str]
    spl: str
    hits: int
    elapsed: float
    error: str | None = None


@dataclass
class QueryOutcome:
    """What one playbook query did. ``hits`` sums ``runs`` for templated queries (``hits_note``)."""

    index: int
    title: str
    line: int
    spl: str
    hits: int = 0
    elapsed: float = 0.0
    status: str = "ok"
    note: str = ""
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    sample_truncated: bool = False
    error: str | None = None
    placeholders: list[str] = field(default_factory=list)
    pivot: dict[str, Any] | None = None
    runs: list[QueryRun] = field(default_factory=list)
    hits_note: str = ""
    needs: list[str] = field(default_factory=list)


@dataclass
class ResultsTableRow:
    """A row of the playbook's Results table matched to the query it describes."""

    search: str
    line: int
    expected_hits: int | None
    query_index: int | None
    query_title: str | None
    match: str
    observed_hits: int | None


@dataclass
class HuntResult:
    """Everything a hunt run found, stamped with where it came from."""

    huntbook_version: str
    run_time: str
    store: dict[str, Any]
    time_range: dict[str, Any]
    playbook: dict[str, Any]
    params: dict[str, str]
    queries: list[QueryOutcome]
    results_table: list[ResultsTableRow]
    findings: dict[str, Any]
    problems: list[dict[str, Any]] = field(default_factory=list)
    index_override: dict[str, Any] | None = None
    coverage: dict[str, Any] = field(default_factory=dict)
    hunter: str | None = None
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """report.json's text (sorted keys off: the order above is the reading order)."""
        options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        return orjson.dumps(self.to_dict(), option=options, default=str).decode()

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> HuntResult:
        """Rebuild a result from report.json's content, after checking the contract."""
        validate_document(doc)
        data = dict(doc)
        data["queries"] = [_outcome(q) for q in doc["queries"]]
        data["results_table"] = [ResultsTableRow(**r) for r in doc.get("results_table", [])]
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, text: str | bytes) -> HuntResult:
        return cls.from_dict(orjson.loads(text))

    @property
    def edges(self) -> list[dict[str, Any]]:
        return list(self.findings.get("lateral_movement", []))


def _outcome(doc: dict[str, Any]) -> QueryOutcome:
    data = dict(doc)
    data["runs"] = [QueryRun(**r) for r in doc.get("runs", [])]
    known = {f.name for f in dataclasses.fields(QueryOutcome)}
    return QueryOutcome(**{k: v for k, v in data.items() if k in known})


def validate_document(doc: Any) -> None:
    """Check the parts of report.json that outside scripts rely on.

    Raises:
        HuntbookError: naming the first offending path (``queries[2].hits``).
    """
    _expect(isinstance(doc, dict), "document", "an object")
    _expect(isinstance(doc.get("queries"), list), "queries", "a list")
    for i, query in enumerate(doc["queries"]):
        _expect(isinstance(query, dict), f"queries[{i}]", "an object")
        _expect(isinstance(query.get("title"), str), f"queries[{i}].title", "a string")
        _expect(isinstance(query.get("spl"), str), f"queries[{i}].spl", "a string")
        hits = query.get("hits")
        _expect(
            isinstance(hits, int) and not isinstance(hits, bool), f"queries[{i}].hits", "an int"
        )
        _expect(query.get("status", "ok") in QUERY_STATUSES, f"queries[{i}].status", "a status")
    findings = doc.get("findings")
    _expect(isinstance(findings, dict), "findings", "an object")
    edges = findings.get("lateral_movement")
    _expect(isinstance(edges, list), "findings.lateral_movement", "a list")
    for i, edge in enumerate(edges):
        missing = [k for k in EDGE_KEYS if k not in edge]
        _expect(not missing, f"findings.lateral_movement[{i}]", f"an edge with {missing}")


def _expect(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise HuntbookError(f"invalid hunt result: {where} must be {what}")
