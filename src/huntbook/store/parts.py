"""Normalized events to Arrow parts, in bounded memory, in the process that normalized them.

A ``PartWriter`` gathers events column by column and writes every ``chunk_rows`` events one part:
an Arrow IPC file (lz4) whose columns carry the *field* names, ``_time`` first. Parts are work
files: the batch (store/writer.py) decides the store's column names (case variants), numbers the
rows (``_cd``) and assembles the parts into the batch's Parquet file at commit. So the same code
runs in the ingesting process and in worker processes (ingest/workers.py), and what reaches the
batch is only the list of part files, their row counts and the fields they hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from huntbook.errors import StoreError
from huntbook.normalize.types import CD, LIST, TIME, field_type

PART_ROWS = 8_192  # ~120 MB of Python objects at most per process; parts are joined into row groups
PART_COMPRESSION = "lz4"  # read back once, at commit: fast beats small
ARROW_TYPES = {
    "double": pa.float64(),
    "bigint": pa.int64(),
    "text": pa.string(),
    LIST: pa.list_(pa.string()),
}

Catalog = dict[tuple[str, str], set[str]]  # (index, sourcetype) -> fields holding a value


def _lean_pool() -> pa.MemoryPool:
    """jemalloc where this pyarrow has it, else the system allocator: both hand freed memory
    back, where the default (mimalloc) kept ~70-100 MB more per process in an ingest here."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.system_memory_pool()


POOL = _lean_pool()


@contextmanager
def lean_arrow_memory() -> Iterator[None]:
    """Arrow allocates from ``POOL`` inside the block (buffers keep the pool they came from)."""
    before = pa.default_memory_pool()
    pa.set_memory_pool(POOL)
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _as_text(name: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        raise StoreError(
            f"field {name!r} has a list value but is not declared multivalue "
            "(normalize/mappings/multivalue.yaml)"
        )
    return value if isinstance(value, str) else str(value)


def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [v if isinstance(v, str) else str(v) for v in items if v is not None and v != ""]


@dataclass
class Parts:
    """What a PartWriter wrote: part files in order, their rows, fields by index and sourcetype."""

    paths: list[Path] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    catalog: Catalog = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(self.rows)

    def delete(self) -> None:
        """Delete the part files (work nobody will take) and forget them."""
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths, self.rows, self.catalog = [], [], {}

    def extend(self, other: Parts) -> None:
        self.paths.extend(other.paths)
        self.rows.extend(other.rows)
        for key, names in other.catalog.items():
            self.catalog.setdefault(key, set()).update(names)


def read_part(path: Path) -> pa.Table:
    """A part written by ``PartWriter`` (memory-mapped: no copy until the columns are used)."""
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).read_all()


def part_schema(path: Path) -> pa.Schema:
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).schema


def _names(events: list[Mapping[str, Any]]) -> list[str]:
    """The fields of ``events`` in order of first appearance (``_time`` and ``_cd`` left out)."""
    seen: dict[str, Any] = {}
    for event in events:
        seen.update(event)
    return [name for name in seen if name not in (TIME, CD)]


def table_by_value(events: list[Mapping[str, Any]], times: list[float]) -> pa.Table:
    """The reference builder: every value put in its column one by one in Python.

    ``None`` and ``""`` are no value; a text field's value is turned into text, a list in it is
    refused (StoreError); a multivalue field's value is made a list of its texts, empty ones left
    out, and an empty list is no value.
    """
    n = len(events)
    columns: dict[str, list[Any]] = {name: [None] * n for name in _names(events)}
    listed = {name: is_list(name) for name in columns}
    for row, event in enumerate(events):
        for name, value in event.items():
            if value is None or value == "" or name in (TIME, CD):
                continue
            if listed[name]:
                value = _as_list(value)
                if not value:
                    continue
            elif type(value) is not str:
                value = _as_text(name, value)
            columns[name][row] = value
    arrays = {TIME: pa.array(times, pa.float64())}
    for name, values in columns.items():
        arrays[name] = pa.array(values, ARROW_TYPES[field_type(name)])
    return pa.table(arrays)


_UNCONVERTED = (pa.ArrowTypeError, pa.ArrowInvalid)
SLICE_ROWS = 512  # events converted together (measured: 8,192 at once cost ~30% more)


def table_by_struct(events: list[Mapping[str, Any]], times: list[float]) -> pa.Table | None:
    """The same table as ``table_by_value``, built by Arrow's own converter (C++), or None when
    a value is one that only ``table_by_value`` turns into text (a number, a scalar in a
    multivalue field, an empty multivalue item): then the reference builds the table."""
    if not all(_plain_lists(events, name) for name in _names(events) if is_list(name)):
        return None
    try:
        tables = [_converted(events[i : i + SLICE_ROWS]) for i in range(0, len(events), SLICE_ROWS)]
    except _UNCONVERTED:
        return None
    table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    arrays = {TIME: pa.chunked_array([pa.array(times, pa.float64())])}
    for name in table.column_names:
        fixed = _as_stored(table.column(name))
        if fixed is None:
            return None
        arrays[name] = fixed
    return pa.table(arrays)


def _converted(events: list[Mapping[str, Any]]) -> pa.Table:
    """One slice of a part's events as a table of the fields they have (Arrow's converter looks
    up each of these fields in each event: a slice has fewer of them than the whole part)."""
    fields = [pa.field(name, ARROW_TYPES[field_type(name)]) for name in _names(events)]
    return pa.Table.from_struct_array(pa.array(events, pa.struct(fields)))


def _plain_lists(events: list[Mapping[str, Any]], name: str) -> bool:
    """Every value of multivalue field ``name`` is absent or a list (a str would be cut into
    characters by Arrow's converter)."""
    return all(type(v) in (list, tuple) for e in events if (v := e.get(name)) is not None)


def _as_stored(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """A converted column as ``table_by_value`` has it: ``""`` as no value; None for a list
    column with an empty list or an empty or missing item (left to the reference)."""
    if pa.types.is_list(column.type):
        items = pc.list_flatten(column)
        empty = pc.any(pc.equal(pc.list_value_length(column), 0)).as_py()
        if empty or items.null_count or pc.any(pc.equal(items, "")).as_py():
            return None
        return column
    blank = pc.equal(column, "")
    if pc.any(blank).as_py():
        return pc.if_else(blank, pa.scalar(None, column.type), column)
    return column


BUILDERS = (table_by_struct, table_by_value)  # the first that gives a table builds the part


class PartWriter:
    """Collects events and writes them as ``out_dir/<prefix>-NNNNN.arrow`` parts."""

    def __init__(self, out_dir: Path, prefix: str, chunk_rows: int = PART_ROWS) -> None:
        self.out_dir = out_dir
        self.prefix = prefix
        self.chunk_rows = chunk_rows
        self.written = Parts()
        self._reset()

    @property
    def events(self) -> int:
        """Events added so far (written or still gathered)."""
        return self.written.events + len(self._events)

    def _reset(self) -> None:
        self._events: list[Mapping[str, Any]] = []
        self._times: list[float] = []

    def add(self, event: Mapping[str, Any]) -> None:
        """Append one normalized event; a full chunk is written out at once."""
        try:
            self._times.append(float(event[TIME]))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"event without a numeric _time: {exc}") from exc
        self._events.append(event)
        if len(self._events) >= self.chunk_rows:
            self.flush()

    def _table(self) -> pa.Table:
        for build in BUILDERS:
            table = build(self._events, self._times)
            if table is not None:
                return table
        raise StoreError("no builder made a table of the part")  # table_by_value always does

    def _catalog(self, filled: set[str]) -> None:
        """Note the fields each (index, sourcetype) has, of those holding a value in the part."""
        seen: Catalog = {}
        for event in self._events:
            key = (str(event.get("index") or ""), str(event.get("sourcetype") or ""))
            names = seen.get(key)
            if names is None:
                names = seen[key] = set()
            names.update(event)
        for key, names in seen.items():
            self.written.catalog.setdefault(key, set()).update(names & filled)

    def flush(self) -> None:
        """Write the gathered events (if any) as one part; fields only ever empty are not noted."""
        rows = len(self._events)
        if not rows:
            return
        table = self._table()
        fields = table.column_names[1:]  # after _time
        self._catalog({n for n in fields if table.column(n).null_count < rows})
        path = self.out_dir / f"{self.prefix}-{len(self.written.paths):05d}.arrow"
        options = ipc.IpcWriteOptions(compression=PART_COMPRESSION)
        with (
            pa.OSFile(str(path), "wb") as sink,
            ipc.new_file(sink, table.schema, options=options) as out,
        ):
            out.write_table(table)
        self.written.paths.append(path)
        self.written.rows.append(rows)
        self._reset()

    def close(self) -> Parts:
        """Write what is left and say what was written."""
        self.flush()
        return self.written


def is_list(name: str) -> bool:
    return field_type(name) == LIST
