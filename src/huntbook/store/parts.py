"""Normalized events to Arrow parts, in bounded memory, in the process that normalized them.

A ``PartWriter`` gathers events column by column and writes every ``chunk_rows`` events one part:
an Arrow IPC file whose columns carry the *field* names, ``_time`` first. Parts are work
files: the batch (store/writer.py) decides the store's column names (case variants), numbers the
rows (``_cd``) and assembles the parts into the batch's Parquet file at commit. So the same code
runs in the ingesting process and in worker processes (ingest/workers.py), and what reaches the
batch is only the list of part files, their row counts and the fields they hold.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from huntbook.errors import StoreError
from huntbook.normalize.types import CD, LIST, TIME, field_type

PART_ROWS = 8_192  # ~120 MB of Python objects at most per process; parts are joined into row groups
# Read back once, at commit, memory-mapped: uncompressed, the batch takes the columns as they are
# on disk. lz4 cost ~0.6 of the ~4.4 CPU-s of a two-process JSON-lines ingest (BENCHMARKS.md
# "Ingest"), for parts 2.3x the size of their JSON instead of 0.23x, kept until their batch commits.
PART_COMPRESSION = None
FIRST_PLACES = 1024  # rows a new column has room for before it grows
ARROW_TYPES = {
    "double": pa.float64(),
    "bigint": pa.int64(),
    "text": pa.string(),
    LIST: pa.list_(pa.string()),
}

_Slot = tuple[list[Any], bool]  # a value (or None) for every row of the chunk; multivalue?
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


# Arrow arrays are built here without ``pa.array``: on a list (or a NumPy array) it first asks
# whether it was handed a pandas object, which imports pandas where it is installed (the notebook
# and test extras): ~0.25 s of CPU in every process that ingests, a third of an ingest of 1,212
# EVTX records.


def strings(values: Iterable[str | None]) -> pa.Array:
    """Texts (None: no value) as an Arrow string array."""
    builder = pa.lib.StringBuilder()
    builder.append_values(values)
    return builder.finish()


def numbers(values: Iterable[float], code: str, kind: pa.DataType) -> pa.Array:
    """Numbers as an Arrow array of ``kind``, through a Python ``array`` of type ``code``."""
    data = array(code, values)
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


def string_lists(values: list[list[str] | None]) -> pa.Array:
    """Lists of texts (None: no value) as an Arrow list<string> array."""
    offsets = array("i", [0])
    items: list[str] = []
    missing = bytearray((len(values) + 7) // 8)
    for row, value in enumerate(values):
        if value is None:
            missing[row >> 3] |= 1 << (row & 7)
        else:
            items.extend(value)
        offsets.append(len(items))
    mask = pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(missing)])
    return pa.ListArray.from_arrays(numbers(offsets, "i", pa.int32()), strings(items), mask=mask)


# a part column's Arrow array, by field type
BUILD: dict[str, Callable[[list[Any]], pa.Array]] = {"text": strings, LIST: string_lists}


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


class Gathered:
    """Events gathered column by column: a column per field, in the order fields were first seen.

    A column keeps a place for each row (a list doubling from ``FIRST_PLACES`` up to
    ``capacity``), so adding a value is one store.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.rows = 0
        self.times: list[float] = []
        self.slots: dict[str, _Slot | None] = {}  # None for _time and _cd: not columns here
        self.seen: Catalog = {}

    def _slot(self, name: str) -> _Slot | None:
        if name in (TIME, CD):
            slot = None
        else:
            places = min(self.capacity, max(FIRST_PLACES, 2 * self.rows))
            slot = ([None] * places, is_list(name))
        self.slots[name] = slot
        return slot

    def add(self, event: Mapping[str, Any]) -> None:
        """Append one normalized event."""
        row = self.rows
        try:
            self.times.append(float(event[TIME]))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"event without a numeric _time: {exc}") from exc
        slots = self.slots
        for name, value in event.items():
            try:
                slot = slots[name]
            except KeyError:
                slot = self._slot(name)
            if slot is None or value is None or value == "":
                continue
            values, listed = slot
            if listed:
                value = _as_list(value)
                if not value:
                    continue
            elif type(value) is not str:
                value = _as_text(name, value)
            try:
                values[row] = value
            except IndexError:  # more rows than places: double them (at most capacity)
                values.extend([None] * (min(self.capacity, 2 * row) - len(values)))
                values[row] = value
        key = (str(event.get("index") or ""), str(event.get("sourcetype") or ""))
        seen = self.seen.get(key)
        if seen is None:
            seen = self.seen[key] = set()
        seen.update(event)
        self.rows += 1

    def table(self) -> pa.Table:
        """The gathered events: ``_time`` first, then a column per field in first-seen order."""
        n = self.rows
        arrays = {TIME: numbers(self.times, "d", pa.float64())}
        for name, slot in self.slots.items():
            if slot is not None:
                values = slot[0]
                column = values if n == len(values) else values[:n] + [None] * (n - len(values))
                arrays[name] = BUILD[field_type(name)](column)
        return pa.table(arrays)


@dataclass
class Block:
    """Events already in columns (a compiled reader's): what a part needs to hold some of them.

    ``table``: ``_time`` first, then a column for every field any event has (text or list of
    text, as ``Gathered`` builds them); ``shapes``: the distinct sets of fields of its events with
    their ``(index, sourcetype)``; ``shape_of``: each row's shape; ``fields_of(row)``: that row's
    event's fields in their order. A part's columns are in first-seen order, and only a row with
    a field no row before it in the part had adds any: those rows' orders give the part's.
    """

    table: pa.Table
    shapes: list[tuple[frozenset[str], tuple[str, str]]]
    shape_of: list[int]
    fields_of: Callable[[int], Iterable[str]]


Segment = tuple[pa.Table, Catalog]  # rows of a part, their fields by (index, sourcetype)


def block_segment(block: Block, start: int, rows: int, before: Iterable[str]) -> Segment:
    """Rows ``start`` to ``start + rows`` of ``block`` after a part's fields ``before``, with the
    columns their events have, in first-seen order."""
    firsts: dict[int, int] = {}
    for row, shape in enumerate(block.shape_of[start : start + rows], start):
        firsts.setdefault(shape, row)
    names = dict.fromkeys(before)
    seen: Catalog = {}
    held: set[str] = set()
    for shape, row in firsts.items():
        fields, key = block.shapes[shape]
        seen.setdefault(key, set()).update(fields)
        held |= fields
        if not fields <= names.keys():
            names.update(dict.fromkeys(block.fields_of(row)))
    columns = [n for n in names if n in held and n not in (TIME, CD)]
    return block.table.slice(start, rows).select([TIME, *columns]), seen


def joined(segments: list[Segment]) -> Segment:
    """Segments of a part as one table: columns in first-seen order, missing values null."""
    if len(segments) == 1:
        return segments[0]
    names = dict.fromkeys(n for table, _ in segments for n in table.column_names)
    table = pa.concat_tables([t for t, _ in segments], promote_options="default")
    seen: Catalog = {}
    for _, other in segments:
        for key, fields in other.items():
            seen.setdefault(key, set()).update(fields)
    return table.select(list(names)), seen


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
        return self.written.events + self._rows

    def _reset(self) -> None:
        self._rows = 0
        self._segments: list[Segment] = []
        self._gathered = Gathered(self.chunk_rows)
        self._add = self._gathered.add

    def add(self, event: Mapping[str, Any]) -> None:
        """Append one normalized event; a full chunk is written out at once."""
        self._add(event)
        self._rows += 1
        if self._rows >= self.chunk_rows:
            self.flush()

    def add_block(self, block: Block) -> None:
        """Append events already in columns; full chunks are written out at once."""
        start, total = 0, block.table.num_rows
        while start < total:
            rows = min(total - start, self.chunk_rows - self._rows)
            self._seal()
            before = [n for table, _ in self._segments for n in table.column_names]
            self._segments.append(block_segment(block, start, rows, before))
            self._rows += rows
            start += rows
            if self._rows >= self.chunk_rows:
                self.flush()

    def _seal(self) -> None:
        """The events added one by one so far become a segment of the part."""
        if self._gathered.rows:
            self._segments.append((self._gathered.table(), self._gathered.seen))
            self._gathered = Gathered(self.chunk_rows)
            self._add = self._gathered.add

    def flush(self) -> None:
        """Write the gathered events (if any) as one part; fields only ever empty are not noted."""
        if not self._rows:
            return
        self._seal()
        table, seen = joined(self._segments)
        fields = table.column_names[1:]  # after _time
        filled = {n for n in fields if table.column(n).null_count < self._rows}
        for key, names in seen.items():
            self.written.catalog.setdefault(key, set()).update(names & filled)
        path = self.out_dir / f"{self.prefix}-{len(self.written.paths):05d}.arrow"
        options = ipc.IpcWriteOptions(compression=PART_COMPRESSION)
        with (
            pa.OSFile(str(path), "wb") as sink,
            ipc.new_file(sink, table.schema, options=options) as out,
        ):
            out.write_table(table)
        self.written.paths.append(path)
        self.written.rows.append(self._rows)
        self._reset()

    def close(self) -> Parts:
        """Write what is left and say what was written."""
        self.flush()
        return self.written


def is_list(name: str) -> bool:
    return field_type(name) == LIST
