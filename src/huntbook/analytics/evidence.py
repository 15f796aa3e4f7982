"""The event behind a finding, as reports show it, and the time format every finding uses.

Why: every conclusion huntbook writes must point at the events that support it. An :class:`Evidence`
keeps just enough of an event to find it again (``_cd`` is unique in a store, ``_time`` + ``host`` +
``EventCode`` locate it for a hunter in Splunk) plus a few summary fields chosen per event type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CORE = ("_time", "_cd", "host", "EventCode")


def iso(epoch: float | None) -> str | None:
    """Epoch seconds -> ISO-8601 UTC with milliseconds and a ``Z`` (None stays None)."""
    if epoch is None:
        return None
    stamp = datetime.fromtimestamp(epoch, tz=UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Evidence:
    """One event: where and when, its store id, and the fields that explain why it counts."""

    time: float
    host: str
    event_code: str
    cd: int | None
    fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], keep: tuple[str, ...]) -> Evidence:
        """Build from a query row; ``keep`` names the summary fields (None values are dropped)."""
        summary = {k: str(row[k]) for k in keep if row.get(k) not in (None, "")}
        return cls(
            float(row["_time"]), str(row["host"]), str(row["EventCode"]), row.get("_cd"), summary
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "_time": iso(self.time),
            "host": self.host,
            "EventCode": self.event_code,
            "_cd": self.cd,
            **self.fields,
        }

    @property
    def key(self) -> tuple[Any, ...]:
        """Identity for de-duplication (``_cd`` when the store gave one)."""
        return (self.cd,) if self.cd is not None else (self.time, self.host, self.event_code)


def unique_sorted(items: list[Evidence]) -> tuple[Evidence, ...]:
    """Evidence without duplicates, in time order (``_cd`` breaks ties, as Splunk does)."""
    seen: dict[tuple[Any, ...], Evidence] = {}
    for item in items:
        seen.setdefault(item.key, item)
    return tuple(sorted(seen.values(), key=lambda e: (e.time, e.cd if e.cd is not None else -1)))
