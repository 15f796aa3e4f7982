"""Write normalized events as Parquet parts of one batch, in bounded memory.

Events are gathered column by column (sparse: only the rows that have a value) and written every
``chunk_rows`` events as one Parquet file, so memory stays flat whatever the input size. Each part
has its own schema (the fields its events carry); DuckDB's ``union_by_name`` stitches them together.

DuckDB and Spark compare column names case-insensitively; Splunk field names are case-sensitive
(Sysmon's ``User`` and the Windows add-on's ``user`` are different fields). The first spelling of a
lower-cased name is its column; a later spelling that differs only in case (a *variant*) gets a
column of its own, ``<name>~<n>``, recorded in the manifest and handed to the query compiler by
``Store.columns()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from huntbook.errors import StoreError
from huntbook.normalize.types import CD, LIST, TIME, column_owners, field_type

COMPRESSION = "zstd"
CHUNK_ROWS = 16_384  # ~100 MB of Python objects at most; one row group per part
ARROW_TYPES = {
    "double": pa.float64(),
    "bigint": pa.int64(),
    "text": pa.string(),
    LIST: pa.list_(pa.string()),
}


_UNSEEN: Any = object()  # a field not met yet in this chunk (None is taken: "not stored")
_Slot = tuple[Callable[[int], None], Callable[[Any], None], bool]  # row and value appenders


def _as_text(name: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        raise StoreError(
            f"field {name!r} has a list value but is not declared multivalue "
            "(normalize/mappings/multivalue.yaml)"
        )
    return value if isinstance(value, str) else str(value)


def _as_list(name: str, value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [v if isinstance(v, str) else str(v) for v in items if v is not None and v != ""]


class BatchWriter:
    """Collects one batch's events and writes them as ``out_dir/part-NNNNN.parquet`` files."""

    def __init__(
        self,
        out_dir: Path,
        columns: dict[str, str],
        first_cd: int,
        chunk_rows: int = CHUNK_ROWS,
        variants: dict[str, str] | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.columns = columns  # lower-cased name -> the spelling that owns that column
        self.columns.update({TIME: TIME, CD: CD})
        self.variants = variants if variants is not None else {}  # case variant -> its column
        self.next_cd = first_cd
        self.chunk_rows = chunk_rows
        self.parts: list[Path] = []
        self.events = 0
        self.catalog: dict[str, dict[str, set[str]]] = {}
        self._reset()

    def _reset(self) -> None:
        self._rows = 0
        self._times: list[float] = []
        self._cols: dict[str, tuple[list[int], list[Any]]] = {}
        self._kinds: dict[str, str] = {}
        self._slots: dict[str, _Slot | None] = {}
        self._seen: dict[tuple[str, str], set[str]] = {}

    def column_of(self, name: str) -> str:
        """The column of field ``name``: its own, or ``<name>~<n>`` for a case variant."""
        if name in self.variants:
            return self.variants[name]
        lower = name.lower()
        owner = self.columns.setdefault(lower, column_owners().get(lower, name))
        if owner == name:
            return name
        taken = {c.lower() for c in self.variants.values()}
        n = 1
        while f"{name}~{n}".lower() in taken:
            n += 1
        self.variants[name] = f"{name}~{n}"
        return self.variants[name]

    def _slot(self, name: str) -> _Slot | None:
        """Where values of field ``name`` go in this chunk (None for ``_time``/``_cd``)."""
        if name in (TIME, CD):
            slot = None
        else:
            col = self.column_of(name)
            rows, values = self._cols.setdefault(col, ([], []))
            self._kinds[col] = field_type(name)
            slot = (rows.append, values.append, self._kinds[col] == LIST)
        self._slots[name] = slot
        return slot

    def add(self, event: Mapping[str, Any]) -> None:
        """Append one normalized event; a full chunk is written out at once."""
        row = self._rows
        try:
            self._times.append(float(event[TIME]))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"event without a numeric _time: {exc}") from exc
        slots = self._slots
        for name, value in event.items():
            slot = slots.get(name, _UNSEEN)
            if slot is _UNSEEN:
                slot = self._slot(name)
            if slot is None or value is None or value == "":
                continue
            add_row, add_value, is_list = slot
            if is_list:
                value = _as_list(name, value)
                if not value:
                    continue
            elif type(value) is not str:
                value = _as_text(name, value)
            add_row(row)
            add_value(value)
        key = (str(event.get("index") or ""), str(event.get("sourcetype") or ""))
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = set()
        seen.update(event)
        self._rows += 1
        self.events += 1
        if self._rows >= self.chunk_rows:
            self.flush()

    def _note_catalog(self) -> None:
        # fields that only ever were empty are left out
        for (index, sourcetype), names in self._seen.items():
            kept = {n for n in names if n not in (TIME, CD) and self._cols[self.column_of(n)][0]}
            self.catalog.setdefault(index, {}).setdefault(sourcetype, set()).update(kept)

    def flush(self) -> None:
        """Write the gathered events (if any) as one Parquet part."""
        if not self._rows:
            return
        self._note_catalog()
        n = self._rows
        arrays = {
            TIME: pa.array(self._times, pa.float64()),
            CD: pa.array(range(self.next_cd, self.next_cd + n), pa.int64()),
        }
        for col, (rows, values) in self._cols.items():
            if len(rows) == n:  # a value in every row: no padding needed
                full = values
            else:
                full = [None] * n
                for i, v in zip(rows, values, strict=True):
                    full[i] = v
            arrays[col] = pa.array(full, ARROW_TYPES[self._kinds[col]])
        self._owner_columns(arrays, n)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"part-{len(self.parts):05d}.parquet"
        pq.write_table(pa.table(arrays), path, compression=COMPRESSION, row_group_size=CHUNK_ROWS)
        self.parts.append(path)
        self.next_cd += n
        self._reset()

    def _owner_columns(self, arrays: dict[str, Any], n: int) -> None:
        """Beside a variant (``user~1``), its owner's column (``User``), empty if need be.

        Code that resolves names case-insensitively (plain SQL on ``User``) must find a column of
        that name, not fall through to an alias or fail: an all-null one is read as absent.
        """
        for variant, column in self.variants.items():
            owner = self.columns[variant.lower()]
            if column in arrays and owner not in arrays:
                arrays[owner] = pa.nulls(n, ARROW_TYPES[field_type(owner)])

    def field_catalog(self) -> dict[str, dict[str, dict[str, str]]]:
        """index -> sourcetype -> field -> type, for the fields this batch stored."""
        return {
            index: {
                st: {f: field_type(f) for f in sorted(names | {TIME, CD})}
                for st, names in sts.items()
            }
            for index, sts in self.catalog.items()
        }
