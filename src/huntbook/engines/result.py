"""What a search returns: ``SearchStream`` (record batches as the engine makes them),
``SearchResult`` (the whole Arrow table, for notebooks) and ``KeptResult`` (the row count and only
the first rows, for hunts)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class SearchResult:
    """Rows of a search. ``rows()`` gives Splunk-shaped values (see ``splunk_value``).

    ``to_arrow()`` keeps ``_time`` as float epoch seconds (the store's type, what ``rows()`` gives);
    ``to_pandas()`` turns it into timezone-aware UTC datetimes.
    """

    table: pa.Table
    sql: str
    elapsed: float
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_pandas(self) -> Any:
        """A pandas DataFrame; ``_time`` as ``datetime64[..., UTC]`` (needs ``huntbook[notebook]``).

        Raises:
            EngineError: pandas is not installed.
        """
        try:
            import pandas
        except ImportError:
            from huntbook.errors import EngineError

            raise EngineError(
                "to_pandas() needs pandas: pip install 'huntbook[notebook]'"
            ) from None
        frame = self.table.to_pandas()
        if "_time" in frame.columns:
            frame["_time"] = pandas.to_datetime(frame["_time"], unit="s", utc=True)
        return frame

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """One dict per row (the first ``limit`` rows when given: only those are converted);
        multivalue fields are lists, ``_time`` a float (epoch seconds)."""
        table = self.table if limit is None else self.table.slice(0, limit)
        return shaped_rows(table.to_pylist())


@dataclass(frozen=True)
class KeptResult:
    """A search read to its end but only its first rows kept: ``len()`` is every row it returned,
    ``rows()`` gives the kept ones (``table``), shaped as ``SearchResult.rows`` shapes them."""

    table: pa.Table
    hits: int
    sql: str
    elapsed: float
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def __len__(self) -> int:
        return self.hits

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """One dict per kept row (the first ``limit`` of them when given)."""
        table = self.table if limit is None else self.table.slice(0, limit)
        return shaped_rows(table.to_pylist())


class SearchStream:
    """A running search read batch by batch (constant memory); close it, or use ``with``.

    ``batches`` yields Arrow record batches and raises the engine's errors as huntbook errors;
    ``close`` stops the search and frees its connection and timer. ``events`` and ``named`` come
    from the compiled query (raw events; the columns the query named, see ``CompiledQuery``).
    """

    def __init__(
        self,
        schema: pa.Schema,
        batches: Iterator[pa.RecordBatch],
        sql: str,
        warnings: list[str],
        close: Callable[[], None],
        *,
        events: bool = False,
        named: frozenset[str] | None = frozenset(),
    ) -> None:
        self.schema = schema
        self.sql = sql
        self.warnings = warnings
        self.events = events
        self.named = named
        self._batches = batches
        self._close = close
        self._started = time.perf_counter()

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def batches(self) -> Iterator[pa.RecordBatch]:
        return self._batches

    def rows(self) -> Iterator[list[dict[str, Any]]]:
        """Splunk-shaped rows, one list per record batch."""
        for batch in self._batches:
            yield shaped_rows(batch.to_pylist())

    def collect(self) -> SearchResult:
        """Read every batch into one ``SearchResult`` and close the stream."""
        with self:
            table = pa.Table.from_batches(list(self._batches), schema=self.schema)
        return SearchResult(table, self.sql, time.perf_counter() - self._started, self.warnings)

    def keep(self, limit: int) -> KeptResult:
        """Read every batch, keep the first ``limit`` rows and the count, and close the stream:
        memory follows ``limit`` and the engine's batch, not the result's length."""
        kept: list[pa.RecordBatch] = []
        hits = 0
        with self:
            for batch in self._batches:
                room = limit - hits
                if room > 0:
                    kept.append(batch.slice(0, room))
                hits += batch.num_rows
        table = pa.Table.from_batches(kept, schema=self.schema).combine_chunks()
        elapsed = time.perf_counter() - self._started
        return KeptResult(table, hits, self.sql, elapsed, self.warnings)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> SearchStream:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def shaped_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: splunk_value(k, v) for k, v in row.items()} for row in rows]


def splunk_value(name: str, value: Any) -> Any:
    """Shape a value as Splunk shows it.

    A multivalue with one value is that value and an empty one is null (Splunk has neither);
    whole-number doubles are ints (Splunk prints ``3``, not ``3.0``), except ``_time``.
    """
    if isinstance(value, list):
        if not value:
            return None
        return value[0] if len(value) == 1 else value
    if isinstance(value, float) and name != "_time" and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def iso_time(epoch: Any) -> Any:
    """Epoch seconds -> ``2019-05-18T21:04:13.123000Z`` (UTC), the export form of ``_time`` in
    every output (CLI json/jsonl/csv/table, the web API, detect); other values pass through."""
    if not isinstance(epoch, int | float):
        return epoch
    return dt.datetime.fromtimestamp(float(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cell_text(value: Any) -> str:
    """A value as one text cell (CSV, terminal): nothing for None, a multivalue one per line."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(cell_text(v) for v in value)
    return str(value)
