"""The hunts API: the built-in playbooks, and a playbook's run (its HTML report and its
lateral-movement edges, which the page makes clickable). A run is kept per playbook until run
again, so coming back to a report does not re-run it."""

from __future__ import annotations

import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from huntbook.errors import HuntbookError
from huntbook.web.responses import error_response, json_response
from huntbook.workspace import Workspace


class HuntRuns:
    """The last run of each playbook (thread-safe; one run at a time per playbook)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._done: dict[str, dict[str, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def catalog(self) -> list[dict[str, Any]]:
        return [
            {"name": p.name, "title": p.title, "attack_ids": list(p.attack_ids)}
            for p in self.workspace.playbooks()
        ]

    def report(self, name: str, rerun: bool) -> dict[str, Any]:
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if rerun or name not in self._done:
                result = self.workspace.hunt(name)
                self._done[name] = {
                    "name": name,
                    "title": result.playbook.title or name,
                    "run_time": result.run_time,
                    "html": self.workspace.report_html(result),
                    "edges": result.edges,
                }
            return self._done[name]


async def hunts(request: Request) -> Response:
    runs: HuntRuns = request.app.state.hunts
    try:
        return json_response(await run_in_threadpool(runs.catalog))
    except HuntbookError as exc:
        return error_response(exc)


async def report(request: Request) -> Response:
    runs: HuntRuns = request.app.state.hunts
    name = request.path_params["name"]
    try:
        known = {p["name"] for p in await run_in_threadpool(runs.catalog)}
        if name not in known:
            message = f"no built-in playbook named {name!r}"
            return json_response({"error": {"type": "NotFound", "message": message}}, 404)
        rerun = request.query_params.get("rerun") == "1"
        return json_response(await run_in_threadpool(runs.report, name, rerun))
    except HuntbookError as exc:
        return error_response(exc)
