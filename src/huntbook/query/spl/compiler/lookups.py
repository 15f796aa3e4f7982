"""Lookup tables: where a search may read them from, and their header.

A lookup is named like Splunk's: a plain file name (``assets.csv``) or the same without the
extension (``assets``), looked up in the allowed folders in order: the store's ``lookups/`` folder,
then each folder the user named (``--lookups DIR``, ``Workspace(lookups=...)``). A name with a
folder part (``/etc/passwd``, ``../x.csv``, ``sub/x.csv``) is refused, and so is a file whose real
path (symlinks resolved) lies outside every allowed folder: both are a ``LookupAccessError``.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from sqlglot import exp

from huntbook.errors import LookupAccessError
from huntbook.query.escu import lookup_definition
from huntbook.query.spl.compiler.state import Context
from huntbook.query.spl.compiler.values import lit

# Letters, digits, '_', '-', '.', spaces; not starting with '.' or '-' (no '..', no hidden files).
PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_. -]*")
EXTENSION = ".csv"


def find_lookup(ctx: Context, table: str, pos: int) -> Path:
    """The real path of lookup ``table`` in an allowed folder.

    Raises:
        LookupAccessError: the name is not a plain name, or the file resolves outside the folders.
        SplSyntaxError: no allowed folder holds the lookup.
    """
    folders = [Path(os.path.realpath(f)) for f in ctx.lookup_dirs]
    if not PLAIN_NAME.fullmatch(table):
        raise LookupAccessError(
            f"lookup {table!r} is not a plain lookup name (like assets.csv or assets); "
            f"lookups are read only from {_listing(folders)}"
        )
    for folder in folders:
        found = lookup_definition(folder, table)  # an ESCU lookups/<name>.yml naming its CSV
        if found is not None:
            for warning in found[1]:
                ctx.warn(warning)
            return _contained(table, found[0], folders)
    names = [table] if table.lower().endswith(EXTENSION) else [table, table + EXTENSION]
    for folder in folders:
        for name in names:
            candidate = folder / name
            if candidate.is_file():
                return _contained(table, candidate, folders)
    raise ctx.error(f"lookup table {table!r} not found in {_listing(folders)}", pos)


def output_path(ctx: Context, table: str) -> Path:
    """Where ``outputlookup`` writes ``table``: the store's ``lookups/`` folder only, under a plain
    name ending ``.csv`` (added when missing), never through a symlink.

    Raises:
        LookupAccessError: no writable lookups folder, a name that is not plain or is compressed,
            or a symlink where the file would go.
    """
    if ctx.output_dir is None:
        raise LookupAccessError(
            "outputlookup writes only into the store's lookups folder, and this search may not "
            "write there (no store, or a read-only one such as huntbook serve's)"
        )
    folder = Path(os.path.realpath(ctx.output_dir))
    if not PLAIN_NAME.fullmatch(table) or table.lower().endswith(".gz"):
        raise LookupAccessError(
            f"outputlookup {table!r}: lookups are written under a plain name (like assets.csv "
            f"or assets; no folder part, no .csv.gz) into {folder}"
        )
    path = folder / (table if table.lower().endswith(EXTENSION) else table + EXTENSION)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise LookupAccessError(
            f"outputlookup {table!r}: {path} is a symlink or not a regular file; huntbook "
            "writes only plain files in the lookups folder"
        )
    return path


def _contained(table: str, candidate: Path, folders: list[Path]) -> Path:
    real = Path(os.path.realpath(candidate))
    if any(real.is_relative_to(folder) for folder in folders):
        return real
    raise LookupAccessError(
        f"lookup {table!r} links to a file outside the lookup folders; "
        f"lookups are read only from {_listing(folders)}"
    )


def _listing(folders: list[Path]) -> str:
    if not folders:
        return (
            "the store's lookups folder (this search has no store) and folders given with --lookups"
        )
    return ", ".join(str(f) for f in folders) + " (add folders with --lookups DIR)"


def lookup_header(ctx: Context, table: str, path: Path, pos: int) -> list[str]:
    """The lookup's column names, checked so DuckDB reads the same ones (no empty or repeated)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as exc:
        raise ctx.error(f"cannot read lookup {table!r}: {type(exc).__name__}", pos) from None
    if not header:
        raise ctx.error(f"lookup {table!r} has no header row", pos)
    if any(not h for h in header) or len(set(header)) != len(header):
        raise ctx.error(
            f"lookup {table!r} has an empty or repeated column name; its fields are "
            f"{', '.join(header)}",
            pos,
        )
    return header


def check_fields(ctx: Context, table: str, header: list[str], names: list[str], pos: int) -> None:
    """Every lookup field a command names must be a column of the file (checked before running)."""
    for name in names:
        if name not in header:
            raise ctx.error(
                f"lookup {table!r} has no field {name!r}; its fields are {', '.join(header)}", pos
            )


def read_csv(path: Path, header: list[str]) -> exp.Expr:
    """DuckDB's read_csv told the dialect and the columns Python's csv read in the header row, every
    column text (lookups are strings, like Splunk's): DuckDB's own sniffing may take another line
    for the header (a ragged first data line makes it skip the real one)."""
    columns = exp.Struct(
        expressions=[exp.PropertyEQ(this=lit(name), expression=lit("VARCHAR")) for name in header]
    )
    options = {
        "header": exp.true(),
        "skip": lit(0),
        "delim": lit(","),
        "quote": lit('"'),
        "escape": lit('"'),
        "columns": columns,
    }
    return exp.Anonymous(
        this="read_csv",
        expressions=[
            lit(str(path)),
            *(exp.EQ(this=exp.column(k), expression=v) for k, v in options.items()),
        ],
    )


__all__ = ["check_fields", "find_lookup", "lookup_header", "output_path", "read_csv"]
