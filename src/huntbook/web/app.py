"""The Starlette application: pages, the JSON API, static assets (shipped in the package)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from huntbook.web import api, detections, findings, hunts
from huntbook.web.running import Running
from huntbook.workspace import Workspace

STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
#: at /search, /hunts, /findings, /detections
PAGES = ("search.html", "hunts.html", "findings.html", "detections.html")


def _page(name: str) -> Route:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

    return Route(f"/{name.removesuffix('.html')}", page)


async def home(request: Request) -> Response:
    return RedirectResponse("/search")


@dataclass(frozen=True)
class Folders:
    """What ``huntbook serve`` was told besides the store: Sigma rule folders (the detections
    page) and playbook folders (listed on the hunts page beside the built-in playbooks)."""

    rules: tuple[Path, ...] = ()
    playbooks: tuple[Path, ...] = ()


NO_FOLDERS = Folders()


def create_app(
    workspace: Workspace,
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES,
    folders: Folders = NO_FOLDERS,
) -> Starlette:
    """The workbench over ``workspace``. ``allowed_hosts``: the Host headers answered (the
    loopback names by default, which keeps other web sites' pages from reading the API through
    DNS rebinding); ``("*",)`` answers any."""
    routes = [
        Route("/", home),
        *(_page(name) for name in PAGES),
        Route("/api/search", api.search),
        Route("/api/export", api.export),
        Route("/api/cancel", api.cancel, methods=["POST"]),
        Route("/api/hunts", hunts.hunts),
        Route("/api/hunts/{name}/report", hunts.report),
        Route("/api/findings", findings.findings),
        Route("/api/detections", detections.detections),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.workspace = workspace
    app.state.running = Running()
    app.state.hunts = hunts.HuntRuns(workspace, folders.playbooks)
    app.state.findings = findings.FindingsRuns(workspace)
    app.state.detections = detections.DetectRuns(workspace, folders.rules)
    return app
