"""``huntbook detect RULES... --store DIR``: run Sigma rules on the store.

Exit code: 0 when the rules ran and nothing matched, 4 when at least one rule matched (so a
script can branch on it); errors keep their own codes (docs/errors.md). ``--ingest PATH`` runs
``huntbook ingest PATH`` first in the same process (its report on stderr), as
``huntbook ingest PATH && huntbook detect`` would: when the ingest exits non-zero, detect does
not run and that is the exit code.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from huntbook.cli._options import engine_options, store_option
from huntbook.cli._table import text_table
from huntbook.detect.model import LEVELS, DetectResult
from huntbook.detect.report import detection_records
from huntbook.engines.result import cell_text
from huntbook.workspace import Workspace, default_store_path

MATCHED_EXIT = 4
TABLE_COLUMNS = ("_time", "level", "title", "host", "EventCode")
CSV_COLUMNS = ("rule_id", *TABLE_COLUMNS, "source", "_cd")


@click.command("detect")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@store_option
@click.option("--index", default=None, help="Only events of this index.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write detections.jsonl, summary.json and report.html here.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl", "csv"]),
    default="table",
    show_default=True,
    help="How to print the hits (without --out).",
)
@click.option(
    "--level",
    type=click.Choice(list(LEVELS[1:])),
    default=None,
    help="Only rules of this level or above.",
)
@click.option("--tags", multiple=True, help="Only rules with one of these tags (repeatable).")
@click.option(
    "--ingest",
    "ingest",
    multiple=True,
    metavar="PATH",
    type=click.Path(exists=True),
    help="Ingest these files or folders into the store first, in the same process, as "
    "`huntbook ingest PATH --store DIR [--index NAME]` does (repeatable; report on stderr).",
)
@engine_options
@click.pass_context
def command(
    ctx: click.Context,
    rules: tuple[Path, ...],
    store: Path | None,
    index: str | None,
    out: Path | None,
    fmt: str,
    level: str | None,
    tags: tuple[str, ...],
    ingest: tuple[str, ...],
    engine: str,
    spark_master: str | None,
    spark_remote: str | None,
) -> None:
    """Run Sigma rules (files or folders) on the event store; exit 4 when anything matched.
    With --engine spark the rules run on Spark, a rule Spark cannot run with DuckDB's answer
    skipped with the reason. With --ingest, the files are ingested first (`huntbook ingest`'s
    exit codes when it does not exit 0)."""
    if ingest:
        from huntbook.cli.ingest import command as ingest_command

        with contextlib.redirect_stdout(sys.stderr):  # stdout is for the hits
            ctx.invoke(ingest_command, paths=ingest, index=index or "main", store=store)
    workspace = Workspace(
        store or default_store_path(),
        engine=engine,
        spark_master=spark_master,
        spark_remote=spark_remote,
    )
    workspace.store.manifest()  # no store: StoreMissingError before the rules load
    result = workspace.detect(rules, index=index, level=level, tags=tags, out=out)
    counts = result.counts()
    click.echo(
        f"{_count(len(result.rules), 'rule')}: {counts['ran']} ran, {counts['skipped']} skipped, "
        f"{counts['failed']} failed; {_count(len(result.hits), 'hit')} in {result.seconds:.1f} s",
        err=True,
    )
    if out is not None:
        click.echo(f"Wrote {out}/detections.jsonl, summary.json, report.html", err=True)
    else:
        _print(result, fmt)
    if result.hits:
        raise click.exceptions.Exit(MATCHED_EXIT)


def _count(number: int, noun: str) -> str:
    """``1 hit``, ``2 hits``, ``0 hits``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _print(result: DetectResult, fmt: str) -> None:
    """The hits on stdout, record by record as they are read back (the table excepted: its
    column widths need every row, of which it keeps only the printed columns)."""
    records = detection_records(result)
    if fmt == "json":
        _json_list(records)
    elif fmt == "jsonl":
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False, default=str))
    elif fmt == "csv":
        rows = ([cell_text(r.get(c)) for c in CSV_COLUMNS] for r in records)
        for row in itertools.chain([CSV_COLUMNS], rows):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(row)
            click.echo(buffer.getvalue(), nl=False)
    elif result.hits:
        click.echo(text_table(TABLE_COLUMNS, [[r.get(c) for c in TABLE_COLUMNS] for r in records]))
    else:
        click.echo("No detections.")


def _json_list(records: Iterator[dict[str, Any]]) -> None:
    """What ``json.dumps(list(records), indent=1)`` prints, one record at a time."""
    separator = "\n"
    click.echo("[", nl=False)
    for record in records:
        element = json.dumps([record], ensure_ascii=False, indent=1, default=str)[2:-2]
        click.echo(separator + element, nl=False)
        separator = ",\n"
    click.echo("]" if separator == "\n" else "\n]")
