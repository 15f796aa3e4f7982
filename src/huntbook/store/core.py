"""``Store``: Parquet batches and a manifest, queried through DuckDB (architecture.md §2).

Layout::

    store_dir/manifest.json          committed batches (atomically replaced)
    store_dir/events/<batch>/data.parquet   one file per batch (parts merged: store/compact.py)
    store_dir/tmp/                   work in progress; cleared when opened for writing

Opening a store (``connect``, ``writing``) checks it: no manifest is StoreMissingError (only
ingest creates a store), a batch whose files are not whole is StoreDamagedError (store/integrity.py;
``repair`` drops it). A batch file and its folder are fsynced before the manifest names them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huntbook.errors import StoreError
from huntbook.normalize.types import CORE_COLUMNS, field_type
from huntbook.store.compact import MERGED, merge_parts
from huntbook.store.integrity import Damage, damage_error, damaged_batches, sizes
from huntbook.store.manifest import (
    MANIFEST,
    BatchEntry,
    Catalog,
    InputEntry,
    Manifest,
    empty_manifest,
    fsync_path,
    read_manifest,
    store_lock,
    write_manifest,
)
from huntbook.store.writer import BatchWriter

if TYPE_CHECKING:  # DuckDB and the views' sqlglot load when a store is read (an ingest does not)
    import duckdb

EVENTS, TMP, LOOKUPS = "events", "tmp", "lookups"
SUMMARIES = "summaries"  # the analytics' per-batch summaries, in a store that keeps them
READ_ONLY = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
}


def _utc(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else _utc(dt.datetime.fromtimestamp(epoch, dt.UTC))


def _now() -> str:
    return _utc(dt.datetime.now(dt.UTC))


@contextlib.contextmanager
def _writable(root: Path) -> Iterator[None]:
    """Turn "cannot write here" (permissions, read-only file system) into a StoreError."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in READ_ONLY:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        raise StoreError(
            f"cannot write to the store {root}: {READ_ONLY[exc.errno]}{where}"
        ) from exc


def stats_rows(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """``stats_query()``'s rows (whichever engine ran it) as ``Store.stats`` gives them."""
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


class Store:
    """An event store directory. Cheap to create; nothing is read until used.

    ``on_wait(pid)`` is called when a write has to wait for another process's (pid if known).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        on_wait: Callable[[int | None], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_wait = on_wait
        self._held: Manifest | None = None  # the manifest, while this object holds the lock
        self._whole: set[str] = set()  # ids of batches found whole (checked once per object)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def lookups(self) -> Path:
        """The folder of the store's lookup tables (``lookup`` and ``inputlookup`` read it)."""
        return self.path / LOOKUPS

    # --- reading -------------------------------------------------------------------------------
    def manifest(self) -> Manifest:
        """The committed manifest; StoreMissingError when there is no store at ``path``."""
        if self._held is not None:
            return self._held
        return read_manifest(self.path)

    def files(self) -> list[str]:
        """Absolute paths of every committed Parquet file, in ingest order."""
        return [str(self.path / f) for b in self.manifest()["batches"] for f in b["files"]]

    def damage(self) -> list[Damage]:
        """Every committed batch whose files are missing or not whole (the deep check,
        store/integrity.py)."""
        return damaged_batches(self.path, self.manifest()["batches"], deep=True)

    def _checked(self, manifest: Manifest) -> Manifest:
        """``manifest``, once its batches are found whole (each checked once per object)."""
        fresh = [b for b in manifest["batches"] if b["id"] not in self._whole]
        damaged = damaged_batches(self.path, fresh)
        if damaged:
            raise damage_error(self.path, damaged)
        self._whole.update(b["id"] for b in fresh)
        return manifest

    def checked_files(self) -> tuple[list[str], dict[str, str]]:
        """Every committed Parquet file (absolute paths, ingest order), once its batches are
        found whole, and the columns they carry (lower-cased name -> stored spelling)."""
        manifest = self._checked(self.manifest())
        files = [str(self.path / f) for b in manifest["batches"] for f in b["files"]]
        return files, manifest["columns"]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory DuckDB connection whose view ``events`` spans every committed file."""
        from huntbook.store.views import DIALECT, events_view

        files, columns = self.checked_files()
        con = self._connection()
        con.execute(events_view(files, columns).sql(dialect=DIALECT))
        return con

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory DuckDB connection that can read the store's files, without the view
        (for a reader that makes its own views over some of them: huntbook.detect.scan)."""
        return self._connection()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory DuckDB connection that can read the store's files (each file's
        Parquet footer read once: ``views.cache_footers``)."""
        import duckdb

        from huntbook.store.views import cache_footers

        return cache_footers(duckdb.connect())

    def catalog(self) -> Catalog:
        """index -> sourcetype -> field -> type, over every committed batch."""
        merged: Catalog = {}
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
        from huntbook.store.views import DIALECT, stats_query

        with contextlib.closing(self.connect()) as con:
            rows = con.execute(stats_query().sql(dialect=DIALECT)).fetchall()
        return stats_rows(rows)

    def keep_summaries(self) -> Path:
        """Opt in to the analytics' per-batch summaries (analytics/summary.py): make the folder
        the next hunt or findings run writes them to. The folder.

        Raises:
            StoreMissingError: there is no store at ``path``.
        """
        self.manifest()
        folder = self.path / SUMMARIES
        folder.mkdir(exist_ok=True)
        return folder

    def event_count(self) -> int:
        """Events in every committed batch (from the manifest)."""
        return sum(int(b["events"]) for b in self.manifest()["batches"])

    def inputs(self) -> list[InputEntry]:
        """Every ingested input file: path, sha256, events, index (for stamping reports)."""
        return [InputEntry(**i) for b in self.manifest()["batches"] for i in b["inputs"]]

    # --- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, *, create: bool = False, check: bool = True) -> Iterator[None]:
        """Hold the writer lock and clear work left over by a crashed writer.

        ``create``: make the store if there is none (ingest); otherwise StoreMissingError.
        ``check``: StoreDamagedError if a batch is damaged (off for ``repair``); batches of older
        stores, deep-checked, get their files' sizes recorded. A store that cannot be written
        (permissions, read-only file system) is a StoreError.
        """
        with _writable(self.path):
            if create:
                self.path.mkdir(parents=True, exist_ok=True)
            else:
                read_manifest(self.path)  # StoreMissingError before anything is created
            with store_lock(self.path, self.on_wait):
                if create and not (self.path / MANIFEST).is_file():
                    write_manifest(self.path, empty_manifest())
                held = read_manifest(self.path)  # nobody else writes while the lock is held
                if check:
                    self._sized(self._checked(held))
                self._clean_leftovers(held)
                self._held = held
                try:
                    yield
                finally:
                    self._held = None

    def _sized(self, manifest: Manifest) -> None:
        """Record the sizes of batch files of stores written before sizes were (found whole)."""
        unsized = [b for b in manifest["batches"] if "bytes" not in b]
        for batch in unsized:
            batch["bytes"] = sizes(self.path, batch["files"])
        if unsized:
            write_manifest(self.path, manifest)

    def _clean_leftovers(self, manifest: Manifest) -> None:
        """Drop what a crashed writer left: work files, uncommitted batches, unlisted files."""
        shutil.rmtree(self.path / TMP, ignore_errors=True)
        listed = {b["id"]: set(b["files"]) for b in manifest["batches"]}
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

    def _compact_batch(self, manifest: Manifest, entry: BatchEntry) -> None:
        parts = [self.path / f for f in entry["files"]]
        work = self.path / TMP
        work.mkdir(parents=True, exist_ok=True)
        name = f"{EVENTS}/{entry['id']}/{MERGED}"
        merged = merge_parts(parts, work / f"{entry['id']}.parquet")
        fsync_path(merged)
        merged.replace(self.path / name)
        fsync_path((self.path / name).parent)
        entry["files"] = [name]
        entry["bytes"] = sizes(self.path, entry["files"])
        write_manifest(self.path, manifest)
        for part in parts:
            part.unlink()

    def repair(self) -> list[Damage]:
        """Drop every damaged batch from the manifest, then its folder; returns what was dropped.

        Nothing else is deleted. The dropped batches' input files are no longer in the store, so
        ingesting them again brings their events back.
        """
        with self.writing(check=False):
            manifest = self.manifest()
            damaged = damaged_batches(self.path, manifest["batches"], deep=True)
            dropped = {d.batch["id"] for d in damaged}
            if dropped:
                kept = [b for b in manifest["batches"] if b["id"] not in dropped]
                self._held = {**manifest, "batches": kept}
                write_manifest(self.path, self._held)
            for batch_id in sorted(dropped):
                shutil.rmtree(self.path / EVENTS / batch_id, ignore_errors=True)
        return damaged

    def write_batch(
        self,
        events: Iterable[Mapping[str, Any]],
        inputs: list[InputEntry] | None = None,
    ) -> BatchEntry | None:
        """Write ``events`` as one atomic batch (caller holds ``writing()``); returns its entry
        (None when there was nothing to commit)."""

        def fill(writer: BatchWriter) -> None:
            for event in events:
                writer.add(event)

        return self.batch_from(fill, inputs)

    def work_dir(self, name: str) -> Path:
        """A folder for work files (under tmp/, cleared by the next writer if left behind)."""
        folder = self.path / TMP / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def batch_from(
        self,
        fill: Callable[[BatchWriter], None],
        inputs: list[InputEntry] | None = None,
    ) -> BatchEntry | None:
        """Run ``fill(writer)`` and commit what it wrote as one batch; on error nothing is kept.

        Returns the batch's manifest entry; None when there was nothing to commit (no events and
        no inputs)."""
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
            return self._commit(manifest, batch_id, writer, inputs or [])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _commit(
        self,
        manifest: Manifest,
        batch_id: str,
        writer: BatchWriter,
        inputs: list[InputEntry],
    ) -> BatchEntry | None:
        if not writer.events and not inputs:
            return None  # nothing to commit
        final = self.path / EVENTS / batch_id
        parts = writer.assemble()
        recorded = [part.stat().st_size for part in parts]
        if parts:
            for part in parts:
                fsync_path(part)
            fsync_path(writer.out_dir)
            final.parent.mkdir(parents=True, exist_ok=True)
            writer.out_dir.replace(final)
            fsync_path(final.parent)
        entry: BatchEntry = {
            "id": batch_id,
            "files": [f"{EVENTS}/{batch_id}/{p.name}" for p in parts],
            "bytes": recorded,
            "events": writer.events,
            "first_cd": manifest["next_cd"],
            "inputs": inputs,
            "catalog": writer.field_catalog(),
            "committed": _now(),
        }
        manifest = {
            **manifest,
            "batches": [*manifest["batches"], entry],
            "next_cd": writer.next_cd,
            "next_batch": manifest["next_batch"] + 1,
            "columns": writer.columns,
            "variants": writer.variants,
        }
        try:
            write_manifest(self.path, manifest)
        except BaseException:
            self._uncommitted(batch_id, manifest["next_batch"])
            raise
        if self._held is not None:
            self._held = manifest
        self._whole.add(batch_id)
        return entry

    def _uncommitted(self, batch_id: str, next_batch: int) -> None:
        """After a failed manifest write: the id is not used again, and unless the manifest on
        disk names the batch after all, its moved folder goes (a retry must find no leftovers)."""
        if self._held is not None:
            self._held = {**self._held, "next_batch": next_batch}
        with contextlib.suppress(StoreError, OSError):
            if all(b["id"] != batch_id for b in read_manifest(self.path)["batches"]):
                shutil.rmtree(self.path / EVENTS / batch_id, ignore_errors=True)
