"""Event kinds beyond the built-in ones, as data: ``event_kinds`` of methods.yaml.

Why: a rule's ``event:`` names what kind of event it reads. Process starts, service installs,
task registrations and share writes are built in (sessions.py); the rest - WMI event consumers,
DLL loads, file writes, registry writes, service state changes, the RDP channels - are one entry
each in methods.yaml: their EventCodes and the channel (a substring of ``source``) they come from.
The channel matters because EventCodes collide: Sysmon 21 is a WMI binding, LocalSessionManager 21
an RDP logon.

API: ``extra_kinds()`` (cached), ``kind_of(row)`` for a row with ``EventCode`` and ``source``,
``kind_sql(columns, kind)`` for the same test in the engine, ``planted_sql(columns)`` for a DLL
load of a file the SMB server wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import Columns, code_in, is_sysmon, text
from huntbook.analytics._yaml import table
from huntbook.errors import MappingError


@dataclass(frozen=True)
class KindSource:
    """Events of one channel that make a kind: their EventCodes and a substring of ``source``."""

    codes: tuple[str, ...]
    channel: str


def _sources(name: str, raw: Any) -> tuple[KindSource, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise MappingError(
            f"methods.yaml event_kinds {name}: expected a list of {{codes, channel}}"
        )
    try:
        return tuple(
            KindSource(tuple(str(c) for c in s["codes"]), str(s["channel"]).lower()) for s in raw
        )
    except KeyError as exc:
        raise MappingError(f"methods.yaml event_kinds {name}: missing {exc}") from exc


@lru_cache(maxsize=1)
def extra_kinds() -> dict[str, tuple[KindSource, ...]]:
    """The ``event_kinds`` table of methods.yaml: kind name -> the channels' events it covers."""
    raw = (table("methods.yaml") or {}).get("event_kinds", {})
    return {str(name): _sources(str(name), spec) for name, spec in raw.items()}


def kind_of(row: Mapping[str, Any]) -> str | None:
    """The extra kind of a row (``EventCode``, ``source``), or None when it is none of them."""
    code, channel = str(row.get("EventCode")), str(row.get("source") or "").lower()
    for name, sources in extra_kinds().items():
        if any(code in s.codes and s.channel in channel for s in sources):
            return name
    return None


def kind_sql(columns: Columns, kind: str) -> exp.Expr:
    """The events of an extra kind, as a filter over ``events``."""
    channel = columns.lower("source")
    return exp.or_(
        *[
            exp.and_(
                code_in(columns, s.codes),
                exp.Like(this=channel, expression=text(f"%{s.channel}%")),
            )
            for s in extra_kinds()[kind]
        ]
    )


def planted_sql(columns: Columns) -> exp.Expr:
    """The loaded DLL (``ImageLoaded``) is a file that System wrote on the same host (Sysmon 11 by
    ``System``: the SMB server writing a file copied over a share)."""
    host = exp.Lower(this=exp.column("host", quoted=True))
    written = (
        exp.select(host, columns.lower("TargetFilename"))
        .from_(columns.table)
        .where(written_by_system(columns))
    )
    loaded = exp.Tuple(expressions=[host, columns.lower("ImageLoaded")])
    return exp.In(this=loaded, query=exp.Subquery(this=written))


def written_by_system(columns: Columns) -> exp.Expr:
    """Sysmon 11 by ``System``: the files ``planted_sql`` reads."""
    return exp.and_(
        code_in(columns, ["11"]),
        is_sysmon(columns),
        exp.EQ(this=columns.lower("Image"), expression=text("system")),
    )
