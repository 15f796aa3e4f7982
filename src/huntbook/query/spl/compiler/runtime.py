"""What a compiled search needs on its DuckDB connection before it runs (issue 11).

Three things a single SELECT cannot carry: a subsearch's row count checked against Splunk's
``maxout`` (``RowCheck``: a warning when over), a lookup file written by ``outputlookup``
(``LookupWrite``: the rows at that point of the pipeline, written with pyarrow into the store's
``lookups/`` folder), and a Python function the SQL calls (``PythonFunction``: ``iplocation``'s
MaxMind reader). ``prepare(con, ...)`` does them in that order: functions, writes, checks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlglot import exp

from huntbook.errors import LookupAccessError

SUBSEARCH_MAXOUT = 10_000  # Splunk's [subsearch] maxout: results a subsearch passes on


@dataclass(frozen=True)
class RowCheck:
    """``select`` counts rows (up to ``limit`` + 1); more than ``limit`` gives ``message``."""

    select: exp.Select
    limit: int
    message: str


@dataclass(frozen=True)
class LookupWrite:
    """``outputlookup``: ``select``'s rows (every column text) written to ``path`` as CSV."""

    select: exp.Select
    path: Path
    append: bool = False
    create_empty: bool = True
    override_if_empty: bool = True


@dataclass(frozen=True)
class PythonFunction:
    """A scalar function the SQL calls by ``name``, registered on the connection first."""

    name: str
    function: Callable[..., Any]
    parameters: tuple[str, ...]  # DuckDB type names
    returns: str


def prepare(
    con: Any,
    functions: tuple[PythonFunction, ...],
    writes: tuple[LookupWrite, ...],
    checks: tuple[RowCheck, ...],
) -> list[str]:
    """Register ``functions``, do ``writes``, run ``checks``; the checks' warnings."""
    import duckdb

    for function in functions:
        with contextlib.suppress(duckdb.InvalidInputException):
            con.remove_function(function.name)  # registered by an earlier search on con
        con.create_function(
            function.name,
            function.function,
            [duckdb.sqltype(p) for p in function.parameters],
            duckdb.sqltype(function.returns),
            null_handling="special",
        )
    for write in writes:
        write_lookup(con.sql(write.select.sql(dialect="duckdb")).to_arrow_table(), write)
    warnings = []
    for check in checks:
        ((count,),) = con.sql(check.select.sql(dialect="duckdb")).fetchall()
        if count > check.limit:
            warnings.append(check.message)
    return warnings


def write_lookup(table: pa.Table, write: LookupWrite) -> None:
    """Write ``table`` as the lookup file (append=: after the file's rows, columns united).

    Raises:
        LookupAccessError: the file cannot be written there (a symlink, permissions, ...).
    """
    path = write.path
    if path.is_symlink():
        raise LookupAccessError(f"outputlookup will not write {path.name}: it is a symlink")
    exists = path.is_file()
    if table.num_rows == 0 and (write.append or (exists and not write.override_if_empty)):
        return
    if table.num_rows == 0 and not write.create_empty:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if write.append and exists:
            table = _united(_read_text_csv(path), table)
        path.parent.mkdir(parents=True, exist_ok=True)
        pa_csv.write_csv(table, str(temporary), pa_csv.WriteOptions(quoting_style="needed"))
        temporary.replace(path)
    except (OSError, pa.ArrowException) as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise LookupAccessError(f"outputlookup could not write {path}: {exc}") from exc


def _read_text_csv(path: Path) -> pa.Table:
    """An existing lookup file, every column read as text."""
    with pa_csv.open_csv(path) as reader:
        names = reader.schema.names
    types = dict.fromkeys(names, pa.string())
    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(column_types=types))


def _united(old: pa.Table, new: pa.Table) -> pa.Table:
    """``old``'s rows then ``new``'s; the file's columns first, then the new ones."""
    names = list(dict.fromkeys([*old.column_names, *new.column_names]))

    def widened(t: pa.Table) -> pa.Table:
        columns = [
            t.column(n).cast(pa.string())
            if n in t.column_names
            else pa.nulls(t.num_rows, pa.string())
            for n in names
        ]
        return pa.table(columns, names=names)

    return pa.concat_tables([widened(old), widened(new)])
