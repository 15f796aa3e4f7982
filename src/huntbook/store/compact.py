"""One Parquet file per batch: tables written as row groups of one file, rows in order.

A reader pays for every file it opens: DuckDB reads each footer to bind the view and opens each
file per query, about 0.7 ms a file here, so a 10-million-event store of 618 parts spent 0.45 s of
every search on files alone (BENCHMARKS.md "Search"). A batch is therefore written as one file,
one row group per part (store/writer.py), and ``Store.compact`` merges the batches of stores
written before that. Memory stays flat: one table is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

COMPRESSION = "zstd"
MERGED = "data.parquet"


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order, the ones it lacks as nulls."""
    n, present = table.num_rows, set(table.column_names)
    columns = [table.column(f.name) if f.name in present else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def write_merged(schema: pa.Schema, tables: Iterable[pa.Table], target: Path) -> Path:
    """Each of ``tables`` as one row group of ``target``, conformed to ``schema``."""
    with pq.ParquetWriter(target, schema, compression=COMPRESSION) as out:
        for table in tables:
            out.write_table(_conformed(table, schema), row_group_size=max(table.num_rows, 1))
    return target


def merge_parts(parts: Sequence[Path], target: Path) -> Path:
    """Parquet ``parts`` as one file at ``target``: every column of every part, same rows."""
    schema = pa.unify_schemas([pq.read_schema(p) for p in parts])
    return write_merged(schema, (pq.read_table(p) for p in parts), target)
