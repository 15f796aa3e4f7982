"""``huntbook stats``: what the store holds, per index, sourcetype, host and source.

Inputs ingest stored only in part (damaged or unreadable records, kept in the manifest) are listed
after the table, or on stderr with ``--format json`` so the JSON stays one array.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from huntbook.cli._options import store_option
from huntbook.cli._table import text_table
from huntbook.workspace import Workspace, default_store_path

KEYS = ("index", "sourcetype", "host", "source", "count", "first_time", "last_time")


@click.command("stats")
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json (an array of objects) for scripts.",
)
def command(store: Path | None, fmt: str) -> None:
    """Event counts and first/last times (UTC) per index, sourcetype, host and source.

    Files ingest stored only in part are listed after the table (on stderr with --format json).
    """
    workspace = Workspace(store or default_store_path())
    rows = workspace.stats()
    if fmt == "json":
        click.echo(json.dumps([{k: r[k] for k in KEYS} for r in rows], indent=2))
    elif rows:
        click.echo(text_table(KEYS, [[r.get(k) for k in KEYS] for r in rows], rule=False))
    else:
        click.echo(f"The store {workspace.path} holds no events.")
    _partial_inputs(workspace.store.inputs(), err=fmt == "json")


def _partial_inputs(inputs: Sequence[Mapping[str, Any]], *, err: bool) -> None:
    """The inputs stored only in part, each with what could not be read."""
    partial = [i for i in inputs if i.get("skipped")]
    if not partial:
        return
    click.echo(f"Partial inputs (stored only in part): {len(partial):,}", err=err)
    for entry in partial:
        click.echo(
            f"  {entry['path']}: {entry['events']:,} events stored, {entry['skipped']:,} records "
            "or stretches could not be read",
            err=err,
        )
        for damage in entry.get("damage", []):
            click.echo(f"    {damage}", err=err)
