"""NXLog flat objects: which stamp becomes ``_time`` (windows-data.md items 4 and 7)."""

from __future__ import annotations

from huntbook.normalize.flat import flat_time

NXLOG = {
    "EventTime": "2020-09-21 00:14:53",  # host local time (UTC-4), whole seconds
    "EventReceivedTime": "2020-09-21 00:14:55",
    "@timestamp": "2020-09-21T04:14:55.050Z",  # the collector's receive time, not the event's
}


def test_event_time_moved_to_utc_without_sysmon_stamp():
    assert flat_time(NXLOG) == 1600661693.0


def test_sysmon_utc_time_gives_the_milliseconds():
    """Splunk's Sysmon add-on indexes UtcTime (TIME_PREFIX=<Data Name='UtcTime'>)."""
    assert flat_time({**NXLOG, "UtcTime": "2020-09-21 04:14:53.831"}) == 1600661693.831


def test_a_sysmon_stamp_from_another_second_is_not_trusted():
    assert flat_time({**NXLOG, "UtcTime": "2020-09-21 04:10:00.000"}) == 1600661693.0
    assert flat_time({**NXLOG, "UtcTime": "not a time"}) == 1600661693.0
