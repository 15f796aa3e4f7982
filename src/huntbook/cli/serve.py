"""``huntbook serve``: the local web workbench (search page, hunts, JSON API) on the store."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click

from huntbook.cli._options import store_option
from huntbook.workspace import Workspace, default_store_path


@click.command("serve")
@store_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another than loopback shows the store to the network (warned).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8089, show_default=True, help="0: any free."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the search page in a browser.")
@click.option(
    "--rules",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of Sigma rules the detections page runs (repeatable).",
)
@click.option(
    "--playbooks",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of playbooks (*.md) the hunts page lists beside the built-in ones (repeatable).",
)
def command(
    store: Path | None,
    host: str,
    port: int,
    open_browser: bool,
    rules: tuple[Path, ...],
    playbooks: tuple[Path, ...],
) -> None:
    """Serve a local web workbench on the store: search, fields, timeline, hunts, findings,
    detections, a JSON API.

    Read-only on the store; stop it with Ctrl-C.
    """
    from huntbook.web import server
    from huntbook.web.app import Folders

    workspace = Workspace(store or default_store_path())
    workspace.store.manifest()  # no store: StoreMissingError now, not on the first search
    if not server.is_loopback(host):
        click.echo(
            f"Warning: listening on {host}, not loopback: anyone who can reach this machine can "
            "read every event in the store (there is no login).",
            err=True,
        )
    try:
        sock = server.bind(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    url = server.url_of(sock)
    click.echo(f"huntbook serving {workspace.path} at {url}  (Ctrl-C stops it)")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    server.server(workspace, host, Folders(rules, playbooks)).run(sockets=[sock])
