"""``huntbook ingest PATH...``: read Windows event files into the store, then say what happened."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from huntbook.cli._options import (
    spark_options,
    store_option,
    summaries_option,
    writing_workspace,
)
from huntbook.errors import IngestError
from huntbook.ingest.base import Limits
from huntbook.ingest.summary import FileResult, IngestSummary
from huntbook.workspace import INGEST_ENGINES, Workspace, default_store_path

MAX_LISTED = 20
FORMATS = Workspace.ingest_formats()
PARTIAL_EXIT = 3  # docs/errors.md: every file stored, some only in part


@contextmanager
def _progress(paths: tuple[str, ...]) -> Iterator[Any]:
    """A progress bar over the input bytes, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    total = Workspace.input_bytes(paths)
    with click.progressbar(length=total, label="ingesting", file=sys.stderr) as bar:
        yield bar.update


def _echo_list(title: str, lines: list[str], total: int | None = None) -> None:
    count = len(lines) if total is None else total
    click.echo(f"{title}: {count:,}")
    for line in lines[:MAX_LISTED]:
        click.echo(f"  {line}")
    if count > MAX_LISTED:
        click.echo(f"  ... and {count - MAX_LISTED:,} more")


def _report(summary: IngestSummary, store: Path, index: str) -> None:
    rate = summary.events / summary.seconds if summary.seconds else 0.0
    readers = f"{summary.workers} reading processes" if summary.workers > 1 else "one process"
    if summary.engine != "local":
        readers = f"read on {summary.engine} ({summary.workers} tasks at a time)"
    click.echo(
        f"Ingested {summary.events:,} events from {len(summary.stored):,} files "
        f"into {store} (index {index})"
    )
    click.echo(f"  in {summary.seconds:.1f} s, {rate:,.0f} events/s, {readers}")
    for sourcetype, count in summary.sourcetypes.most_common():
        click.echo(f"  {sourcetype:<56} {count:>10,}")
    if summary.duplicates:
        click.echo(
            f"Already in the store (same content, nothing added): {len(summary.duplicates):,}"
        )
    if summary.ignored:
        names = [f.path for f in summary.ignored]
        _echo_list("Ignored in folders (unrecognized format)", names)
    members = [reason for f in summary.files for reason in f.ignored]
    if members:
        _echo_list("Ignored in archives (unrecognized format)", members)
    if summary.skipped_count:
        _echo_list("Records skipped", [str(s) for s in summary.skipped], summary.skipped_count)
    if summary.partial:
        _echo_list("Files stored only in part", [_partial_line(f) for f in summary.partial])
    if summary.failed:
        _echo_list("Files failed", [f.error or f.path for f in summary.failed])


def _partial_line(result: FileResult) -> str:
    first = result.skipped[0] if result.skipped else None
    why = f"; first: {first.position}: {first.reason}" if first else ""
    return (
        f"{result.path}: {result.events:,} events stored, {result.skipped_count:,} records or "
        f"stretches could not be read{why}"
    )


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--index", default="main", show_default=True, help="Index the events go to.")
@store_option
@click.option("--sourcetype", default=None, help="Give every event this sourcetype.")
@click.option(
    "--format",
    "fmt",
    default=None,
    metavar="FORMAT",
    help=f"Read every file as this format instead of detecting it ({', '.join(FORMATS)}).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes that read files; 0: one per core when the input is over 24 MB.",
)
@click.option(
    "--engine",
    type=click.Choice(INGEST_ENGINES),
    default="local",
    show_default=True,
    help="What reads the files: local processes, or spark (its executors; input and store on a "
    "file system they all share; pip install 'huntbook[spark]', needs Java).",
)
@spark_options
@click.option(
    "--max-member-bytes",
    type=click.IntRange(min=1),
    default=Limits.member_bytes,
    show_default=True,
    help="Refuse an archive member (.zip, .gz, .tar.gz) that decompresses to more bytes (4 GiB).",
)
@click.option(
    "--max-line-bytes",
    type=click.IntRange(min=1),
    default=Limits.line_bytes,
    show_default=True,
    help="Refuse a file with a longer line or record (JSON line, text record, XML event; 8 MiB).",
)
@summaries_option
def command(
    paths: tuple[str, ...],
    index: str,
    store: Path | None,
    sourcetype: str | None,
    fmt: str | None,
    workers: int,
    engine: str,
    spark_master: str | None,
    spark_remote: str | None,
    max_member_bytes: int,
    max_line_bytes: int,
    summaries: bool | None,
) -> None:
    """Ingest Windows event logs (files, folders, .zip/.gz/.tar.gz) into the event store.

    Formats: EVTX, Windows event XML, classic WinEventLog text, JSON lines/arrays
    (Security-Datasets, Winlogbeat, evtx_dump, Splunk export) and Splunk CSV exports, detected
    per file. Files are committed in atomic batches of about 32 MB of input; a file already
    ingested (same content) adds nothing. Files are read by several processes at once on a
    machine with several cores, or by Spark's executors (--engine spark); the store is the
    same whatever reads them.

    Safety limits: an archive member may decompress to --max-member-bytes, a line or record may
    be --max-line-bytes long; a file over either fails alone. A FIFO, device or socket named as
    input is refused before anything reads it. EVTX checksums and chunk count are checked: a
    damaged chunk is left out and reported.

    Exit status: 0 every file stored whole; 3 every file stored, some only in part (damaged or
    unreadable records, listed; `huntbook stats` flags them); 10 a file failed (over a limit,
    not a regular file, unrecognized, nothing readable), the others stored.
    """
    where = store or default_store_path()
    with _progress(paths) as update:
        workspace = writing_workspace(where, spark_master=spark_master, spark_remote=spark_remote)
        summary = workspace.ingest(
            paths,
            index=index,
            sourcetype=sourcetype,
            fmt=fmt,
            progress=update,
            workers=workers,
            max_member_bytes=max_member_bytes,
            max_line_bytes=max_line_bytes,
            engine=engine,
            summaries=summaries,
        )
    _report(summary, where, index)
    if len(summary.ignored) == len(summary.files):
        raise IngestError(
            f"nothing to ingest in {', '.join(paths)}: no file in a known format "
            f"({', '.join(FORMATS)})"
        )
    if summary.failed:
        raise IngestError(f"{_files(len(summary.failed))} could not be ingested (listed above)")
    if summary.partial:
        click.echo(
            f"Warning: {_files(len(summary.partial))} stored only in part (listed above)", err=True
        )
        raise click.exceptions.Exit(PARTIAL_EXIT)


def _files(count: int) -> str:
    return f"{count} file{'s' if count > 1 else ''}"
