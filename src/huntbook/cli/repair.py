"""``huntbook repair``: drop damaged batches so their files can be ingested again."""

from __future__ import annotations

from pathlib import Path

import click

from huntbook.cli._options import store_option, writing_workspace


@click.command("repair")
@store_option
def command(store: Path | None) -> None:
    """Drop damaged batches (files missing or truncated) so their inputs can be ingested again.

    Searches refuse a damaged store (exit 13) and say which batches and input files are hit.
    Repair removes those batches from the manifest and deletes their folders, nothing else, and
    lists the input files they held: ingest them again to bring their events back.
    """
    workspace = writing_workspace(store)
    dropped = workspace.repair()
    if not dropped:
        click.echo(f"{workspace.path}: every batch is whole; nothing to repair.")
        return
    for damage in dropped:
        click.echo(
            f"Dropped batch {damage.batch['id']} ({damage.batch['events']:,} events): "
            f"{damage.reason}"
        )
        for path in damage.inputs:
            click.echo(f"  {path}")
    click.echo(
        f"Ingest the files listed above again to bring their events back into {workspace.path}."
    )
