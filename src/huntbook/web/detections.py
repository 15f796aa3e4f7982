"""The detections API: the Sigma rules in the folders ``huntbook serve --rules`` names, run on
the store (``Workspace.detect``): every rule ran, skipped or failed with its reason, and the
hits, each with the store id (``_cd``) the page searches it by. A run is kept until run again."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from huntbook.engines.result import iso_time
from huntbook.errors import HuntbookError
from huntbook.web.responses import error_response, json_response
from huntbook.workspace import Workspace

if TYPE_CHECKING:
    from huntbook.detect.model import DetectResult, Hit

NO_RULES = (
    "No rule folders were given. Start the server with --rules DIR (repeatable) to run the "
    "Sigma rules in DIR here, e.g.  huntbook serve --store STORE --rules ./sigma/windows"
)


class DetectRuns:
    """The last detect run over ``folders`` (thread-safe; one run at a time)."""

    def __init__(self, workspace: Workspace, folders: tuple[Path, ...]) -> None:
        self.workspace = workspace
        self.folders = folders
        self._done: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def result(self, rerun: bool) -> dict[str, Any]:
        if not self.folders:
            return {"folders": [], "help": NO_RULES, "counts": {}, "rules": [], "hits": []}
        with self._lock:
            if rerun or self._done is None:
                self._done = _body(self.folders, self.workspace.detect(self.folders))
            return self._done


def _body(folders: tuple[Path, ...], result: DetectResult) -> dict[str, Any]:
    return {
        "folders": [str(f) for f in folders],
        "counts": result.counts(),
        "seconds": round(result.seconds, 3),
        "rules": [rule.summary() for rule in result.rules],
        "hits": [_hit(hit) for hit in result.hits],
    }


def _hit(hit: Hit) -> dict[str, Any]:
    event = hit.event
    return {
        "rule": hit.rule.title,
        "rule_id": hit.rule.id,
        "level": hit.rule.level,
        "time": iso_time(event.get("_time")),
        "host": event.get("host"),
        "_cd": event.get("_cd"),
    }


async def detections(request: Request) -> Response:
    runs: DetectRuns = request.app.state.detections
    rerun = request.query_params.get("rerun") == "1"
    try:
        return json_response(await run_in_threadpool(runs.result, rerun))
    except HuntbookError as exc:
        return error_response(exc)
