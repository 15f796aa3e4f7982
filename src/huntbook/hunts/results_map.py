"""Match the rows of a playbook's Results table to its queries.

The seed's table is written by hand: it has fewer rows than queries ("What Data Do We Have?" is not
listed) and names one of them differently ("Remote Execution via WMI - Destination Host" for the
transaction search). Rows are matched in three passes, each over what is still unmatched:
exact title (case and spacing ignored), then closest title (difflib ratio >= ``FUZZY_CUTOFF``), then
position: a row between two matched rows takes the first unmatched query between their queries.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from huntbook.hunts.model import Query, ResultRow
from huntbook.hunts.result import QueryOutcome, QueryStatus, ResultsTableRow

FUZZY_CUTOFF = 0.6
UNRUN = (
    QueryStatus.ERROR,
    QueryStatus.UNFILLED,
)  # no observed count to compare with the playbook's


def map_results(
    rows: Sequence[ResultRow], queries: Sequence[Query], outcomes: Sequence[QueryOutcome]
) -> list[ResultsTableRow]:
    """One ``ResultsTableRow`` per Results row, with the query it maps to and how (``match``)."""
    chosen: dict[int, tuple[int, str]] = {}
    _exact(rows, queries, chosen)
    _fuzzy(rows, queries, chosen)
    _by_order(rows, queries, chosen)
    by_index = {o.index: o for o in outcomes}
    table = []
    for r, row in enumerate(rows):
        q, how = chosen.get(r, (None, "none"))
        outcome = by_index.get(q) if q is not None else None
        table.append(
            ResultsTableRow(
                search=row.search,
                line=row.line,
                expected_hits=row.hits,
                query_index=q,
                query_title=queries[q].title if q is not None else None,
                match=how,
                observed_hits=outcome.hits if outcome and outcome.status not in UNRUN else None,
            )
        )
    return table


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _free(queries: Sequence[Query], chosen: dict[int, tuple[int, str]]) -> list[int]:
    used = {q for q, _ in chosen.values()}
    return [q.index for q in queries if q.index not in used]


def _exact(
    rows: Sequence[ResultRow], queries: Sequence[Query], chosen: dict[int, tuple[int, str]]
) -> None:
    for r, row in enumerate(rows):
        match = next(
            (q for q in _free(queries, chosen) if _key(queries[q].title) == _key(row.search)), None
        )
        if match is not None:
            chosen[r] = (match, "exact")


def _fuzzy(
    rows: Sequence[ResultRow], queries: Sequence[Query], chosen: dict[int, tuple[int, str]]
) -> None:
    for r, row in enumerate(rows):
        if r in chosen:
            continue
        scored = [
            (difflib.SequenceMatcher(None, _key(row.search), _key(queries[q].title)).ratio(), q)
            for q in _free(queries, chosen)
        ]
        best = max(scored, default=(0.0, -1))
        if best[0] >= FUZZY_CUTOFF:
            chosen[r] = (best[1], "fuzzy")


def _by_order(
    rows: Sequence[ResultRow], queries: Sequence[Query], chosen: dict[int, tuple[int, str]]
) -> None:
    for r in range(len(rows)):
        if r in chosen:
            continue
        low = max((chosen[p][0] for p in range(r) if p in chosen), default=-1)
        high = min(
            (chosen[n][0] for n in range(r + 1, len(rows)) if n in chosen), default=len(queries)
        )
        free = _free(queries, chosen)
        between = [q for q in free if low < q < high] or [q for q in free if q > low]
        if between:
            chosen[r] = (between[0], "order")
