"""Timestamps of every input shape to epoch seconds (UTC), fast: events share their second.

Parsing the date-time part is cached by its text, so a file of events within the same seconds pays
``strptime`` once per second, not once per event.
"""

from __future__ import annotations

import calendar
import re
import time
from functools import lru_cache

from huntbook.errors import IngestError

_ISO = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|UTC|[+-]\d{2}:?\d{2})?"
)
_CLASSIC_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %I:%M:%S %p")


@lru_cache(maxsize=65_536)
def _seconds(date: str, clock: str) -> int:
    year, month, day = int(date[0:4]), int(date[5:7]), int(date[8:10])
    hour, minute, second = int(clock[0:2]), int(clock[3:5]), int(clock[6:8])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise IngestError(f"not a valid date-time: {date} {clock}")
    return calendar.timegm((year, month, day, hour, minute, second))


def _offset(zone: str | None) -> int:
    if not zone or zone in ("Z", "UTC"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


@lru_cache(maxsize=65_536)
def iso_to_epoch(text: str) -> float:
    """``2022-10-11T19:26:52.1540806Z`` (any fraction length, optional zone; none means UTC)."""
    m = _ISO.match(text.strip())
    if not m:
        raise IngestError(f"not an ISO-8601 time: {text!r}")
    date, clock, frac, zone = m.groups()
    value = float(_seconds(date, clock) - _offset(zone))
    return value + float(f"0.{frac}") if frac else value


@lru_cache(maxsize=65_536)
def classic_to_epoch(text: str) -> float:
    """The first line of a classic WinEventLog record (``08/23/2017 03:31:16 PM``), read as UTC."""
    for fmt in _CLASSIC_FORMATS:
        try:
            return float(calendar.timegm(time.strptime(text.strip(), fmt)))
        except ValueError:
            continue
    raise IngestError(f"not a WinEventLog time: {text!r}")


def local_to_utc(local: str, local_received: str, utc_received: str) -> float:
    """An NXLog local ``EventTime`` in UTC, the zone taken from the received time's two forms.

    NXLog's ``EventTime`` is the event's creation time in the host's local zone; ``@timestamp`` is
    the collector's UTC receive time and ``EventReceivedTime`` the same moment in local time. Their
    difference, rounded to 15 minutes, is the zone offset.
    """
    offset = iso_to_epoch(local_received) - iso_to_epoch(utc_received)
    quarter = 900 * round(offset / 900)
    return iso_to_epoch(local) - quarter
