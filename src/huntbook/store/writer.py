"""One batch: its events gathered as parts, then written as one Parquet file at commit.

Events reach a batch either one by one (``add``, through a PartWriter of its own) or as parts
another PartWriter wrote, maybe in a worker process (``absorb``). At commit ``assemble`` reads the
parts in order and writes the batch's file (store/compact.py), one row group per part: it numbers
the rows (``_cd``, ingest order) and gives every field its column.

DuckDB and Spark compare column names case-insensitively; Splunk field names are case-sensitive
(Sysmon's ``User`` and the Windows add-on's ``user`` are different fields). The first spelling of a
lower-cased name is its column; a later spelling that differs only in case (a *variant*) gets a
column of its own, ``<name>~<n>``, recorded in the manifest and handed to the query compiler by
``Store.columns()``. Columns are decided here, in part order, so they do not depend on which
process wrote which part.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from huntbook.normalize.types import CD, TIME, column_owners, field_type
from huntbook.store.compact import MERGED, write_merged
from huntbook.store.parts import (
    ARROW_TYPES,
    PART_ROWS,
    Parts,
    PartWriter,
    numbers,
    part_schema,
    read_part,
)

ROW_GROUP_ROWS = 16_384  # rows of a row group of the batch file: parts are joined up to this
OWN_PARTS = "parts"  # the batch's own PartWriter writes here, inside the batch's work folder


class BatchWriter:
    """Collects one batch's parts and assembles them as ``out_dir/data.parquet``."""

    def __init__(
        self,
        out_dir: Path,
        columns: dict[str, str],
        first_cd: int,
        chunk_rows: int = ROW_GROUP_ROWS,
        variants: dict[str, str] | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.columns = columns  # lower-cased name -> the spelling that owns that column
        self.columns.update({TIME: TIME, CD: CD})
        self.variants = variants if variants is not None else {}  # case variant -> its column
        self.next_cd = first_cd
        self.chunk_rows = chunk_rows
        self.gathered = Parts()
        self._own: PartWriter | None = None
        self._own_count = 0

    @property
    def events(self) -> int:
        return self.gathered.events + (self._own.events if self._own else 0)

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

    def add(self, event: Mapping[str, Any]) -> None:
        """Append one normalized event (after whatever was absorbed before)."""
        if self._own is None:
            folder = self.out_dir / OWN_PARTS
            folder.mkdir(parents=True, exist_ok=True)
            self._own = PartWriter(folder, f"own{self._own_count}", min(PART_ROWS, self.chunk_rows))
            self._own_count += 1
        self._own.add(event)

    def absorb(self, parts: Parts) -> None:
        """Take parts written elsewhere as the batch's next rows; the batch deletes them."""
        self.flush()
        self.gathered.extend(parts)

    def flush(self) -> None:
        """Write out what ``add`` gathered, so it comes before anything absorbed next."""
        if self._own is not None:
            self.gathered.extend(self._own.close())
            self._own = None

    def assemble(self) -> list[Path]:
        """Write the batch's file from its parts (deleted after); the list of files written."""
        self.flush()
        paths = self.gathered.paths
        if not paths:
            return []
        schemas = [self._renamed(part_schema(p)) for p in paths]
        schema = self._with_owners(pa.unify_schemas(schemas))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        target = write_merged(schema, self._numbered(paths), self.out_dir / MERGED)
        for path in paths:
            path.unlink(missing_ok=True)
        shutil.rmtree(self.out_dir / OWN_PARTS, ignore_errors=True)
        return [target]

    def _renamed(self, schema: pa.Schema) -> pa.Schema:
        fields = [pa.field(self.column_of(f.name), f.type) for f in schema]
        fields.insert(1, pa.field(CD, pa.int64()))
        return pa.schema(fields)

    def _numbered(self, paths: list[Path]) -> Iterator[pa.Table]:
        """The parts as row groups of up to ``chunk_rows`` rows: parts (8,192 rows at most, fewer
        for a small file or a piece of a big one) are joined up to that, with their columns
        renamed for the store and their rows numbered from ``next_cd``."""
        group: list[pa.Table] = []
        rows = 0
        for path in paths:
            table = read_part(path)
            if group and rows + table.num_rows > self.chunk_rows:
                yield self._numbered_group(group)
                group, rows = [], 0
            group.append(table.rename_columns([self.column_of(n) for n in table.column_names]))
            rows += table.num_rows
        if group:
            yield self._numbered_group(group)

    def _numbered_group(self, tables: list[pa.Table]) -> pa.Table:
        table = (
            tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
        )
        n = table.num_rows
        cds = numbers(range(self.next_cd, self.next_cd + n), "q", pa.int64())
        self.next_cd += n
        return table.add_column(1, CD, cds)

    def _with_owners(self, schema: pa.Schema) -> pa.Schema:
        """Beside a variant (``user~1``), its owner's column (``User``), empty if need be.

        Code that resolves names case-insensitively (plain SQL on ``User``) must find a column of
        that name, not fall through to an alias or fail: an all-null one is read as absent.
        """
        names = set(schema.names)
        for variant, column in self.variants.items():
            owner = self.columns[variant.lower()]
            if column in names and owner not in names:
                schema = schema.append(pa.field(owner, ARROW_TYPES[field_type(owner)]))
                names.add(owner)
        return schema

    def field_catalog(self) -> dict[str, dict[str, dict[str, str]]]:
        """index -> sourcetype -> field -> type, for the fields this batch stored."""
        catalog: dict[str, dict[str, dict[str, str]]] = {}
        for (index, sourcetype), names in sorted(self.gathered.catalog.items()):
            fields = sorted((names - {TIME, CD}) | {TIME, CD})
            catalog.setdefault(index, {})[sourcetype] = {f: field_type(f) for f in fields}
        return catalog
