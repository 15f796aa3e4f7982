"""The result document of a hunt: the one source of truth every report is rendered from.

``HuntResult.to_json()`` is report.json; ``render_markdown`` and ``render_html`` read nothing else
(capa's result document, kept apart from its renderers). pydantic is not a dependency, so the
document is typed dataclasses (statuses a ``StrEnum``) plus ``validate_document``, which checks the
contract outside scripts rely on (issue 4): ``queries[*].title/spl/hits`` and the lateral-movement
edge keys. ``to_json()`` keeps report.json's field names; the findings' contents stay the JSON
forms of the analytics' own dataclasses (their ``to_dict()``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar

import orjson

from huntbook.errors import HuntbookError

EDGE_KEYS = ("source", "destination", "account", "method", "first_seen", "last_seen", "evidence")
SCHEMA_VERSION = 1
T = TypeVar("T")


class QueryStatus(StrEnum):
    """What a query's hit count means (report.json writes the value)."""

    OK = "ok"  # it ran and found rows
    ZERO = "zero"  # it ran, found none, and the events it needs are there: a true zero
    NO_DATA = "no_data"  # it found none because the events it needs are not where it looked
    ERROR = "error"  # it failed (the message is in ``error``)
    UNFILLED = "unfilled"  # a template whose placeholders nothing could fill: not run


QUERY_STATUSES = tuple(s.value for s in QueryStatus)


def _build(cls: type[T], doc: dict[str, Any] | None) -> T:
    """A dataclass from its JSON form; keys it does not know are left out."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in (doc or {}).items() if k in known})


@dataclass
class QueryRun:
    """One execution of a query: a templated query runs once per pivot value tuple."""

    values: dict[str, str]
    spl: str
    hits: int
    elapsed: float
    error: str | None = None


@dataclass
class Pivot:
    """Where a templated query's values came from: an earlier query's rows."""

    source: str
    source_index: int
    columns: dict[str, str]
    distinct: int
    cap: int


@dataclass
class QueryOutcome:
    """What one playbook query did. ``hits`` sums ``runs`` for templated queries (``hits_note``)."""

    index: int
    title: str
    line: int
    spl: str
    hits: int = 0
    elapsed: float = 0.0
    status: QueryStatus = QueryStatus.OK
    note: str = ""
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    sample_truncated: bool = False
    error: str | None = None
    placeholders: list[str] = field(default_factory=list)
    pivot: Pivot | None = None
    runs: list[QueryRun] = field(default_factory=list)
    hits_note: str = ""
    needs: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> QueryOutcome:
        outcome = _build(cls, doc)
        outcome.status = QueryStatus(doc.get("status", "ok"))
        outcome.pivot = _build(Pivot, doc["pivot"]) if doc.get("pivot") else None
        outcome.runs = [_build(QueryRun, r) for r in doc.get("runs", [])]
        return outcome


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
class InputStamp:
    """An ingested file the store holds (``Store.inputs()``)."""

    path: str | None = None
    sha256: str | None = None
    events: int | None = None
    index: str | None = None


@dataclass
class StoreStamp:
    path: str
    inputs: list[InputStamp] = field(default_factory=list)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> StoreStamp:
        return cls(str(doc.get("path", "")), [_build(InputStamp, i) for i in doc.get("inputs", [])])


@dataclass
class TimeRange:
    """First and last event of the whole store, and its event count."""

    earliest: str | None = None
    latest: str | None = None
    events: int = 0
    earliest_epoch: float | None = None
    latest_epoch: float | None = None


@dataclass
class Coverage:
    """The part of the store the searches read: their indexes (``all_indexes``: some search
    named none), the hosts and time span of those indexes."""

    indexes: list[str] = field(default_factory=list)
    all_indexes: bool = False
    hosts: list[str] = field(default_factory=list)
    earliest: str | None = None
    latest: str | None = None
    events: int = 0


@dataclass
class IndexOverride:
    """A run with ``--index``: the index searched and the ones the playbook named."""

    index: str
    replaced: list[str] = field(default_factory=list)


@dataclass
class TechniqueDoc:
    name: str
    ids: list[str]


@dataclass
class PlaybookDoc:
    """The playbook as the report shows it (its markdown, not the run)."""

    title: str
    name: str = ""
    path: str = ""
    description: str = ""
    metadata: list[list[str]] = field(default_factory=list)
    techniques: list[TechniqueDoc] = field(default_factory=list)
    hypothesis: str = ""
    data_needed: list[str] = field(default_factory=list)
    conclusion_written: str = ""
    outputs: list[str] = field(default_factory=list)
    notes: str = ""
    references: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> PlaybookDoc:
        book = _build(cls, doc)
        book.techniques = [_build(TechniqueDoc, t) for t in doc.get("techniques", [])]
        return book


@dataclass
class ProblemDoc:
    """A warning the loader or lint found in the playbook."""

    line: int
    severity: Literal["error", "warning"]
    code: str
    message: str

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ProblemDoc:
        return _build(cls, doc)


@dataclass
class Findings:
    """What the analytics found: JSON forms of ``huntbook.analytics``' results (``Edge``,
    ``PowerShellFinding``, ``Visibility``), the generated conclusion, and the data conditions an
    analytic reported instead of a result."""

    lateral_movement: list[dict[str, Any]] = field(default_factory=list)
    powershell: list[dict[str, Any]] = field(default_factory=list)
    visibility: dict[str, Any] = field(default_factory=dict)
    conclusion: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Findings:
        return _build(cls, doc)


@dataclass
class HuntResult:
    """Everything a hunt run found, stamped with where it came from."""

    huntbook_version: str
    run_time: str
    store: StoreStamp
    time_range: TimeRange
    playbook: PlaybookDoc
    params: dict[str, str]
    queries: list[QueryOutcome]
    results_table: list[ResultsTableRow]
    findings: Findings
    problems: list[ProblemDoc] = field(default_factory=list)
    index_override: IndexOverride | None = None
    coverage: Coverage = field(default_factory=Coverage)
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
        override = doc.get("index_override")
        return cls(
            huntbook_version=doc.get("huntbook_version", ""),
            run_time=doc.get("run_time", ""),
            store=StoreStamp.from_dict(doc.get("store") or {}),
            time_range=_build(TimeRange, doc.get("time_range")),
            playbook=PlaybookDoc.from_dict(doc.get("playbook") or {"title": ""}),
            params=dict(doc.get("params") or {}),
            queries=[QueryOutcome.from_dict(q) for q in doc["queries"]],
            results_table=[_build(ResultsTableRow, r) for r in doc.get("results_table", [])],
            findings=Findings.from_dict(doc["findings"]),
            problems=[ProblemDoc.from_dict(p) for p in doc.get("problems", [])],
            index_override=_build(IndexOverride, override) if override else None,
            coverage=_build(Coverage, doc.get("coverage")),
            hunter=doc.get("hunter"),
            schema_version=doc.get("schema_version", SCHEMA_VERSION),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> HuntResult:
        return cls.from_dict(orjson.loads(text))

    @property
    def edges(self) -> list[dict[str, Any]]:
        return list(self.findings.lateral_movement)


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
