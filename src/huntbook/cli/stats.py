"""``huntbook stats``: what the store holds, per index, sourcetype, host and source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from huntbook.cli._options import store_option
from huntbook.workspace import Workspace, default_store_path

KEYS = ("index", "sourcetype", "host", "source", "count", "first_time", "last_time")


def _table(rows: list[dict[str, Any]]) -> str:
    cells = [[str(r.get(k) if r.get(k) is not None else "") for k in KEYS] for r in rows]
    widths = [max([len(k), *(len(c[i]) for c in cells)]) for i, k in enumerate(KEYS)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(KEYS, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


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
    rows = Workspace(store or default_store_path()).stats()
    if fmt == "json":
        click.echo(json.dumps([{k: r[k] for k in KEYS} for r in rows], indent=2))
    elif rows:
        click.echo(_table(rows))
    else:
        click.echo("The store is empty.")
