"""``huntbook hunt``: run a playbook (``hunt PLAYBOOK``), list built-ins (``hunt list``), lint one.

``hunt`` is a group whose default sub-command is ``run``: ``huntbook hunt wmi-lateral-movement
--store S --out R`` is read as ``huntbook hunt run wmi-lateral-movement ...``, so the contract's
verbatim form and the ``list``/``lint`` sub-commands live side by side.
"""

from __future__ import annotations

from pathlib import Path

import click

from huntbook.cli._options import (
    engine_options,
    keep_summaries_option,
    lookups_option,
    macros_option,
    memory_limit_option,
    store_option,
    timeout_option,
)
from huntbook.cli._table import text_table
from huntbook.errors import QueryError
from huntbook.hunts.render.common import hits_text, index_override_text
from huntbook.hunts.result import HuntResult, QueryStatus
from huntbook.workspace import Workspace, default_store_path

DEFAULT_COMMAND = "run"


class HuntGroup(click.Group):
    """A group that runs ``run`` when its first argument is not a sub-command name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


@click.group("hunt", cls=HuntGroup)
def command() -> None:
    """Run hunt playbooks: `huntbook hunt PLAYBOOK|NAME [--store DIR] [--out DIR]`.

    PLAYBOOK is a markdown file in the seed's format or the name of a built-in playbook
    (`huntbook hunt list`). `huntbook hunt lint FILE` checks a playbook without running it.
    """


def _params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected name=value, got {item!r}", param_hint="--param")
        params[name.strip()] = value
    return params


@command.command("run")
@click.argument("playbook")
@store_option
@lookups_option
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Fill a placeholder such as <login_id>; repeatable. Unset ones pivot on earlier rows.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write report.json, report.md and report.html here.",
)
@click.option(
    "--index",
    default=None,
    metavar="NAME",
    help="Search index NAME in place of the index each query names (e.g. the seed's botsv2).",
)
@click.option(
    "--hunter",
    default=None,
    metavar="NAME",
    help='Who ran the hunt, for the report\'s Threat Hunter (else "not set").',
)
@click.option(
    "--emit-detections",
    "detections",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write savedsearches.conf and Sigma rules for the hunt here.",
)
@macros_option
@memory_limit_option
@timeout_option
@keep_summaries_option
@engine_options
def run(
    playbook: str,
    store: Path | None,
    lookups: tuple[Path, ...],
    params: tuple[str, ...],
    out: Path | None,
    index: str | None,
    hunter: str | None,
    detections: Path | None,
    macros: tuple[Path, ...],
    memory_limit: int | None,
    timeout: float | None,
    keep_summaries: bool,
    engine: str,
    spark_master: str | None,
    spark_remote: str | None,
) -> None:
    """Run PLAYBOOK (a file or a built-in name) on the store and report what it found."""
    values = _params(params)
    workspace = Workspace(
        store if store is not None else default_store_path(),
        lookups=lookups,
        macros=macros,
        memory_limit=memory_limit,
        timeout=timeout,
        engine=engine,
        spark_master=spark_master,
        spark_remote=spark_remote,
    )
    if keep_summaries:
        workspace.keep_summaries()
    result = workspace.hunt(playbook, params=values, out=out, index=index, hunter=hunter)
    if not result.time_range.events:
        click.echo(f"Warning: the store {workspace.path} holds no events.", err=True)
    _summary(result)
    if out is not None:
        click.echo(f"Reports: {out / 'report.json'}, {out / 'report.md'}, {out / 'report.html'}")
    if detections is not None:
        written = Workspace.emit_detections(playbook, detections)
        click.echo(f"Detections: {', '.join(str(p) for p in written.files)}")
        for note in written.notes:
            click.echo(f"  {note}")
    failed = [q.title for q in result.queries if q.status == QueryStatus.ERROR]
    if failed:
        raise QueryError(
            f"{len(failed)} of the hunt's {len(result.queries)} searches failed (marked above; "
            "the reports say why): its findings may be incomplete"
        )


def _summary(result: HuntResult) -> None:
    click.echo(f"{result.playbook.title}")
    if result.index_override:
        click.echo(f"  {index_override_text(result.index_override)}")
    for q in result.queries:
        hits = hits_text(q)
        note = ""
        if q.status == QueryStatus.ERROR and q.error:
            note = f"  [error: {q.error.splitlines()[0]}]"
        elif q.note:
            note = f"  [{q.note}]"
        click.echo(f"  {hits:>8}  {q.title}{note}")
    edges = result.edges
    click.echo(f"Lateral movement: {len(edges)} edge(s)")
    for e in edges:
        click.echo(
            f"  {e.get('source')} -> {e.get('destination')}  {e.get('method')}  {e.get('account')}"
        )
    for error in result.findings.errors:
        click.echo(f"  analytics: {error}", err=True)


@command.command("list")
def list_command() -> None:
    """List the built-in playbooks (name, ATT&CK ids, title)."""
    rows = [[b.name, ",".join(b.attack_ids), b.title] for b in Workspace.playbooks()]
    click.echo(text_table(["name", "ATT&CK", "title"], rows, header=False, cut_last=False))


@command.command("lint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Placeholder names that will be passed with --param (not unknown then).",
)
def lint_command(file: Path, params: tuple[str, ...]) -> None:
    """Check FILE and print every problem with its line number (exit 11 on errors)."""
    problems = Workspace.lint(file, _params(params))
    for problem in problems:
        click.echo(str(problem))
    errors = sum(p.severity == "error" for p in problems)
    click.echo(f"{errors} error(s), {len(problems) - errors} warning(s)", err=True)
    if errors:
        raise click.exceptions.Exit(11)
