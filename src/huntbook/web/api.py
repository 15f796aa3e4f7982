"""The search API: ``/api/search`` (rows as ``huntbook search --format json`` prints them, plus
total, fields summary and timeline), ``/api/export`` (every row, CSV or JSON, page by page) and
``/api/cancel``. Each search runs in a worker thread on its own connection."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from huntbook.engines.result import cell_text
from huntbook.errors import HuntbookError
from huntbook.web.responses import error_response, json_response
from huntbook.web.running import Running
from huntbook.workspace import Workspace

PAGE_ROWS = 50
MAX_PAGE_ROWS = 1000
EXPORT_ROWS = 5000  # rows fetched per step of an export
#: export format -> media type
EXPORTS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


class BadRequest(ValueError):
    """A parameter the API cannot use (answered with status 400)."""


def _int(request: Request, name: str, default: int, top: int | None = None) -> int:
    text = request.query_params.get(name) or str(default)
    if not text.isdigit() or (top is not None and int(text) > top):
        limit = f" up to {top}" if top is not None else ""
        raise BadRequest(f"{name} must be a whole number{limit}, not {text!r}")
    return int(text)


def _spl(request: Request) -> tuple[str, str | None, str | None]:
    params = request.query_params
    query = params.get("q", "").strip()
    if not query:
        raise BadRequest("q (the SPL search) is missing")
    return query, params.get("earliest") or None, params.get("latest") or None


def _bad(exc: BadRequest) -> Response:
    return json_response({"error": {"type": "BadRequest", "message": str(exc)}}, 400)


def _summary(profile: Any, read: Any, fields: Any, timeline: Any) -> dict[str, Any]:
    """The fields of the rows ``read`` (all, or the first ``SUMMARY_ROWS``: ``fields_from``
    says how many) and the timeline and time range of the whole result (``profile``)."""
    return {
        "fields_from": read.total,
        "fields": [
            {"name": f.name, "count": f.count, "top": [{"value": v, "count": n} for v, n in f.top]}
            for f in fields
        ],
        "timeline": None
        if timeline is None
        else {"start": timeline.start, "span": timeline.span, "counts": timeline.counts},
        "first": profile.first,
        "last": profile.last,
    }


def run_search(
    workspace: Workspace,
    running: Running,
    query: tuple[str, str | None, str | None],
    offset: int,
    count: int,
    options: dict[str, Any],
) -> dict[str, Any]:
    """One page of a search, its total and (``summary``) its fields and timeline (without
    ``summary`` the total is counted with the page's keys or a bare COUNT, not the profile of
    every column; the fields are those of the result's first SUMMARY_ROWS rows at most)."""
    text, earliest, latest = query
    exploration = workspace.explore(text, earliest=earliest, latest=latest)
    with contextlib.closing(exploration), running.track(options["sid"], exploration):
        page = exploration.page(offset, count)
        profile = exploration.profile() if options["summary"] else None
        body: dict[str, Any] = {
            "columns": page.columns,
            "rows": exploration.export(page),
            "offset": offset,
            "count": count,
            "total": exploration.total() if profile is None else profile.total,
            "events": "_raw" in page.columns,
            "warnings": exploration.warnings,
        }
        if profile is not None:
            read = exploration.summary_profile(profile)
            fields = exploration.fields(read)
            body.update(_summary(profile, read, fields, exploration.timeline(profile)))
    return body


async def search(request: Request) -> Response:
    workspace: Workspace = request.app.state.workspace
    try:
        query = _spl(request)
        offset = _int(request, "offset", 0)
        count = _int(request, "count", PAGE_ROWS, MAX_PAGE_ROWS)
    except BadRequest as exc:
        return _bad(exc)
    options = {
        "sid": request.query_params.get("sid", ""),
        "summary": request.query_params.get("summary", "1") != "0",
    }
    running: Running = request.app.state.running
    try:
        body = await run_in_threadpool(
            run_search, workspace, running, query, offset, count, options
        )
    except HuntbookError as exc:
        return error_response(exc)
    return json_response(body)


async def cancel(request: Request) -> Response:
    running: Running = request.app.state.running
    return json_response({"cancelled": running.cancel(request.query_params.get("sid", ""))})


def _export_chunks(exploration: Any, fmt: str) -> Iterator[bytes]:
    """The whole result as CSV or a JSON array, EXPORT_ROWS rows per step."""
    with contextlib.closing(exploration):
        offset, columns = 0, exploration.schema().names
        if fmt == "csv":
            yield _csv_line(columns)
        else:
            yield b"["
        while True:
            rows = exploration.export(exploration.page(offset, EXPORT_ROWS))
            for i, row in enumerate(rows):
                if fmt == "csv":
                    yield _csv_line([cell_text(row.get(c)) for c in columns])
                else:
                    yield (b"," if offset or i else b"") + orjson.dumps(row, default=str)
            if len(rows) < EXPORT_ROWS:
                break
            offset += EXPORT_ROWS
        if fmt == "json":
            yield b"]"


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode()


async def export(request: Request) -> Response:
    workspace: Workspace = request.app.state.workspace
    fmt = request.query_params.get("format", "csv")
    try:
        if fmt not in EXPORTS:
            raise BadRequest(f"format must be one of {', '.join(EXPORTS)}, not {fmt!r}")
        text, earliest, latest = _spl(request)
    except BadRequest as exc:
        return _bad(exc)
    try:
        exploration = await run_in_threadpool(
            workspace.explore, text, earliest=earliest, latest=latest
        )
    except HuntbookError as exc:
        return error_response(exc)
    headers = {"Content-Disposition": f'attachment; filename="huntbook-results.{fmt}"'}
    return StreamingResponse(
        _export_chunks(exploration, fmt), media_type=EXPORTS[fmt], headers=headers
    )
