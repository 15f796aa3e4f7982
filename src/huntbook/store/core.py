"""``Store``: Parquet batches and a manifest, queried through DuckDB (architecture.md §2).

Layout::

    store_dir/manifest.json          committed batches (atomically replaced)
    store_dir/events/<batch>/data.parquet   one file per batch (parts merged: store/compact.py)
    store_dir/tmp/                   work in progress; cleared when opened for writing
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from huntbook.errors import StoreError
from huntbook.normalize.types import CORE_COLUMNS, field_type
from huntbook.store.compact import MERGED, merge_parts
from huntbook.store.manifest import fsync_dir, read_manifest, store_lock, write_manifest
from huntbook.store.views import DIALECT, events_view, stats_query
from huntbook.store.writer import BatchWriter

if TYPE_CHECKING:
    from huntbook.store.summary import IngestSummary

EVENTS, TMP = "events", "tmp"


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat().replace("+00:00", "Z")


class Store:
    """An event store directory. Cheap to create; nothing is read until used."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._held: dict[str, Any] | None = None  # the manifest, while this object holds the lock

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # --- reading -------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """The committed manifest (an empty one for a store that does not exist yet)."""
        if self._held is not None:
            return self._held
        return read_manifest(self.path)

    def files(self) -> list[str]:
        """Absolute paths of every committed Parquet file, in ingest order."""
        return [str(self.path / f) for b in self.manifest()["batches"] for f in b["files"]]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory DuckDB connection whose view ``events`` spans every committed file."""
        manifest = self.manifest()
        files = [str(self.path / f) for b in manifest["batches"] for f in b["files"]]
        con = duckdb.connect()
        con.execute(events_view(files, manifest["columns"]).sql(dialect=DIALECT))
        return con

    def catalog(self) -> dict[str, dict[str, dict[str, str]]]:
        """index -> sourcetype -> field -> type, over every committed batch."""
        merged: dict[str, dict[str, dict[str, str]]] = {}
        for batch in self.manifest()["batches"]:
            for index, sts in batch["catalog"].items():
                for st, fields in sts.items():
                    merged.setdefault(index, {}).setdefault(st, {}).update(fields)
        return merged

    def fields(self, index: str | None = None, sourcetype: str | None = None) -> dict[str, str]:
        """Field name -> ``double|bigint|text|list`` (optionally only one index / sourcetype).

        Field names are case-sensitive (``User`` and ``user`` both); see ``columns()`` for the
        column a case variant is stored in.
        """
        out = {c: field_type(c) for c in CORE_COLUMNS}
        for ix, sts in self.catalog().items():
            if index is not None and ix.lower() != index.lower():
                continue
            for st, fields in sts.items():
                if sourcetype is None or st.lower() == sourcetype.lower():
                    out.update(fields)
        return out

    def columns(self) -> dict[str, str]:
        """Field -> column, for the fields not stored under their own name.

        DuckDB resolves column names case-insensitively, so of two fields that differ only in case
        (Sysmon's ``User``, the Windows add-on's ``user``) the one stored second lives in a column
        ``<name>~<n>`` (``user~1``). Every other field's column is its name.
        """
        return dict(self.manifest().get("variants", {}))

    def stats(self) -> list[dict[str, Any]]:
        """Per index, sourcetype, host, source: count and first/last time (ISO-8601 UTC)."""
        with contextlib.closing(self.connect()) as con:
            rows = con.execute(stats_query().sql(dialect=DIALECT)).fetchall()
        keys = ("index", "sourcetype", "host", "source", "count")
        return [
            {
                **dict(zip(keys, r[:5], strict=True)),
                "first_time": _iso(r[5]),
                "last_time": _iso(r[6]),
                "first_epoch": r[5],
                "last_epoch": r[6],
            }
            for r in rows
        ]

    def inputs(self) -> list[dict[str, Any]]:
        """Every ingested input file: path, sha256, events, index (for stamping reports)."""
        return [dict(i) for b in self.manifest()["batches"] for i in b["inputs"]]

    def has_input(self, sha256: str) -> bool:
        """Whether a file with this content hash is already committed."""
        return any(i["sha256"] == sha256 for i in self.inputs())

    # --- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock and clear work left over by a crashed writer."""
        with store_lock(self.path):
            self._clean_leftovers()
            self._held = read_manifest(self.path)  # nobody else writes while the lock is held
            try:
                yield
            finally:
                self._held = None

    def _clean_leftovers(self) -> None:
        """Drop what a crashed writer left: work files, uncommitted batches, unlisted files."""
        shutil.rmtree(self.path / TMP, ignore_errors=True)
        listed = {b["id"]: set(b["files"]) for b in self.manifest()["batches"]}
        events = self.path / EVENTS
        if not events.is_dir():
            return
        for child in events.iterdir():
            if child.name not in listed:
                shutil.rmtree(child, ignore_errors=True)
                continue
            for f in child.iterdir():
                if f"{EVENTS}/{child.name}/{f.name}" not in listed[child.name]:
                    f.unlink()

    def compact(self) -> int:
        """Merge each batch written as several Parquet parts into one file; returns how many.

        Stores written before batches were merged at commit have one file per 16,384 events;
        every search pays for each file (store/compact.py). Each batch is swapped atomically: the
        merged file is in place before the manifest names it, the parts go after.
        """
        merged = 0
        with self.writing():
            manifest = self.manifest()  # the one read under the lock; entries change in place
            for entry in manifest["batches"]:
                if len(entry["files"]) > 1:
                    self._compact_batch(manifest, entry)
                    merged += 1
        return merged

    def _compact_batch(self, manifest: dict[str, Any], entry: dict[str, Any]) -> None:
        parts = [self.path / f for f in entry["files"]]
        work = self.path / TMP
        work.mkdir(parents=True, exist_ok=True)
        name = f"{EVENTS}/{entry['id']}/{MERGED}"
        merge_parts(parts, work / f"{entry['id']}.parquet").replace(self.path / name)
        entry["files"] = [name]
        write_manifest(self.path, manifest)
        for part in parts:
            part.unlink()

    def write_batch(
        self,
        events: Iterable[Mapping[str, Any]],
        inputs: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Write ``events`` as one atomic batch (caller holds ``writing()``); returns its entry."""

        def fill(writer: BatchWriter) -> None:
            for event in events:
                writer.add(event)

        return self.batch_from(fill, inputs, **extra)

    def work_dir(self, name: str) -> Path:
        """A folder for work files (under tmp/, cleared by the next writer if left behind)."""
        folder = self.path / TMP / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def batch_from(
        self,
        fill: Callable[[BatchWriter], None],
        inputs: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Run ``fill(writer)`` and commit what it wrote as one batch; on error nothing is kept."""
        manifest = self.manifest()  # read only: _commit builds the next one
        batch_id = f"b{manifest['next_batch']:06d}"
        work = self.path / TMP / batch_id
        writer = BatchWriter(
            work,
            dict(manifest["columns"]),
            manifest["next_cd"],
            variants=dict(manifest.get("variants", {})),
        )
        try:
            fill(writer)
            writer.flush()
            return self._commit(manifest, batch_id, writer, inputs or [], extra)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _commit(
        self,
        manifest: dict[str, Any],
        batch_id: str,
        writer: BatchWriter,
        inputs: list[dict[str, Any]],
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        if not writer.events and not inputs:
            return {"id": None, "files": [], "events": 0, "inputs": []}  # nothing to commit
        final = self.path / EVENTS / batch_id
        parts = writer.assemble()
        if parts:
            final.parent.mkdir(parents=True, exist_ok=True)
            writer.out_dir.replace(final)
            fsync_dir(final.parent)
        entry = {
            "id": batch_id,
            "files": [f"{EVENTS}/{batch_id}/{p.name}" for p in parts],
            "events": writer.events,
            "first_cd": manifest["next_cd"],
            "inputs": inputs,
            "catalog": writer.field_catalog(),
            "committed": _iso(dt.datetime.now(dt.UTC).timestamp()),
            **extra,
        }
        manifest = {
            **manifest,
            "batches": [*manifest["batches"], entry],
            "next_cd": writer.next_cd,
            "next_batch": manifest["next_batch"] + 1,
            "columns": writer.columns,
            "variants": writer.variants,
        }
        write_manifest(self.path, manifest)
        if self._held is not None:
            self._held = manifest
        return entry

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        index: str = "main",
        sourcetype: str | None = None,
        fmt: str | None = None,
        progress: Callable[[int], None] | None = None,
        batch_bytes: int | None = None,
        workers: int | None = None,
        max_member_bytes: int | None = None,
        max_line_bytes: int | None = None,
    ) -> IngestSummary:
        """Ingest files, folders and archives in atomic batches of about ``batch_bytes`` of input.

        ``workers``: processes reading files (None or 0: one per core for input over 8 MB).
        ``max_member_bytes``, ``max_line_bytes``: what an archive member may decompress to and
        how long a line or record may be (None: ``huntbook.ingest.Limits``'s defaults).
        Returns what happened to every file (huntbook.store.ingesting has the rules).
        """
        from huntbook.ingest import Limits
        from huntbook.store.ingesting import BATCH_BYTES, ingest_paths

        if not index:
            raise StoreError("index must not be empty")
        return ingest_paths(
            self,
            paths,
            index=index,
            sourcetype=sourcetype,
            fmt=fmt,
            progress=progress,
            batch_bytes=BATCH_BYTES if batch_bytes is None else batch_bytes,
            workers=workers,
            limits=Limits(
                member_bytes=max_member_bytes or Limits.member_bytes,
                line_bytes=max_line_bytes or Limits.line_bytes,
            ),
        )
