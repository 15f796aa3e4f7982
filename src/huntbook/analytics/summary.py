"""The scan's per-batch rollups kept in the store: its acceleration summary (Splunk's accelerated
data models are the precedent).

Why: the scan (analytics/scan.py) reads every event of the store to count the distinct
combinations of the values its filters read, and again to pick out the events those filters let
through: about 4 CPU-s at 10M events, on every hunt and every ``huntbook findings``. A committed
batch never changes, and what the scan makes of it is a function of the batch's files and of the
statement run on them; so each statement's result over one batch is written once, beside the
store's batches, and read back the next time the same statement meets the same files.

What keys a summary: the SHA-256 of the statement's SQL (which names the batch's files and every
column, filter and projection the analytics read: a changed analytic writes a new statement, so
it never reads a stale summary) and of each file's size and modification time. Summaries live in
``<store>/summaries/<key>.parquet`` (a store opts in by having that folder: ``--keep-summaries``
on ``huntbook hunt run`` or ``huntbook findings``, ``Workspace.keep_summaries()``), written to a
temporary name and renamed into place, so a reader sees one whole or none.

API (the caller names the folder: ``huntbook.hunts.findings.summaries``, for a local store that
has it, none otherwise, so a store nobody opted in is scanned in memory as before and never
written; a folder this process cannot write is read, and what is missing computed in memory):
``stamp(paths)``, what identifies a batch's files; ``kept(con, folder, basis, name, query,
prepare)``, ``name`` holding ``query``'s rows: a view of the summary when there is one, else a
temporary table computed (after the statements ``prepare``, which make what it reads) and, when
``folder`` is given, written as the summary; it returns the summary's key, so a summary of
summaries (the scan's passed combinations of every batch) is keyed by the keys of those it
reads.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from huntbook.analytics._sql import DIALECT, create_table, create_view


def stamp(paths: list[str]) -> str:
    """The identity of a batch's files: each path with its size and modification time."""
    parts = []
    for path in paths:
        status = Path(path).stat()
        parts.append(f"{path}\t{status.st_size}\t{status.st_mtime_ns}")
    return "\n".join(parts)


def _write(con: Any, name: str, target: Path) -> bool:
    """Table ``name`` as the Parquet file ``target``, whole or not at all (a file system that
    refuses it leaves the summary missing, never wrong); whether it was written."""
    partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")  # a writer's own
    copy = exp.Copy(
        this=exp.to_table(name),
        kind=False,
        files=[exp.Literal.string(str(partial))],
        params=[exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("PARQUET"))],
    )
    try:
        con.execute(copy.sql(dialect=DIALECT))
        partial.replace(target)
    except (OSError, duckdb.IOException):
        partial.unlink(missing_ok=True)
        return False
    return True


@dataclass(frozen=True)
class Statement:
    """A query and its SQL, rendered once for every batch it runs on."""

    query: exp.Expr
    sql: str

    @classmethod
    def of(cls, query: exp.Expr) -> Statement:
        return cls(query, query.sql(dialect=DIALECT))


def kept(
    con: Any,
    where: Path | None,
    basis: str,
    name: str,
    query: exp.Expr | Statement,
    prepare: Sequence[str] = (),
) -> str:
    """``name`` holding ``query``'s rows: a view of its summary in ``where`` (keyed by
    ``basis``, what the statement reads, and the statement), else a temporary table computed
    (and written as the summary when ``where`` is given) after running the statements
    ``prepare`` (what the query reads, e.g. the view over a batch's files: not made when the
    summary is read). Its key: what identifies its rows, as a basis for a summary of them."""
    statement = query if isinstance(query, Statement) else Statement.of(query)
    key = hashlib.sha256(f"{basis}\n{statement.sql}".encode()).hexdigest()
    target = where / f"{key}.parquet" if where is not None else None
    if target is not None and target.is_file():
        _view(con, name, target)
        return key
    for step in prepare:
        con.execute(step)
    create_table(con, name, statement.query)
    if target is not None and _write(con, name, target):  # the file from now on, not memory
        con.execute(exp.Drop(tables=[exp.to_table(name)], kind="TABLE").sql(dialect=DIALECT))
        _view(con, name, target)
    return key


def _view(con: Any, name: str, target: Path) -> None:
    reader = exp.ReadParquet(expressions=[exp.Literal.string(str(target))])
    create_view(con, name, exp.select(exp.Star()).from_(exp.Table(this=reader)))
