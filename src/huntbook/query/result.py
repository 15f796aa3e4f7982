"""``SearchResult``: what a search returns (an Arrow table plus the SQL that made it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class SearchResult:
    """Rows of a search. ``rows()`` gives Splunk-shaped values (see ``splunk_value``)."""

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
        """A pandas DataFrame (needs pandas installed).

        Raises:
            EngineError: pandas is not installed.
        """
        try:
            import pandas  # noqa: F401
        except ImportError:
            from huntbook.errors import EngineError

            raise EngineError("to_pandas() needs pandas (pip install pandas)") from None
        return self.table.to_pandas()

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row; multivalue fields are lists, ``_time`` a float (epoch seconds)."""
        return [{k: splunk_value(k, v) for k, v in row.items()} for row in self.table.to_pylist()]


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
