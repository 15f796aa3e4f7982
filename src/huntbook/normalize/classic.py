"""Classic Splunk ``WinEventLog`` text records to fields, the way Splunk extracts them (spl.md 5.1).

A record is a timestamp line, ``key=value`` header lines, then ``Message=`` and the message.
Each message line ``<label>:<spaces or tabs><value>`` becomes a field named by CLEAN_KEYS (every
non-alphanumeric character becomes ``_``; leading ``_`` and digits are stripped). A label seen twice
gives a multivalue field in order of appearance when mappings/multivalue.yaml declares it; otherwise
the first value is kept, so every column keeps one type.
"""

from __future__ import annotations

import re
from functools import lru_cache

from huntbook.errors import IngestError
from huntbook.normalize.fields import Fields
from huntbook.normalize.tables import tables
from huntbook.normalize.timeparse import classic_to_epoch

_LABEL = re.compile(r"\n([^:\n\r]+):[ \t]+([^\n]*)")
_UNCLEAN = re.compile(r"[^A-Za-z0-9]")
_LEADING = re.compile(r"^[_0-9]+")


@lru_cache(maxsize=4096)
def clean_key(label: str) -> str:
    """Splunk's CLEAN_KEYS: ``\\tLogon ID`` -> ``Logon_ID``, ``Package Name (NTLM only)`` ->
    ``Package_Name__NTLM_only_``."""
    return _LEADING.sub("", _UNCLEAN.sub("_", label))


def _header(lines: list[str], out: Fields) -> int:
    """Header ``key=value`` lines into ``out``; returns the index of the ``Message=`` line."""
    for i, line in enumerate(lines):
        key, eq, value = line.partition("=")
        if not eq:
            continue
        if key == "Message":
            return i
        value = value.rstrip()
        if value and key not in out:
            out[key] = value
    return len(lines)


def _message_fields(message: str, out: Fields) -> None:
    multivalue = tables().multivalue
    for label, raw_value in _LABEL.findall(message):
        value = raw_value.rstrip()
        name = clean_key(label)
        if not value or not name:
            continue
        if name in multivalue:
            out.setdefault(name, []).append(value)
        elif name not in out:
            out[name] = value


def classic_fields(record: str) -> tuple[Fields, float]:
    """One classic record's fields and ``_time`` (the first line, read as UTC)."""
    text = record.replace("\r\n", "\n").strip("\n")
    first, _, rest = text.partition("\n")
    lines = rest.split("\n")
    out: Fields = {}
    at = _header(lines, out)
    if "EventCode" not in out:
        raise IngestError("classic WinEventLog record without EventCode=")
    if at < len(lines):
        message = "\n".join([lines[at].partition("=")[2], *lines[at + 1 :]])
        out["Message"] = message.rstrip()
        _message_fields(message, out)
    return out, classic_to_epoch(first)
