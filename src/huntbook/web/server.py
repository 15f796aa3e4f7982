"""Serving the app: bind the address first (so a taken port is an error, not a log line), then
run uvicorn on that socket until interrupted."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from huntbook.web.app import LOOPBACK_NAMES, NO_FOLDERS, Folders, create_app
from huntbook.workspace import Workspace


def is_loopback(host: str) -> bool:
    """Whether ``host`` only answers this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one).

    Raises:
        OSError: the address is taken, unknown or not this machine's.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/search"


def server(workspace: Workspace, host: str, folders: Folders = NO_FOLDERS) -> uvicorn.Server:
    """A uvicorn server for the workbench; on a loopback ``host`` it answers only loopback Host
    headers, elsewhere any (the caller warns)."""
    allowed = LOOPBACK_NAMES + (host,) if is_loopback(host) else ("*",)
    app = create_app(workspace, allowed, folders)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    return uvicorn.Server(config)


@contextlib.contextmanager
def background(
    workspace: Workspace, host: str = "127.0.0.1", folders: Folders = NO_FOLDERS
) -> Iterator[str]:
    """Serve on a free port in a thread while the block runs; yields the base URL (tests,
    screenshots and benchmarks drive a real server this way)."""
    sock = bind(host, 0)
    running = server(workspace, host, folders)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not running.started:
            if not thread.is_alive():
                raise RuntimeError("the web server stopped while starting")
            time.sleep(0.02)
        yield url_of(sock).removesuffix("/search")
    finally:
        running.should_exit = True
        thread.join(timeout=10)
        sock.close()
