"""``huntbook stats``: what the store holds, per index, sourcetype, host and source."""

from __future__ import annotations

import json
from pathlib import Path

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
    """Event counts and first/last times (UTC) per index, sourcetype, host and source."""
    workspace = Workspace(store or default_store_path())
    rows = workspace.stats()
    if fmt == "json":
        click.echo(json.dumps([{k: r[k] for k in KEYS} for r in rows], indent=2))
    elif rows:
        click.echo(text_table(KEYS, [[r.get(k) for k in KEYS] for r in rows], rule=False))
    else:
        click.echo(f"The store {workspace.path} holds no events.")
