"""``huntbook search 'SPL'``: run a Splunk search on the store and print the rows.

``--format json`` prints every row (no cap unless ``--limit``) as one JSON array of objects,
multivalue fields as arrays and ``_time`` as ISO-8601 UTC: outside scripts rely on that shape.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import click

from huntbook.cli._options import macros_option, store_option
from huntbook.cli._table import cell_text, text_table
from huntbook.workspace import Workspace, default_store_path

TABLE_ROWS = 100  # rows the terminal table shows when no --limit is given


def iso_time(epoch: Any) -> Any:
    """Epoch seconds -> ``2019-05-18T21:04:13.123000Z`` (UTC); other values pass through."""
    if not isinstance(epoch, int | float):
        return epoch
    moment = dt.datetime.fromtimestamp(float(epoch), dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _export_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: iso_time(v) if k == "_time" else v for k, v in row.items()}


def render_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """A plain text table of the columns that hold a value; ``_time`` as ISO-8601 UTC."""
    shown = [c for c in columns if any(r.get(c) is not None for r in rows)] or columns
    cells = [[iso_time(r.get(c)) if c == "_time" else r.get(c) for c in shown] for r in rows]
    return text_table(shown, cells)


def render_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [cell_text(iso_time(row.get(c)) if c == "_time" else row.get(c)) for c in columns]
        )
    return buffer.getvalue().rstrip("\n")


@click.command("search")
@click.argument("spl", required=False)
@store_option
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
    help="table for people; json (one array), jsonl or csv for scripts.",
)
@click.option(
    "--earliest", default=None, help="Time bound, SPL syntax: -24h@h, 2020-09-21T04:00:00, epoch."
)
@click.option(
    "--latest", default=None, help="Upper time bound (exclusive), same syntax as --earliest."
)
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most N rows.")
@click.option("--explain", is_flag=True, help="Print the compiled SQL instead of running it.")
@click.option(
    "--dialect",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="SQL dialect for --explain.",
)
def command(
    spl: str | None,
    store: Path | None,
    macros: tuple[Path, ...],
    detection: Path | None,
    fmt: str,
    earliest: str | None,
    latest: str | None,
    limit: int | None,
    explain: bool,
    dialect: str,
) -> None:
    """Run an SPL search (Splunk's language) on the event store."""
    if (spl is None) == (detection is None):
        raise click.UsageError("give either an SPL search or --detection FILE")
    workspace = Workspace(store or default_store_path(), macros=macros)
    if explain:
        _explain(workspace, spl, detection, earliest, latest, limit, dialect)
        return
    if detection is not None:
        result = workspace.detection(detection, earliest=earliest, latest=latest, limit=limit)
    else:
        result = workspace.search(spl or "", earliest=earliest, latest=latest, limit=limit)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if not workspace.store.event_count():
        click.echo(f"Warning: the store {workspace.path} holds no events.", err=True)
    _print(result.columns, result.rows(), fmt, limit)


def _explain(
    workspace: Workspace,
    spl: str | None,
    detection: Path | None,
    earliest: str | None,
    latest: str | None,
    limit: int | None,
    dialect: str,
) -> None:
    from huntbook.query import compile_spl

    store = workspace.store
    columns = store.columns() if hasattr(store, "columns") else None
    text, macros, extra = workspace.search_inputs(spl, detection)
    lookups = (str(workspace.path / "lookups"), *extra)
    query = compile_spl(
        text,
        store.fields(),
        earliest=earliest,
        latest=latest,
        limit=limit,
        columns=columns,
        macros=macros,
        lookup_dirs=lookups,
    )
    if query.expanded != query.source:
        click.echo(f"-- search after macro expansion: {query.expanded}")
    click.echo(query.sql(dialect, pretty=True))
    for warning in query.warnings:
        click.echo(f"-- warning: {warning}")


def _print(columns: list[str], rows: list[dict[str, Any]], fmt: str, limit: int | None) -> None:
    if fmt == "json":
        click.echo(json.dumps([_export_row(r) for r in rows], ensure_ascii=False, indent=1))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(_export_row(row), ensure_ascii=False))
    elif fmt == "csv":
        click.echo(render_csv(columns, rows))
    elif not rows:
        click.echo("No results.")
    else:
        shown = rows if limit is not None else rows[:TABLE_ROWS]
        click.echo(render_table(columns, shown))
        rest = len(rows) - len(shown)
        more = f" ({rest} more not shown; use --limit or --format)" if rest else ""
        click.echo(f"\n{len(rows)} row{'s' if len(rows) != 1 else ''}{more}")
