"""The one error tree every huntbook failure belongs to.

Library code raises these; only ``huntbook.cli`` decides what to print and how to exit.

    HuntbookError
    ├── IngestError            a file could not be read or stored (names file and position)
    │   ├── UnrecognizedFormatError
    │   └── InputLimitError    an input over a safety limit, or not a regular file
    ├── MappingError           a field mapping (normalize/mappings/*.yaml) is malformed
    ├── StoreError             the event store is missing, locked or inconsistent
    │   ├── StoreMissingError  no store at the path given
    │   └── StoreDamagedError  a committed batch's files are missing or unreadable
    ├── QueryError             anything wrong with a query
    │   ├── SplSyntaxError     bad SPL text (line, column, caret under the query)
    │   │   └── UnsupportedSplError  a command/function/option huntbook does not implement
    │   ├── LookupAccessError  a lookup outside the folders a query may read
    │   ├── QueryRuntimeError  the engine failed while running a compiled query
    │   ├── QueryLimitError    a search hit its time or memory limit
    │   ├── MacroFileError     a search macro file is unreadable or malformed
    │   └── SigmaRuleError     a Sigma rule huntbook cannot convert (detect skips it, with why)
    ├── PlaybookError          a hunt document is malformed (line numbers)
    └── EngineError            an engine (DuckDB, Spark) is unknown or unavailable
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "EngineError",
    "HuntbookError",
    "IngestError",
    "InputLimitError",
    "LookupAccessError",
    "MacroFileError",
    "MappingError",
    "PlaybookError",
    "QueryError",
    "QueryLimitError",
    "QueryRuntimeError",
    "SigmaRuleError",
    "SourceLocation",
    "SplSyntaxError",
    "StoreDamagedError",
    "StoreError",
    "StoreMissingError",
    "UnrecognizedFormatError",
    "UnsupportedSplError",
    "did_you_mean",
]


@dataclass(frozen=True)
class SourceLocation:
    """Where in a file or query text something happened (1-based line and column)."""

    path: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.path or "<input>"]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.col is not None:
            parts.append(f"col {self.col}")
        return ", ".join(parts)


class HuntbookError(Exception):
    """Root of every error huntbook raises on purpose."""

    exit_code = 1


class IngestError(HuntbookError):
    """A file (or part of one) could not be ingested."""

    exit_code = 10


class UnrecognizedFormatError(IngestError):
    """No reader recognised the file."""


class InputLimitError(IngestError):
    """An input over a safety limit (archive member size, line length) or not a regular file."""


class MappingError(HuntbookError):
    """A field-mapping table is malformed."""


class StoreError(HuntbookError):
    """The event store is missing, locked or inconsistent."""

    exit_code = 13


class StoreMissingError(StoreError):
    """There is no event store at the path given (ingest creates one)."""


class StoreDamagedError(StoreError):
    """A committed batch's files are missing or unreadable (``huntbook repair`` drops it)."""


class QueryError(HuntbookError):
    """Something is wrong with a query."""

    exit_code = 12


class SplSyntaxError(QueryError):
    """SPL text that does not parse. The message shows the query with a caret under the spot."""

    def __init__(self, message: str, query: str = "", pos: int = 0) -> None:
        self.reason = message
        self.query = query
        self.pos = pos
        self.line, self.col = _line_col(query, pos)
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.query:
            return self.reason
        lines = self.query.split("\n")
        line = lines[self.line - 1] if self.line - 1 < len(lines) else ""
        text, offset = _excerpt(line, self.col)
        caret = " " * offset + "^"
        return f"Line {self.line}, Col {self.col}: {self.reason}\n  {text}\n  {caret}"


class UnsupportedSplError(SplSyntaxError):
    """A command, function or option that huntbook does not implement (yet)."""


class QueryRuntimeError(QueryError):
    """The engine failed while running a compiled query."""


class LookupAccessError(QueryError):
    """A lookup named a file outside the store's lookups folder and the --lookups folders."""


class QueryLimitError(QueryError):
    """A search hit its time limit (--timeout) or memory limit (--memory-limit)."""

    exit_code = 14


class MacroFileError(QueryError):
    """A search macro file (macros.conf, ESCU macros/*.yml) is unreadable or malformed."""


class SigmaRuleError(QueryError):
    """A Sigma rule huntbook cannot convert; ``huntbook detect`` lists it as skipped, with why."""


class PlaybookError(HuntbookError):
    """A hunt document is malformed; ``problems`` lists every (location, message)."""

    exit_code = 11

    def __init__(self, message: str, problems: list[tuple[SourceLocation, str]] | None = None):
        self.problems = problems or []
        super().__init__(message)


class EngineError(HuntbookError):
    """An engine is unknown or unavailable."""


_CONTEXT = 60  # characters shown on each side of an error's caret


def _excerpt(line: str, col: int) -> tuple[str, int]:
    """The part of ``line`` within ``_CONTEXT`` characters of column ``col`` (1-based), with
    ``...`` where it was cut, and the caret's offset in that excerpt."""
    start = max(0, col - 1 - _CONTEXT)
    end = col - 1 + _CONTEXT
    prefix = "..." if start else ""
    suffix = "..." if end < len(line) else ""
    return prefix + line[start:end] + suffix, len(prefix) + col - 1 - start


def _line_col(text: str, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean X?' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(name.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    if not close:
        return ""
    original = {c.lower(): c for c in choices}
    return f" Did you mean {original[close[0]]!r}?"
