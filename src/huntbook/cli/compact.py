"""``huntbook compact``: one Parquet file per batch, for stores from before ingest merged them."""

from __future__ import annotations

from pathlib import Path

import click

from huntbook.cli._options import store_option, writing_workspace


@click.command("compact")
@store_option
def command(store: Path | None) -> None:
    """Merge each batch's Parquet parts into one file (searches open fewer files).

    Ingest merges every new batch already; this is for stores written before it did. Each batch is
    swapped atomically (the manifest names old or new files, never half), but run it while no
    search is running: a search that listed the old parts fails when they are gone.
    """
    workspace = writing_workspace(store)
    merged = workspace.compact()
    click.echo(f"{workspace.path}: {merged} batch(es) merged into one file each.")
