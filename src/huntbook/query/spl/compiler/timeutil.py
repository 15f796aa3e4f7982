"""SPL time modifiers: ``earliest=-24h@h``, ``latest=now``, absolute ``%m/%d/%Y:%H:%M:%S``, epochs.

Resolved at compile time against ``now`` (the search start), all in UTC (the engine's one time
zone).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from huntbook.errors import SplSyntaxError

_UNIT = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
    "mon": "mon", "month": "mon", "months": "mon",
    "q": "q", "qtr": "q", "quarter": "q", "quarters": "q",
    "y": "y", "yr": "y", "yrs": "y", "year": "y", "years": "y",
}  # fmt: skip
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_OFFSET = re.compile(r"([+-])(\d*)([a-z]+)")
_SNAP = re.compile(r"@([a-z]+)(\d?)")
_ABSOLUTE = (
    "%m/%d/%Y:%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)


def parse_time(text: str, now: float, query: str = "", pos: int = 0) -> float:
    """Epoch seconds for an SPL time modifier (absolute, epoch, or relative with @snap)."""
    value = text.strip()
    if value.lower() == "now" or value == "":
        return now
    try:
        return float(value)
    except ValueError:
        pass
    absolute = _parse_absolute(value)
    if absolute is not None:
        return absolute
    try:
        return relative_time(now, value)
    except ValueError:
        raise SplSyntaxError(unreadable_time(text), query, pos) from None


# Words people type for a time; Splunk accepts none of them, so the message says what to write.
_WORD_HINTS = {
    "yesterday": "yesterday is earliest=-1d@d latest=@d",
    "today": "today starts at @d",
    "tomorrow": "tomorrow starts at +1d@d",
    "midnight": "the last midnight is @d",
}
RELATIVE_FORMS = (
    "relative -24h, -7d, +30m (units s, m, h, d, w, mon, q, y)",
    "snapped @d, -1d@d, @w1",
)
TIME_FORMS = (
    "now",
    *RELATIVE_FORMS,
    "ISO 2024-05-01 or 2024-05-01T12:00:00Z",
    "05/01/2024:12:00:00",
    "epoch seconds",
)


def unreadable_time(text: str, forms: tuple[str, ...] = TIME_FORMS) -> str:
    """The message for a time that does not parse: the value, a hint, the accepted ``forms``."""
    word = text.strip().lower()
    hint = f" (Splunk has no {word!r}: {_WORD_HINTS[word]})" if word in _WORD_HINTS else ""
    return f"cannot read time {text!r}{hint}; accepted forms: " + "; ".join(forms)


def _parse_absolute(value: str) -> float | None:
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        pass
    for fmt in _ABSOLUTE:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None


def relative_time(now: float, modifier: str) -> float:
    """Apply ``[+-]N<unit>`` offsets then an optional ``@<unit>`` snap (``-1d@d``, ``@w1``)."""
    text = modifier.strip().lower()
    moment = datetime.fromtimestamp(now, UTC)
    pos = 0
    while pos < len(text) and text[pos] in "+-":
        m = _OFFSET.match(text, pos)
        if not m or m.group(3) not in _UNIT:
            raise ValueError(f"bad offset in {modifier!r}")
        amount = int(m.group(2) or 1) * (1 if m.group(1) == "+" else -1)
        moment = _shift(moment, amount, _UNIT[m.group(3)])
        pos = m.end()
    if pos < len(text):
        m = _SNAP.fullmatch(text, pos)
        if not m or m.group(1) not in _UNIT:
            raise ValueError(f"bad snap in {modifier!r}")
        moment = _snap(moment, _UNIT[m.group(1)], m.group(2))
    return moment.timestamp()


def _shift(moment: datetime, amount: int, unit: str) -> datetime:
    if unit in _SECONDS:
        return moment + timedelta(seconds=amount * _SECONDS[unit])
    months = amount * {"mon": 1, "q": 3, "y": 12}[unit]
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    day = min(moment.day, 28)
    return moment.replace(year=year, month=month + 1, day=day)


def _snap(moment: datetime, unit: str, weekday: str) -> datetime:
    if unit == "s":
        return moment.replace(microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    if unit == "h":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return day
    if unit == "w":
        target = int(weekday or 0)  # @w0 = Sunday (Splunk), @w1 = Monday
        back = (day.isoweekday() % 7 - target) % 7
        return day - timedelta(days=back)
    if unit == "mon":
        return day.replace(day=1)
    if unit == "q":
        return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
    return day.replace(day=1, month=1)
