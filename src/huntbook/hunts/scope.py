"""The store as the analytics see it: one index of it, and where each evidence event came from.

Why: ``huntbook findings --index NAME`` runs every analytic on one index only, and a hunter who
reads an edge wants each event one command away. :class:`IndexScope` wraps a store so its
``events`` view holds one index (the analytics query ``events`` by name and need no change);
:func:`provenance` names, for the events behind findings, the ingested file each came from (from
the manifest: a batch's inputs own consecutive ``_cd`` ranges in input order) and its record
number (``EventRecordID``, or ``RecordNumber`` in classic text) when the store has one; for an
archive, the member (the manifest counts each member's events, in row order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import DIALECT, Columns, EngineConnection, rows, text
from huntbook.store.views import events_view

RECORD_FIELDS = ("EventRecordID", "RecordNumber")


@dataclass(frozen=True)
class IndexScope:
    """``store`` seen through one index: ``connect()`` gives an ``events`` view of that index."""

    store: Any
    index: str

    def connect(self) -> Any:
        """The store's connection with ``events`` redefined over the files that hold the index
        (a batch's catalog names its indexes), filtered to it; another engine's connection
        narrowed to the index."""
        con = self.store.connect()
        same_index = exp.EQ(
            this=exp.Lower(this=exp.column("index", quoted=True)),
            expression=text(self.index.lower()),
        )
        if isinstance(con, EngineConnection):  # another engine's (Spark): it filters its view
            return con.narrowed(same_index)
        manifest = self.store.manifest()
        holding = [
            batch
            for batch in manifest["batches"]
            if self.index.lower() in {ix.lower() for ix in batch["catalog"]}
        ]
        # no batch holds the index: every file, so the view keeps its columns and holds nothing
        files = [
            str(self.store.path / f) for b in holding or manifest["batches"] for f in b["files"]
        ]
        view = events_view(files, manifest["columns"])
        view.set("expression", view.expression.where(same_index))
        con.execute(view.sql(dialect=DIALECT))
        return con

    def fields(self, index: str | None = None, sourcetype: str | None = None) -> dict[str, str]:
        return dict(self.store.fields(self.index, sourcetype))

    def __getattr__(self, name: str) -> Any:
        """Everything else (path, inputs, stats, ...) is the whole store's."""
        return getattr(self.store, name)


Range = tuple[int, int, str, str | None]  # first_cd, end_cd, file, archive member (or None)


def input_ranges(batches: Iterable[Mapping[str, Any]]) -> list[Range]:
    """``(first_cd, end_cd, path, member)`` per ingested file (per member of an archive whose
    members the manifest counts), for batches whose inputs account for every event of the batch
    (otherwise which event came from which file is not known)."""
    ranges: list[Range] = []
    for batch in batches:
        inputs = batch.get("inputs", [])
        if sum(int(i.get("events", 0)) for i in inputs) != int(batch.get("events", 0)):
            continue
        start = int(batch["first_cd"])
        for item in inputs:
            end = start + int(item.get("events", 0))
            ranges.extend(_member_ranges(start, item) or [(start, end, str(item["path"]), None)])
            start = end
    return ranges


def _member_ranges(start: int, item: Mapping[str, Any]) -> list[Range]:
    """An archive's members' ranges, when its members account for all its events."""
    members = item.get("members", [])
    if sum(int(m["events"]) for m in members) != int(item.get("events", 0)):
        return []
    ranges: list[Range] = []
    for member in members:
        end = start + int(member["events"])
        ranges.append((start, end, str(item["path"]), str(member["name"])))
        start = end
    return ranges


def _origin(cd: int, ranges: list[Range]) -> tuple[str | None, str | None]:
    """The file (and archive member) an event came from."""
    return next(((p, m) for start, end, p, m in ranges if start <= cd < end), (None, None))


def _records(store: Any, cds: list[int]) -> dict[int, str]:
    """``_cd`` -> record number, for the events that carry one."""
    columns = Columns.of(store)
    present = [name for name in RECORD_FIELDS if columns.has(name)]
    if not present or not cds:
        return {}
    record = columns.get(*present)
    query = (
        exp.select(exp.column("_cd", quoted=True).as_("_cd"), record.as_("record"))
        .from_("events")
        .where(exp.column("_cd", quoted=True).isin(*[exp.Literal.number(c) for c in cds]))
    )
    con = store.connect()
    try:
        return {int(r["_cd"]): str(r["record"]) for r in rows(con, query) if r["record"]}
    finally:
        con.close()


def provenance(store: Any, cds: Iterable[int]) -> dict[int, dict[str, str]]:
    """For each ``_cd``: ``file`` (the ingested file), ``member`` (its member, for an archive)
    and ``record`` (its record number), each only when the store knows it."""
    wanted = sorted(set(cds))
    ranges = input_ranges(store.manifest()["batches"]) if hasattr(store, "manifest") else []
    records = _records(store, wanted)
    found: dict[int, dict[str, str]] = {}
    for cd in wanted:
        path, member = _origin(cd, ranges)
        where = {"file": path, "member": member, "record": records.get(cd)}
        found[cd] = {k: v for k, v in where.items() if v is not None}
    return found
