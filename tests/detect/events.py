"""Hand-made Sysmon events for detect's tests (one place: every test's event has the same core)."""

from __future__ import annotations

from typing import Any

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"


def sysmon_event(n: int = 0, **fields: Any) -> dict[str, Any]:
    """A Sysmon process start (EventCode 1) on host ``pc`` at second ``n``, with ``fields``."""
    base = {
        "_time": 1_600_000_000 + n,
        "_raw": "",
        "index": "main",
        "host": "pc",
        "source": SYSMON,
        "sourcetype": SYSMON,
        "EventCode": "1",
    }
    return {**base, **fields}
