"""Run a playbook's queries in order and build the ``HuntResult``.

Each query runs through a search function (``huntbook.query.run_spl`` unless one is passed in, which
is how the runner is tested apart from the engine). A failing query records its error and the hunt
goes on; a broken document (missing sections, empty or untitled queries) stops before anything runs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import huntbook
from huntbook.errors import HuntbookError
from huntbook.hunts import builtin
from huntbook.hunts.findings import Analytics, compute_findings
from huntbook.hunts.lint import check_playbook
from huntbook.hunts.loader import parse_file
from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.needs import absent_needs, no_data_note
from huntbook.hunts.pivots import DEFAULT_CAP, fill, pivot, placeholder_names
from huntbook.hunts.problems import ErrorLevel, Problem
from huntbook.hunts.result import HuntResult, QueryOutcome, QueryRun
from huntbook.hunts.results_map import map_results
from huntbook.query import run_spl
from huntbook.store.protocol import StoreLike

SAMPLE_ROWS = 20
KEPT_ROWS = 5000  # rows kept in memory per query for later pivots


class SearchResultLike(Protocol):
    """What the runner reads of ``huntbook.query.SearchResult``."""

    @property
    def columns(self) -> list[str]: ...

    @property
    def sql(self) -> str: ...

    @property
    def elapsed(self) -> float: ...

    def rows(self) -> list[dict[str, Any]]: ...


Search = Callable[[StoreLike, str], SearchResultLike]
Earlier = list[tuple[str, Sequence[str], Sequence[Mapping[str, Any]]]]


def run_hunt(
    store: StoreLike,
    playbook: str | os.PathLike[str] | Playbook,
    params: Mapping[str, str] | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    search: Search | None = None,
    analytics: Analytics | None = None,
    pivot_cap: int = DEFAULT_CAP,
) -> HuntResult:
    """Run a hunt and, with ``out``, write report.json/.md/.html there (atomically).

    Args:
        store: a ``huntbook.store.Store``.
        playbook: a markdown path, a built-in name (``huntbook hunt list``) or a loaded Playbook.
        params: placeholder values (``login_id`` -> ``0x3e7``); others pivot on earlier rows.
        out: the report directory, or None to only return the result.
        search: ``(store, spl) -> SearchResult``; defaults to ``huntbook.query.run_spl``.
        analytics: ``(store, playbook) -> findings``; defaults to ``huntbook.analytics``.
        pivot_cap: at most this many runs of a templated query.

    Raises:
        PlaybookError: the document is broken: a missing section, an empty or untitled query, an
            unknown placeholder or data need (every problem listed with its line).
    """
    book, problems = (
        (playbook, []) if isinstance(playbook, Playbook) else _load(playbook, params or {})
    )
    search = search or run_spl
    run_time = dt.datetime.now(dt.UTC)
    outcomes = _run_queries(store, book, dict(params or {}), search, pivot_cap)
    findings = (analytics or compute_findings)(store, book)
    result = HuntResult(
        huntbook_version=huntbook.__version__,
        run_time=run_time.isoformat().replace("+00:00", "Z"),
        store=_store_stamp(store),
        time_range=_time_range(store),
        playbook=_playbook_doc(book),
        params=dict(params or {}),
        queries=outcomes,
        results_table=map_results(book.results, book.queries, outcomes),
        findings=findings,
        problems=[p.to_dict() for p in problems],
    )
    if out is not None:
        from huntbook.hunts.writer import write_reports

        write_reports(result, Path(out))
    return result


def _load(
    playbook: str | os.PathLike[str], params: Mapping[str, str]
) -> tuple[Playbook, list[Problem]]:
    """Load and check a document before anything runs: structure, placeholders, data needs.

    Returns the playbook and its warnings (which the report lists); errors raise.

    SPL that does not compile is not checked here: it is recorded on its query and the hunt goes
    on (``huntbook hunt lint`` reports it up front).
    """
    book, collector = parse_file(builtin.resolve(playbook), ErrorLevel.RAISE)
    check_playbook(book, collector, params, compiler=lambda text: None)
    return book, collector.check()


def _run_queries(
    store: StoreLike, book: Playbook, params: dict[str, str], search: Search, cap: int
) -> list[QueryOutcome]:
    earlier: Earlier = []
    outcomes = []
    for query in book.queries:
        outcome, rows = _run_query(store, query, params, earlier, search, cap)
        _explain_zero(store, outcome, search)
        earlier.append((query.title, outcome.columns, rows))
        outcomes.append(outcome)
    return outcomes


def _run_query(
    store: StoreLike,
    query: Query,
    params: dict[str, str],
    earlier: Earlier,
    search: Search,
    cap: int,
) -> tuple[QueryOutcome, list[dict[str, Any]]]:
    outcome = QueryOutcome(query.index, query.title, query.line, query.spl)
    names = placeholder_names(query.spl)
    outcome.placeholders = names
    if not names:
        return outcome, _execute(store, query.spl, {}, outcome, search, templated=False)
    missing = [n for n in names if n not in params]
    value_sets = [{n: params[n] for n in names if n in params}]
    if missing:
        found = pivot(missing, earlier, cap)
        if found is None:
            outcome.status = "unfilled"
            outcome.note = _unfilled_note(missing)
            return outcome, []
        outcome.pivot = {
            "source": found.source,
            "source_index": found.source_index,
            "columns": found.columns,
            "distinct": found.distinct,
            "cap": cap,
        }
        value_sets = [{**value_sets[0], **v} for v in found.values]
    rows: list[dict[str, Any]] = []
    for values in value_sets:
        rows.extend(
            _execute(store, fill(query.spl, values), values, outcome, search, templated=True)
        )
    outcome.hits_note = f"sum of {len(outcome.runs)} run(s), one per distinct value set"
    if outcome.pivot and outcome.pivot["distinct"] > cap:
        outcome.hits_note += f" (first {cap} of {outcome.pivot['distinct']} distinct value sets)"
    return outcome, rows


def _unfilled_note(missing: list[str]) -> str:
    flags = " ".join(f"--param {n}=VALUE" for n in missing)
    return (
        f"placeholder(s) {', '.join('<' + n + '>' for n in missing)} not filled: no earlier "
        f"query yielded those fields; pass {flags}"
    )


def _execute(
    store: StoreLike,
    spl: str,
    values: dict[str, str],
    outcome: QueryOutcome,
    search: Search,
    *,
    templated: bool,
) -> list[dict[str, Any]]:
    """Run one SPL text, fold it into ``outcome`` and return (up to KEPT_ROWS) rows."""
    started = time.perf_counter()
    try:
        result = search(store, spl)
        rows = result.rows()
    except Exception as exc:  # noqa: BLE001 - one failing query must not sink the hunt (issue 4)
        elapsed = time.perf_counter() - started
        message = str(exc) if isinstance(exc, HuntbookError) else f"{type(exc).__name__}: {exc}"
        outcome.status, outcome.error = "error", message
        outcome.elapsed += elapsed
        if templated:
            outcome.runs.append(QueryRun(values, spl, 0, elapsed, message))
        return []
    outcome.hits += len(rows)
    outcome.elapsed += result.elapsed
    outcome.sql = outcome.sql or result.sql
    outcome.columns = outcome.columns or list(result.columns)
    room = SAMPLE_ROWS - len(outcome.sample)
    outcome.sample.extend(_jsonable(r) for r in rows[: max(room, 0)])
    outcome.sample_truncated = outcome.sample_truncated or len(rows) > room
    if templated:
        outcome.runs.append(QueryRun(values, spl, len(rows), result.elapsed))
    return rows[:KEPT_ROWS]


def _explain_zero(store: StoreLike, outcome: QueryOutcome, search: Search) -> None:
    """Mark a zero as "no data" when the events the query needs are absent from the store."""
    if outcome.status != "ok" or outcome.hits:
        return
    outcome.status = "zero"
    spl = outcome.runs[0].spl if outcome.runs else outcome.spl

    def count(probe: str) -> int:
        try:
            return len(search(store, probe).rows())
        except HuntbookError:
            return 1  # cannot tell: do not claim missing data

    absent = absent_needs(spl, count)
    if absent:
        outcome.status = "no_data"
        outcome.needs = [n.label for n in absent]
        outcome.note = no_data_note(absent)


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | list | type(None)) else str(v)
        for k, v in row.items()
    }


def _store_stamp(store: StoreLike) -> dict[str, Any]:
    return {"path": str(store.path), "inputs": store.inputs()}


def _time_range(store: StoreLike) -> dict[str, Any]:
    """First and last event time in the store and its event count (from ``Store.stats()``)."""
    groups = store.stats()
    if not groups:
        return {"earliest": None, "latest": None, "events": 0}
    first = min(groups, key=lambda g: g["first_epoch"])
    last = max(groups, key=lambda g: g["last_epoch"])
    return {
        "earliest": first["first_time"],
        "latest": last["last_time"],
        "events": sum(g["count"] for g in groups),
        "earliest_epoch": first["first_epoch"],
        "latest_epoch": last["last_epoch"],
    }


def _playbook_doc(book: Playbook) -> dict[str, Any]:
    return {
        "title": book.title,
        "name": book.name,
        "path": book.path,
        "description": book.description,
        "metadata": [list(m) for m in book.metadata],
        "techniques": [{"name": t.name, "ids": list(t.ids)} for t in book.techniques],
        "hypothesis": book.hypothesis,
        "data_needed": [d.name for d in book.data_needed],
        "conclusion_written": book.conclusion,
        "outputs": list(book.outputs),
        "notes": book.notes,
        "references": list(book.references),
    }
