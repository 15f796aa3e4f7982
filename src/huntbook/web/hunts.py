"""The hunts API: the built-in playbooks and those in the folders ``huntbook serve --playbooks``
names (a file that cannot be loaded, or whose name another playbook has, is listed with the
reason and cannot be run), and a playbook's run (its HTML report and its lateral-movement edges,
which the page makes clickable). A run is kept per playbook until run again, so coming back to a
report does not re-run it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from huntbook.errors import HuntbookError
from huntbook.web.responses import error_response, json_response
from huntbook.workspace import Workspace


class HuntRuns:
    """The last run of each playbook (thread-safe; one run at a time per playbook)."""

    def __init__(self, workspace: Workspace, folders: tuple[Path, ...] = ()) -> None:
        self.workspace = workspace
        self.folders = folders
        self._done: dict[str, dict[str, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def catalog(self) -> list[dict[str, Any]]:
        """Built-ins first, then each folder's ``*.md`` by name; ``path`` is what a run runs."""
        entries = [_entry(p, "built-in") for p in self.workspace.playbooks()]
        for folder in self.folders:
            for path in sorted(folder.glob("*.md")):
                entries.append(self._folder_entry(path, {e["name"] for e in entries}))
        return entries

    def _folder_entry(self, path: Path, taken: set[str]) -> dict[str, Any]:
        try:
            entry = _entry(self.workspace.playbook(path), str(path.parent))
        except HuntbookError as exc:
            failed = {"name": path.stem, "title": path.name, "attack_ids": [], "error": str(exc)}
            return {**failed, "source": str(path.parent)}
        if entry["name"] in taken:
            entry["error"] = f"another playbook listed above is named {entry['name']!r}"
        return entry

    def runnable(self, name: str) -> dict[str, Any] | None:
        """The catalog entry named ``name`` when it can run."""
        found = [e for e in self.catalog() if e["name"] == name and "error" not in e]
        return found[0] if found else None

    def report(self, name: str, path: str, rerun: bool) -> dict[str, Any]:
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if rerun or name not in self._done:
                result = self.workspace.hunt(path)
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
        entry = await run_in_threadpool(runs.runnable, name)
        if entry is None:
            message = f"no playbook named {name!r} that can run"
            return json_response({"error": {"type": "NotFound", "message": message}}, 404)
        rerun = request.query_params.get("rerun") == "1"
        return json_response(await run_in_threadpool(runs.report, name, entry["path"], rerun))
    except HuntbookError as exc:
        return error_response(exc)


def _entry(playbook: Any, source: str) -> dict[str, Any]:
    return {
        "name": playbook.name,
        "title": playbook.title,
        "attack_ids": list(playbook.attack_ids),
        "source": source,
        "path": str(playbook.path),
    }
