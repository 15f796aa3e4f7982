"""``huntbook findings``: what every analytic finds on the whole store, without a playbook.

JSON is report.json's ``findings`` object (``lateral_movement`` edges with ``method``, ``attack``,
``confidence`` and their evidence, each event with its ``file``, ``member`` and ``record``); the
table lists the lateral-movement edges, then the conclusion.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from huntbook.cli._options import engine_options, keep_summaries_option, store_option
from huntbook.cli._table import text_table
from huntbook.workspace import Workspace, default_store_path

EDGE_COLUMNS = ("first_seen", "source", "destination", "account", "method", "attack", "confidence")


@click.command("findings")
@store_option
@click.option("--index", "index", default=None, help="Look at this index only (default: all).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json (report.json's findings object) for scripts.",
)
@keep_summaries_option
@engine_options
def command(
    store: Path | None,
    index: str | None,
    fmt: str,
    keep_summaries: bool,
    engine: str,
    spark_master: str | None,
    spark_remote: str | None,
) -> None:
    """The findings of every analytic (lateral movement, encoded PowerShell, visibility) on the
    whole store or one index, with the events behind each (file, archive member, record number).
    With --engine spark the analytics' queries run on Spark, reading nothing through DuckDB."""
    workspace = Workspace(
        store or default_store_path(),
        engine=engine,
        spark_master=spark_master,
        spark_remote=spark_remote,
    )
    if keep_summaries:
        workspace.keep_summaries()
    found = workspace.findings(index=index)
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    click.echo(_edges_text(found["lateral_movement"]))
    click.echo(f"\nConclusion: {found['conclusion']}")
    for error in found["errors"]:
        click.echo(f"Not computed: {error}", err=True)


def _edges_text(edges: list[dict[str, Any]]) -> str:
    if not edges:
        return "No lateral movement found."
    rows = [[edge.get(k) for k in EDGE_COLUMNS] for edge in edges]
    noun = "edge" if len(edges) == 1 else "edges"
    return f"Lateral movement: {len(edges)} {noun}\n" + text_table(EDGE_COLUMNS, rows, rule=False)
