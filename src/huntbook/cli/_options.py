"""Options that several commands share, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from huntbook.engines.base import parse_size
from huntbook.errors import QueryError
from huntbook.workspace import Workspace, default_store_path

store_option = click.option(
    "--store",
    "store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Event store directory (default $HUNTBOOK_STORE or ./huntbook-store); s3://, gs:// or "
    "abfss:// names a store on object storage, which is only read (docs/scale-out.md).",
)

keep_summaries_option = click.option(
    "--keep-summaries",
    "keep_summaries",
    is_flag=True,
    help="Keep the analytics' per-batch summaries in the store (<store>/summaries; this run "
    "writes them, later runs of hunt and findings read them: docs/findings.md). A store that has "
    "the folder keeps using it without this flag.",
)

summaries_option = click.option(
    "--summaries/--no-summaries",
    "summaries",
    default=None,
    help="Keep the analytics' per-batch summaries in the store (<store>/summaries: the next hunt "
    "or findings writes them, later runs read them: docs/findings.md). Default: a store this "
    "ingest creates keeps them, an existing store keeps its choice.",
)

macros_option = click.option(
    "--macros",
    "macros",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Search macro definitions: a macros.conf, an ESCU macro .yml, or a folder of them; "
    "repeatable, over the store's macros/ folder.",
)


def writing_workspace(store: Path | None, **engine: Any) -> Workspace:
    """The workspace on ``--store`` (or the default) for a command that writes to the store;
    ``engine``: Workspace's engine arguments (``spark_master``, ``spark_remote``).

    A write waits while another process writes to the same store (ingest, compact, repair);
    it says so on stderr instead of waiting silently.
    """
    path = store or default_store_path()

    def waiting(pid: int | None) -> None:
        who = f"pid {pid}" if pid is not None else "pid unknown"
        click.echo(
            f"Waiting for the other ingest (or compact, repair) writing to {path} ({who}); "
            "going on when it is done.",
            err=True,
        )

    return Workspace(path, on_wait=waiting, **engine)


lookups_option = click.option(
    "--lookups",
    "lookups",
    multiple=True,
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder lookup/inputlookup may read tables from, besides the store's lookups/; "
    "repeatable. Nothing else is readable.",
)


def _memory_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    try:
        return parse_size(value) if value is not None else None
    except QueryError as exc:
        raise click.BadParameter(str(exc)) from None


memory_limit_option = click.option(
    "--memory-limit",
    default=None,
    callback=_memory_limit,
    help="Memory each search may use, e.g. 8GB or 512MiB; over it the search stops (exit 14). "
    "Default: half the machine's RAM.",
)

timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop each search after SECONDS (exit 14). Default: no time limit.",
)


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine duckdb|spark``, ``--spark-master URL`` and ``--spark-remote sc://...``."""
    return click.option(
        "--engine",
        type=click.Choice(Workspace.engines()),
        default="duckdb",
        show_default=True,
        help="What runs the searches: duckdb on this machine, or spark (pip install "
        "'huntbook[spark]', needs Java).",
    )(spark_options(command))


def spark_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--spark-master URL`` and ``--spark-remote sc://...`` (for ``--engine spark``)."""
    command = click.option(
        "--spark-remote",
        default=None,
        metavar="URL",
        help="Spark Connect server for --engine spark, e.g. sc://host:15002 (in place of "
        "--spark-master; exit 1 when no server answers there).",
    )(command)
    return click.option(
        "--spark-master",
        default=None,
        metavar="URL",
        help="Spark master for --engine spark: local[N], spark://host:7077, yarn, k8s://... "
        "(default local[2]).",
    )(command)
