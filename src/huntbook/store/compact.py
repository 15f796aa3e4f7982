"""One Parquet file per batch: the writer's parts merged, row groups kept, rows in order.

The writer flushes a part every 16,384 events so memory stays flat, and parts differ in their
columns (a sparse field appears in some parts only). A reader pays for every file it opens: DuckDB
reads each footer to bind the view and opens each file per query, about 0.7 ms a file here, so a
10-million-event store of 618 parts spent 0.45 s of every search on files alone (BENCHMARKS.md
"Search"). Merging a batch's parts into one file, one row group per part, removes that cost and
keeps memory flat: one part is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from huntbook.store.writer import COMPRESSION

MERGED = "data.parquet"


def merged_schema(parts: Sequence[Path]) -> pa.Schema:
    """Every column of every part, in order of first appearance (types agree by name)."""
    return pa.unify_schemas([pq.read_schema(p) for p in parts])


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order, the ones it lacks as nulls."""
    n, present = table.num_rows, set(table.column_names)
    columns = [table.column(f.name) if f.name in present else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def merge_parts(parts: Sequence[Path], target: Path) -> Path:
    """Write ``parts`` as one Parquet file at ``target``: each part one row group, same rows."""
    schema = merged_schema(parts)
    with pq.ParquetWriter(target, schema, compression=COMPRESSION) as out:
        for part in parts:
            table = pq.read_table(part)
            out.write_table(_conformed(table, schema), row_group_size=max(table.num_rows, 1))
    return target


def merge_in_place(parts: Sequence[Path]) -> list[Path]:
    """A folder's parts replaced by their merge (in the same folder); one part stays as it is."""
    if len(parts) < 2:
        return list(parts)
    target = merge_parts(parts, parts[0].parent / MERGED)
    for part in parts:
        part.unlink()
    return [target]
