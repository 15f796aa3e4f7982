"""``huntbook search 'SPL'``: run a Splunk search on the store and print the rows.

``--format json`` prints every row (no cap unless ``--limit``) as one JSON array of objects,
multivalue fields as arrays and ``_time`` as ISO-8601 UTC: outside scripts rely on that shape.
json, jsonl and csv are written batch by batch as the search makes rows (constant memory); the
table reads only the rows it shows. Everything here goes through ``Workspace``.
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click
import orjson

from huntbook.cli._options import (
    engine_options,
    lookups_option,
    macros_option,
    memory_limit_option,
    store_option,
    timeout_option,
)
from huntbook.cli._table import text_table, wrap_pairs
from huntbook.engines.result import SearchStream, cell_text, iso_time
from huntbook.workspace import Workspace, default_store_path

TABLE_ROWS = 100  # rows the terminal table shows when no --limit is given
EVENT_HEAD = ("host", "source", "sourcetype")  # shown beside an event's time
WIDTH = (60, 120)  # the event list wraps at the terminal's width, kept in this range




def _export_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: iso_time(v) if k == "_time" else v for k, v in row.items()}


def render_table(
    columns: list[str], rows: list[dict[str, Any]], named: frozenset[str] | None
) -> str:
    """A plain text table; ``_time`` as ISO-8601 UTC. A column with no value in these rows is
    left out unless the query named it (``named``; None: every column was named)."""
    shown = [
        c for c in columns if named is None or c in named or any(r.get(c) is not None for r in rows)
    ] or columns
    cells = [[iso_time(r.get(c)) if c == "_time" else r.get(c) for c in shown] for r in rows]
    return text_table(shown, cells)


def render_events(columns: list[str], rows: list[dict[str, Any]], width: int) -> str:
    """Splunk's event list: per event its time, host, source and sourcetype, then its other
    non-empty fields as ``key=value`` wrapped at ``width`` (or its ``_raw`` when it has none)."""
    skip = {"_time", *EVENT_HEAD}
    entries = []
    for row in rows:
        head = [iso_time(row.get("_time"))] + [
            f"{k}={cell_text(row[k])}" for k in EVENT_HEAD if row.get(k) is not None
        ]
        pairs = [
            f"{k}={', '.join(cell_text(row[k]).splitlines())}"
            for k in columns
            if k not in skip and not k.startswith("_") and row.get(k) not in (None, "")
        ]
        if not pairs and row.get("_raw"):
            pairs = [cell_text(row["_raw"]).replace("\n", " ")]
        entries.append("\n".join(["  ".join(head), *wrap_pairs(pairs, width, indent=4)]))
    return "\n\n".join(entries)


def _json_row(row: dict[str, Any]) -> str:
    return orjson.dumps(_export_row(row), default=str).decode()


def write_json(stream: SearchStream, out: IO[str]) -> None:
    """One JSON array, written a batch at a time."""
    out.write("[")
    separator = "\n"
    for rows in stream.rows():
        for row in rows:
            out.write(separator + _json_row(row))
            separator = ",\n"
    out.write("\n]\n" if separator != "\n" else "]\n")


def write_jsonl(stream: SearchStream, out: IO[str]) -> None:
    for rows in stream.rows():
        out.write("".join(_json_row(row) + "\n" for row in rows))


def write_csv(stream: SearchStream, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(stream.columns)
    for rows in stream.rows():
        writer.writerows(
            [cell_text(iso_time(r.get(c)) if c == "_time" else r.get(c)) for c in stream.columns]
            for r in rows
        )


WRITERS: dict[str, Callable[[SearchStream, IO[str]], None]] = {
    "json": write_json,
    "jsonl": write_jsonl,
    "csv": write_csv,
}


@click.command("search")
@click.argument("spl", required=False)
@store_option
@lookups_option
@macros_option
@click.option(
    "--detection",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Run an ESCU detection file's search (with its content's macros and lookups).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "jsonl"]),
    default="table",
    show_default=True,
    help="table for people (raw events as an event list); json (one array), jsonl or csv for "
    "scripts, written as rows arrive.",
)
@click.option(
    "--earliest", default=None, help="Time bound, SPL syntax: -24h@h, 2020-09-21T04:00:00, epoch."
)
@click.option(
    "--latest", default=None, help="Upper time bound (exclusive), same syntax as --earliest."
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help=f"At most N rows; 0 means no limit (as Splunk's maxresults = 0). Without it the table "
    f"shows the first {TABLE_ROWS}; the other formats print every row.",
)
@memory_limit_option
@timeout_option
@click.option("--explain", is_flag=True, help="Print the compiled SQL instead of running it.")
@click.option(
    "--dialect",
    type=click.Choice(["duckdb", "spark"]),
    default=None,
    help="SQL dialect for --explain (default: the engine's).",
)
@engine_options
def command(
    spl: str | None,
    store: Path | None,
    lookups: tuple[Path, ...],
    macros: tuple[Path, ...],
    detection: Path | None,
    fmt: str,
    earliest: str | None,
    latest: str | None,
    limit: int | None,
    memory_limit: int | None,
    timeout: float | None,
    explain: bool,
    dialect: str | None,
    engine: str,
    spark_master: str | None,
    spark_remote: str | None,
) -> None:
    """Run an SPL search (Splunk's language) on the event store."""
    if (spl is None) == (detection is None):
        raise click.UsageError("give either an SPL search or --detection FILE")
    workspace = Workspace(
        store or default_store_path(),
        memory_limit=memory_limit,
        timeout=timeout,
        lookups=lookups,
        macros=macros,
        engine=engine,
        spark_master=spark_master,
        spark_remote=spark_remote,
    )
    text = spl or ""
    if explain:
        click.echo(
            workspace.explain(
                text,
                dialect=dialect,
                earliest=earliest,
                latest=latest,
                limit=limit,
                detection=detection,
            )
        )
        return
    fetch = TABLE_ROWS + 1 if fmt == "table" and limit is None else limit
    with workspace.stream(
        text, earliest=earliest, latest=latest, limit=fetch, detection=detection
    ) as stream:
        for warning in stream.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if not workspace.store.event_count():
            click.echo(f"Warning: the store {workspace.path} holds no events.", err=True)
        if fmt == "table":
            _print_table(stream, limit)
        else:
            WRITERS[fmt](stream, sys.stdout)


def _print_table(stream: SearchStream, limit: int | None) -> None:
    rows = [row for batch in stream.rows() for row in batch]
    if not rows:
        click.echo("No results.")
        return
    shown = rows[:TABLE_ROWS] if limit is None else rows
    if stream.events:
        width = min(max(shutil.get_terminal_size((100, 24)).columns, WIDTH[0]), WIDTH[1])
        click.echo(render_events(stream.columns, shown, width))
    else:
        click.echo(render_table(stream.columns, shown, stream.named))
    noun = "event" if stream.events else "row"
    more = " shown, more not shown (use --limit N, --limit 0 for all, or --format)"
    tail = more if len(rows) > len(shown) else ""
    click.echo(f"\n{len(shown)} {noun}{'s' if len(shown) != 1 else ''}{tail}")
