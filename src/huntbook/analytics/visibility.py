"""Visibility: does the store hold the data a hunt needs, host by host?

API (stable):

- ``visibility(store, needs) -> Visibility``: each "Data That is Needed" item (``"Authentication
  Logs"``, ``"Netflow"``, ``"Process Monitoring"``, ``"Process Command-Line Parameters"``; matched
  case- and space-insensitively, aliases in ``visibility.yaml``) -> the sources that would show it,
  and per host ``present`` / ``thin`` / ``absent``. ``Visibility.gaps`` lists the sentences a report
  prints ("No Sysmon Event ID 3 logs").
- ``Visibility.explains_zero(constraints)`` / ``explains_zero(store, constraints)``: given a query's
  ``(sourcetype, EventCode)`` constraints (either may be None = any; sourcetype may hold SPL ``*``
  wildcards; several pairs mean OR), the reason a zero-hit query found nothing because the data is
  not there ("No Sysmon Event ID 3 logs"), or None when such events exist (a true zero).

Why: a query that returns 0 hits says nothing when the events it searches were never collected.
The seed hunt's "WMI Network Connection" query returned 0 because there were no Sysmon 3 logs; the
report must say so instead of implying that no connection happened.

One aggregate query counts events per host, Sysmon-or-not, sourcetype and EventCode (and how many
carry each field a source needs); everything else is computed from those counts.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import (
    Candidate,
    Columns,
    StoreLike,
    count,
    count_table,
    is_sysmon,
    rows,
)
from huntbook.analytics._yaml import table
from huntbook.analytics.aliases import FIELD_ALIASES
from huntbook.errors import MappingError

RANK = {"present": 2, "thin": 1, "absent": 0}


@dataclass(frozen=True)
class Source:
    name: str
    codes: frozenset[str]
    sysmon: bool | None
    sourcetypes: tuple[str, ...]
    field: tuple[Candidate, ...]

    def covers(self, count: Mapping[str, Any]) -> bool:
        if self.codes and count["EventCode"] not in self.codes:
            return False
        if self.sysmon is not None and bool(count["sysmon"]) != self.sysmon:
            return False
        st = count["sourcetype"] or ""
        return not self.sourcetypes or any(fnmatch.fnmatchcase(st, p) for p in self.sourcetypes)


@dataclass(frozen=True)
class SourceCoverage:
    """One source's events per host, and its status there."""

    name: str
    events: Mapping[str, int]
    status: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "events": dict(self.events), "status": dict(self.status)}


@dataclass(frozen=True)
class NeedCoverage:
    """One data need: the sources that would show it and the verdict per host."""

    need: str
    known: bool
    sources: tuple[SourceCoverage, ...]
    hosts: Mapping[str, str]
    gaps: tuple[str, ...]

    @property
    def status(self) -> str:
        """The hosts' common verdict (``present``, ``thin``, ``absent``), else ``partial``."""
        if not self.known:
            return "unknown"
        values = set(self.hosts.values()) or {"absent"}
        return values.pop() if len(values) == 1 else "partial"

    def to_dict(self) -> dict[str, Any]:
        return {
            "need": self.need,
            "known": self.known,
            "status": self.status,
            "hosts": dict(self.hosts),
            "sources": [s.to_dict() for s in self.sources],
            "gaps": list(self.gaps),
        }


@dataclass(frozen=True)
class Visibility:
    needs: tuple[NeedCoverage, ...]
    hosts: tuple[str, ...]
    counts: tuple[Mapping[str, Any], ...]

    @property
    def gaps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g for n in self.needs for g in n.gaps))

    def explains_zero(self, constraints: Iterable[tuple[str | None, str | None]]) -> str | None:
        return _explain(self.counts, list(constraints))

    def to_dict(self) -> dict[str, Any]:
        return {
            "hosts": list(self.hosts),
            "needs": [n.to_dict() for n in self.needs],
            "gaps": list(self.gaps),
        }


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    data = table("visibility.yaml")
    if not isinstance(data, dict) or not isinstance(data.get("needs"), dict):
        raise MappingError("visibility.yaml: expected a 'needs' mapping")
    return data


def need_key(name: str) -> str:
    """``Process Command-Line  Parameters`` -> ``process command-line parameters``."""
    return re.sub(r"\s+", " ", name.strip().lower())


def _lookup(name: str) -> tuple[Source, ...] | None:
    key = need_key(name)
    for need, spec in _table()["needs"].items():
        if key == need_key(need) or key in {need_key(a) for a in spec.get("aliases", ())}:
            return tuple(_source(s) for s in spec["sources"])
    return None


def _source(raw: Mapping[str, Any]) -> Source:
    return Source(
        raw["name"],
        frozenset(str(c) for c in raw.get("codes", ())),
        raw.get("sysmon"),
        tuple(p.lower() for p in raw.get("sourcetypes", ())),
        _candidates(raw.get("field", ())),
    )


def _candidates(names: Iterable[str]) -> tuple[Candidate, ...]:
    """A source's ``field`` names, each widened to its aliases (``aliases.FIELD_ALIASES``)."""
    return tuple(c for name in names for c in FIELD_ALIASES.get(name, (name,)))


def _field_sets() -> list[tuple[Candidate, ...]]:
    sets = {
        _candidates(s.get("field", ()))
        for spec in _table()["needs"].values()
        for s in spec["sources"]
    }
    return sorted((s for s in sets if s), key=repr)


def _groups(columns: Columns) -> list[exp.Expr]:
    """What the counts are grouped by: host, Sysmon or not, sourcetype, EventCode."""
    sysmon = exp.Coalesce(this=is_sysmon(columns), expressions=[exp.false()])
    return [
        exp.column("host", quoted=True).as_("host"),
        sysmon.as_("sysmon"),
        exp.Lower(this=columns.get("sourcetype")).as_("sourcetype"),
        exp.column("EventCode", quoted=True).as_("EventCode"),
    ]


def count_reads(columns: Columns) -> list[exp.Expr]:
    """Every value the counts read (what a tally must group by: analytics/scan.py)."""
    return [*_groups(columns), *[columns.get(*fs) for fs in _field_sets()]]


def _counts(store: StoreLike) -> list[dict[str, Any]]:
    """Events per group, and how many carry each field set (over every event, or added up from
    the store's tally: ``_sql.count``)."""
    columns = Columns.of(store)
    sets = [columns.get(*fs) for fs in _field_sets()]
    filled = [count(columns, value).as_(f"f{i}") for i, value in enumerate(sets)]
    query = (
        exp.select(*_groups(columns), count(columns).as_("n"), *filled)
        .from_(count_table(columns))
        .group_by(1, 2, 3, 4)
    )
    return rows(store.connect(), query)


def _status(n: int, filled: int | None) -> str:
    thin_events, thin_fraction = int(_table()["thin_events"]), float(_table()["thin_fraction"])
    have = n if filled is None else filled
    if have == 0:
        return "absent"
    if have < thin_events or (filled is not None and filled < thin_fraction * n):
        return "thin"
    return "present"


def _coverage(
    source: Source, counts: list[dict[str, Any]], hosts: tuple[str, ...]
) -> SourceCoverage:
    field_col = f"f{_field_sets().index(source.field)}" if source.field else None
    n: dict[str, int] = defaultdict(int)
    filled: dict[str, int] = defaultdict(int)
    for c in counts:
        if source.covers(c):
            n[c["host"]] += c["n"]
            filled[c["host"]] += c[field_col] if field_col else 0
    status = {h: _status(n[h], filled[h] if field_col else None) for h in hosts}
    return SourceCoverage(source.name, {h: n[h] for h in hosts}, status)


def _need(name: str, counts: list[dict[str, Any]], hosts: tuple[str, ...]) -> NeedCoverage:
    sources = _lookup(name)
    if sources is None:
        return NeedCoverage(name, False, (), {}, ())
    cover = tuple(_coverage(s, counts, hosts) for s in sources)
    per_host = {
        h: max((c.status[h] for c in cover), key=RANK.__getitem__, default="absent") for h in hosts
    }
    missing = {h: v for h, v in per_host.items() if v != "present"}
    if all(v == "absent" for c in cover for v in c.status.values()):
        gaps = [f"No {c.name} logs" for c in cover] if missing else []
    else:  # some source exists somewhere: name the hosts that lack the need
        gaps = [f"{name}: {v} on {h}" for h, v in missing.items()]
    return NeedCoverage(name, True, cover, per_host, tuple(gaps))


def visibility(store: StoreLike, needs: Iterable[str]) -> Visibility:
    """Coverage of each data need, per host, from one aggregate over the store."""
    counts = _counts(store)
    hosts = tuple(sorted({c["host"] for c in counts if c["host"]}))
    return Visibility(tuple(_need(n, counts, hosts) for n in needs), hosts, tuple(counts))


def _pattern(sourcetype: str | None) -> str:
    return (sourcetype or "*").lower()


def _describe(sourcetype: str | None, code: str | None) -> str:
    """A name for what a constraint asks for: "Sysmon Event ID 3", a table source's name, or the
    sourcetype and event id as given."""
    if code and "sysmon" in (sourcetype or ""):
        return f"Sysmon Event ID {code}"
    for spec in _table()["needs"].values():
        for src in map(_source, spec["sources"]):
            if src.codes == {code} and src.sysmon is not True and not src.field:
                return src.name
    parts = [p for p in (sourcetype, f"Event ID {code}" if code else None) if p]
    return " ".join(parts) or "events"


def _explain(
    counts: Iterable[Mapping[str, Any]], constraints: list[tuple[str | None, str | None]]
) -> str | None:
    if not constraints:
        constraints = [(None, None)]
    counts = list(counts)
    for sourcetype, code in constraints:
        pattern = _pattern(sourcetype)
        for c in counts:
            if fnmatch.fnmatchcase(c["sourcetype"] or "", pattern) and (
                code is None or c["EventCode"] == str(code)
            ):
                return None
    names = dict.fromkeys(
        _describe(st, str(code) if code is not None else None) for st, code in constraints
    )
    return "No " + " or ".join(names) + " logs"


def explains_zero(
    store: StoreLike, constraints: Iterable[tuple[str | None, str | None]]
) -> str | None:
    """Why a query over these (sourcetype, EventCode) constraints must find nothing, or None."""
    return _explain(_counts(store), list(constraints))
