"""Render an event in the EVTX JSON shape as compact Windows event XML, for ``_raw``.

The ``evtx`` package hands out JSON (``records_json``) or XML (``records``); asking for both parses
every record twice. The JSON is what normalization needs, so ``_raw`` is rendered from it here, in
the single-quoted, one-line form Splunk's XmlWinEventLog events have.
"""

from __future__ import annotations

from typing import Any

_TEXT = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTR = (*_TEXT, ("'", "&apos;"))


def _escape(text: str, table: tuple[tuple[str, str], ...] = _TEXT) -> str:
    """XML escaping; ``str.replace`` only where needed (``str.translate`` is far slower here)."""
    for char, entity in table:
        if char in text:
            text = text.replace(char, entity)
    return text


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: Any) -> str:
    """Element text: a value as text, XML-escaped (strings and ints, the common cases, first)."""
    kind = type(value)
    if kind is str:
        text: str = value
        if "&" in text or "<" in text or ">" in text:
            return _escape(text)
        return text
    if kind is int:
        return str(value)
    return _escape(_scalar(value))


def _attrs(attrs: Any) -> str:
    if not isinstance(attrs, dict):
        return ""
    return "".join(
        f" {k}='{_escape(_scalar(v), _ATTR)}'" for k, v in attrs.items() if v is not None
    )


def _element(parts: list[str], tag: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _element(parts, tag, item)
        return
    if not isinstance(value, dict):
        if value is None or value == "":
            parts.append(f"<{tag}/>")
        else:
            parts.append(f"<{tag}>{_text(value)}</{tag}>")
        return
    children = [(k, v) for k, v in value.items() if k not in ("#attributes", "#text")]
    text = value.get("#text")
    head = f"<{tag}{_attrs(value.get('#attributes'))}"
    if text is None and not children:
        parts.append(head + "/>")
        return
    parts.append(head + ">")
    if text is not None:
        texts = text if isinstance(text, list) else [text]
        parts.append("".join(_text(t) for t in texts))
    for key, child in children:
        _element(parts, key, child)
    parts.append(f"</{tag}>")


def _event_data(parts: list[str], data: Any) -> None:
    if not isinstance(data, dict):
        _element(parts, "EventData", data)
        return
    parts.append(f"<EventData{_attrs(data.get('#attributes'))}>")
    for name, value in data.items():
        if name == "#attributes":
            continue
        if name in ("Data", "#text"):
            inner = value.get("#text") if isinstance(value, dict) else value
            for item in inner if isinstance(inner, list) else [inner]:
                _element(parts, "Data", item)
        elif name == "Binary":
            _element(parts, "Binary", value)
        elif value is None or value == "":
            parts.append(f"<Data Name='{name}'/>")
        else:
            parts.append(f"<Data Name='{name}'>{_text(value)}</Data>")
    parts.append("</EventData>")


def render_event(obj: dict[str, Any]) -> str:
    """``{"Event": {...}}`` (evtx JSON shape) as one line of XML."""
    event = obj.get("Event", obj)
    parts = [f"<Event{_attrs(event.get('#attributes'))}>"]
    for key, value in event.items():
        if key == "#attributes":
            continue
        if key == "EventData":
            _event_data(parts, value)
        else:
            _element(parts, key, value)
    parts.append("</Event>")
    return "".join(parts)
