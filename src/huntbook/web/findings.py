"""The findings API: what every analytic finds on the whole store (``Workspace.findings``, as
``huntbook findings --format json`` prints it): the lateral-movement edges with their evidence
(each event with its store id ``_cd`` and, where the store knows them, its file and record),
the decoded PowerShell, visibility, the conclusion and any analytic that could not run. A run is
kept per index until run again."""

from __future__ import annotations

import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from huntbook.errors import HuntbookError
from huntbook.web.responses import error_response, json_response
from huntbook.workspace import Workspace


class FindingsRuns:
    """The last findings of each index (``""``: the whole store); thread-safe, one run at a time."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._done: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def result(self, index: str, rerun: bool) -> dict[str, Any]:
        with self._lock:
            if rerun or index not in self._done:
                started = time.perf_counter()
                found = self.workspace.findings(index=index or None)
                seconds = round(time.perf_counter() - started, 3)
                self._done[index] = {"index": index or None, "seconds": seconds, **found}
            return self._done[index]


async def findings(request: Request) -> Response:
    runs: FindingsRuns = request.app.state.findings
    index = request.query_params.get("index", "").strip()
    rerun = request.query_params.get("rerun") == "1"
    try:
        return json_response(await run_in_threadpool(runs.result, index, rerun))
    except HuntbookError as exc:
        return error_response(exc)
