"""The size of a chart's zero-filled grid, checked before the chart runs.

``timechart`` fills every (time bucket, series) pair, so a small span over a long range makes a
table far larger than the events behind it (span=1m over four years: two million rows). Splunk
refuses more than ``limits.conf [discretize] maxbins`` buckets (50,000 by default); huntbook does
the same, and warns when the grid is mostly zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from huntbook.errors import QueryLimitError

MAX_BINS = 50_000  # Splunk's limits.conf [discretize] maxbins default
SPARSE_RATIO = 20  # grid rows per event above which the result carries a warning
SPARSE_FLOOR = 10_000  # grids smaller than this never warn


@dataclass(frozen=True)
class GridCheck:
    """A query giving one row (buckets, series, events) for a chart about to be built."""

    select: exp.Select
    command: str  # how the warning names the chart, e.g. "timechart span=1m"


def grid_warning(check: GridCheck, buckets: int, series: int, events: int) -> str | None:
    """A warning when the grid is vastly larger than its events.

    Raises:
        QueryLimitError: more than ``MAX_BINS`` time buckets.
    """
    if buckets > MAX_BINS:
        raise QueryLimitError(
            f"{check.command} would make {buckets:,} time buckets, over the limit of "
            f"{MAX_BINS:,} (as Splunk's limits.conf [discretize] maxbins); use a larger span=, "
            "narrow the time range (--earliest/--latest), or cap the rows with --limit"
        )
    cells = buckets * max(series, 1)
    if cells < SPARSE_FLOOR or cells <= SPARSE_RATIO * max(events, 1):
        return None
    return (
        f"{check.command} fills {cells:,} rows for {events:,} events (most are zeros); "
        "a larger span= gives a smaller table"
    )
