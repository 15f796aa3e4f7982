"""Small value helpers shared by the shape-specific normalizers."""

from __future__ import annotations

from typing import Any

Fields = dict[str, Any]


def text(value: Any) -> str | None:
    """A JSON/XML value as Splunk text: ``#text`` of an element, lists joined by newlines."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return text(value.get("#text"))
    if isinstance(value, list):
        parts = [t for t in (text(v) for v in value) if t is not None]
        return "\n".join(parts) if parts else None
    return str(value)


def texts(value: Any) -> list[str]:
    """A value as a list of texts (for positional and multivalue data)."""
    if isinstance(value, dict):
        value = value.get("#text")
    items = value if isinstance(value, list) else [value]
    return [t for t in (text(v) for v in items) if t is not None and t != ""]


def dig(obj: Any, path: tuple[str, ...]) -> Any:
    """``obj[p0][p1]...`` or None when any step is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def put_leaves(out: Fields, obj: Any, multivalue: frozenset[str]) -> None:
    """Every leaf of a nested element under its own name (UserData, ProcessingErrorData).

    The first value of a name wins unless the name is declared multivalue, then values append.
    """
    if not isinstance(obj, dict):
        return
    for key, value in obj.items():
        if key.startswith("#"):
            continue
        if isinstance(value, dict) and "#text" not in value:
            put_leaves(out, value, multivalue)
            continue
        if key in multivalue:
            out.setdefault(key, []).extend(texts(value))
        elif key not in out and (t := text(value)) not in (None, ""):
            out[key] = t
