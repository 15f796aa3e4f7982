"""report.json: the result document itself."""

from __future__ import annotations

from huntbook.hunts.result import HuntResult, validate_document


def render_json(result: HuntResult) -> str:
    """The document as JSON text, checked against the contract before it is written."""
    validate_document(result.to_dict())
    return result.to_json() + "\n"
