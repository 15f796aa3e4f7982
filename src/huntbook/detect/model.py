"""What ``huntbook detect`` works with: converted rules, hits and the run's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp, serde

if TYPE_CHECKING:
    from huntbook.detect.mapping import Branch
    from huntbook.detect.spool import HitSpool

RAN, SKIPPED, FAILED = "ran", "skipped", "failed"
LEVELS = ("informational", "low", "medium", "high", "critical")
# Columns every hit carries (its provenance included), besides the fields its rule read.
EVENT_COLUMNS = (
    "_time",
    "host",
    "EventCode",
    "index",
    "source",
    "sourcetype",
    "_cd",
    "EventRecordID",
)
MATCHED = "__rules"  # the group query's column: the numbers of the rules an event matched


def value_column(name: str) -> str:
    """The scan column holding field ``name`` as stored."""
    return f"v:{name}"


def ipv4_column(name: str) -> str:
    """The scan column holding field ``name`` as a number when it is a dotted quad."""
    return f"n:{name}"


def ipv6_column(name: str) -> str:
    """The scan column holding field ``name`` as 32 hex digits when it is IPv6 text."""
    return f"x:{name}"


def lower_column(name: str) -> str:
    """The scan column holding field ``name`` lower-cased (text fields only)."""
    return f"l:{name}"


@dataclass
class Rule:
    """One Sigma rule as converted: its predicate over the scan, or why it has none."""

    path: str
    id: str
    title: str
    level: str = ""
    name: str = ""  # Sigma's ``name``, by which correlation rules may refer to the rule
    tags: list[str] = field(default_factory=list)
    logsource: str = ""
    status: str = RAN
    reason: str = ""
    predicate: exp.Expr | None = None  # over Sigma's field names (after huntbook's pipeline)
    pending: Any = None  # the predicate as cached (sqlglot serde), turned into a tree on use
    key: str = ""  # the rule's identity: its file's content hash and its place in the file
    branches: list[Branch] = field(default_factory=list)  # the log source's events, names
    fields: list[str] = field(default_factory=list)  # store fields the rule reads
    lowered: list[str] = field(default_factory=list)  # ... of those, read lower-cased
    ipv4: list[str] = field(default_factory=list)  # ... of those, read as an IPv4 number
    ipv6: list[str] = field(default_factory=list)  # ... of those, read as IPv6 hex
    correlation: dict[str, Any] | None = None  # a correlation rule's parts (correlate.py)
    hits: int = 0
    seconds: float = 0.0

    def tree(self) -> exp.Expr:
        """The predicate, built from its cached form the first time it is needed."""
        if self.predicate is None and self.pending is not None:
            built = serde.load(self.pending)
            if not isinstance(built, exp.Expr):
                raise TypeError(f"cached predicate of {self.path} is not an expression")
            self.predicate, self.pending = built, None
        if self.predicate is None:
            raise ValueError(f"{self.title} has no predicate ({self.status})")
        return self.predicate

    def runs_on_events(self) -> bool:
        """A single-event rule that is to run (correlations run on hits)."""
        return self.status == RAN and self.correlation is None

    def summary(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "path": self.path,
            "level": self.level,
            "logsource": self.logsource,
            "status": self.status,
        }
        if self.status != RAN:
            entry["reason"] = self.reason
        entry["hits"] = self.hits
        entry["seconds"] = round(self.seconds, 4)
        return entry


@dataclass(frozen=True)
class Hit:
    """One event a rule matched: the rule and the event's columns (the rule's fields included)."""

    rule: Rule
    event: dict[str, Any]

    def record(self) -> dict[str, Any]:
        """The ``detections.jsonl`` line."""
        return {
            "rule_id": self.rule.id,
            "title": self.rule.title,
            "level": self.rule.level,
            "tags": self.rule.tags,
            **self.event,
        }


@dataclass
class DetectResult:
    """Every rule given, with its status, and every hit in time order (``hits`` is read from
    disk each time it is iterated: ``huntbook.detect.spool``)."""

    rules: list[Rule]
    hits: HitSpool
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out = {RAN: 0, SKIPPED: 0, FAILED: 0}
        for rule in self.rules:
            out[rule.status] += 1
        return out
