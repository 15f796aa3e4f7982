"""JSON responses (orjson: NaN becomes null, as the CLI's JSON has no other way to say it) and
the error body every API failure has."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from huntbook.errors import HuntbookError, QueryError, SplSyntaxError, StoreMissingError

#: error class -> HTTP status (the first match in this order wins)
STATUS: tuple[tuple[type[HuntbookError], int], ...] = (
    (QueryError, 400),
    (StoreMissingError, 404),
    (HuntbookError, 500),
)


def json_response(data: Any, status: int = 200) -> Response:
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS, default=str)
    return Response(body, status_code=status, media_type="application/json")


def error_response(exc: HuntbookError) -> Response:
    """``{"error": {type, message, ...}}``; an SPL error adds reason, line and col.

    ``message`` is what the CLI prints after ``Error:`` (for SPL, the caret excerpt too).
    """
    error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, SplSyntaxError):
        error.update(reason=exc.reason, line=exc.line, col=exc.col, pos=exc.pos)
    status = next(code for kind, code in STATUS if isinstance(exc, kind))
    return json_response({"error": error}, status)
