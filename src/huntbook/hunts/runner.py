"""Run a playbook's queries in order and build the ``HuntResult``.

Each query runs through a search function (``huntbook.query.kept_spl`` unless one is passed in,
which is how the runner is tested apart from the engine), told how many rows to keep: the query's
(or its pivot runs' together) first ``KEPT_ROWS`` rows for later pivots, or a sample's. Only those
rows and the count come back: a query or pivot run returning millions of events is counted in the
engine, not produced row by row (``kept_spl``); each run's SPL and hits in the report reach every
row. A failing query records its error and the hunt goes on; a broken document (missing sections,
empty or untitled queries) stops before anything runs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import huntbook
from huntbook.errors import HuntbookError
from huntbook.hunts import builtin, spltree
from huntbook.hunts.findings import Analytics, compute_findings
from huntbook.hunts.lint import check_playbook
from huntbook.hunts.loader import parse_file
from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.needs import Need, absent_needs, no_data_note
from huntbook.hunts.pivots import DEFAULT_CAP, fill, pivot, placeholder_names
from huntbook.hunts.problems import ErrorLevel, Problem
from huntbook.hunts.result import (
    Coverage,
    Findings,
    HuntResult,
    IndexOverride,
    InputStamp,
    Pivot,
    PlaybookDoc,
    ProblemDoc,
    QueryOutcome,
    QueryRun,
    QueryStatus,
    StoreStamp,
    TechniqueDoc,
    TimeRange,
)
from huntbook.hunts.results_map import map_results
from huntbook.hunts.retarget import named_indexes, retarget
from huntbook.hunts.scope import IndexScope
from huntbook.query import SearchStream, kept_spl
from huntbook.query.spl import ast
from huntbook.store.protocol import StoreLike

SAMPLE_ROWS = 20
KEPT_ROWS = 5000  # rows kept in memory per query (all its pivot runs together) for later pivots


class SearchResultLike(Protocol):
    """What the runner reads of ``huntbook.query.SearchResult``."""

    @property
    def columns(self) -> list[str]: ...

    @property
    def sql(self) -> str: ...

    @property
    def elapsed(self) -> float: ...

    def __len__(self) -> int: ...

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]: ...


class Search(Protocol):
    """``huntbook.query.kept_spl``'s shape: ``pipeline`` is ``spl`` parsed and rewritten; the
    result counts every row and holds at least the first ``keep`` (a ``SearchStream`` is read to
    its end keeping ``keep``)."""

    def __call__(
        self, store: StoreLike, spl: str, /, *, keep: int, pipeline: ast.Pipeline | None = None
    ) -> SearchResultLike | SearchStream: ...


@dataclass
class Searcher:
    """The search every query and probe of one run goes through: with ``index`` set, each search
    runs against that index in place of the ones it names (rewritten on the parsed search)."""

    search: Search
    index: str | None = None
    replaced: dict[str, None] = field(default_factory=dict)
    unscoped: bool = False  # some search named no index: it read every index

    def __call__(self, store: StoreLike, spl: str, keep: int) -> SearchResultLike:
        """``spl``'s count and at least its first ``keep`` rows."""
        tree = spltree.pipeline(spl)
        if tree is None:  # a query that does not parse fails as it is
            return _kept(self.search(store, spl, keep=keep), keep)
        named = named_indexes(tree)
        self.replaced.update(dict.fromkeys(named))
        self.unscoped = self.unscoped or not named
        if self.index is None:
            return _kept(self.search(store, spl, keep=keep), keep)
        pipeline = retarget(tree, self.index).pipeline
        return _kept(self.search(store, spl, keep=keep, pipeline=pipeline), keep)

    def searched(self) -> list[str] | None:
        """The indexes the searches read; None when some search read every index."""
        if self.index is not None:
            return [self.index]
        return None if self.unscoped else sorted(self.replaced)

    def probe(self, store: StoreLike, spl: str) -> SearchResultLike:
        """A probe the runner wrote itself (its index, if any, is already the one searched)."""
        return _kept(self.search(store, spl, keep=KEPT_ROWS), KEPT_ROWS)

    def override(self) -> IndexOverride | None:
        """report.json's ``index_override``: the index searched and those the playbook named."""
        if self.index is None:
            return None
        return IndexOverride(self.index, list(self.replaced))


def _kept(found: SearchResultLike | SearchStream, keep: int) -> SearchResultLike:
    """A streamed search read to its end, keeping its count and first ``keep`` rows."""
    return found.keep(keep) if isinstance(found, SearchStream) else found


Earlier = list[tuple[str, Sequence[str], Sequence[Mapping[str, Any]]]]


class OneConnection:
    """``store`` with one DuckDB connection for all of a hunt's searches: each search gets a
    cursor on it (a connection of its own to the same database, which the search closes), so
    the ``events`` view over the store's files is made once, and the files' Parquet footers are
    read once (the store's connections cache them: ``store.views.cache_footers``), not once per
    search, probe and pivot run. Everything else is the store's own."""

    def __init__(self, store: StoreLike) -> None:
        self.store = store
        self.con: Any = None

    def connect(self) -> Any:
        if self.con is None:
            self.con = self.store.connect()
        return self.con.cursor()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def run_hunt(
    store: StoreLike,
    playbook: str | os.PathLike[str] | Playbook,
    params: Mapping[str, str] | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    search: Search | None = None,
    analytics: Analytics | None = None,
    pivot_cap: int = DEFAULT_CAP,
    index: str | None = None,
    hunter: str | None = None,
    overlap: bool = True,
) -> HuntResult:
    """Run a hunt and, with ``out``, write report.json/.md/.html there (atomically).

    Args:
        store: a ``huntbook.store.Store``.
        playbook: a markdown path, a built-in name (``huntbook hunt list``) or a loaded Playbook.
        params: placeholder values (``login_id`` -> ``0x3e7``); others pivot on earlier rows.
        out: the report directory, or None to only return the result.
        search: ``(store, spl, keep=N) -> SearchStream or a result counting every row and
            holding the first N``; defaults to ``huntbook.query.kept_spl``.
        analytics: ``(store, playbook) -> findings``; defaults to ``huntbook.analytics``.
        pivot_cap: at most this many runs of a templated query.
        index: run every search against this index in place of the indexes it names.
        hunter: who ran the hunt, for the report's "Threat Hunter" (else "not set").
        overlap: run the analytics in a thread while the searches run (False: after them, as
            a profile of each stage needs).

    Raises:
        PlaybookError: the document is broken: a missing section, an empty or untitled query, an
            unknown placeholder or data need (every problem listed with its line).
    """
    book, problems = (
        (playbook, []) if isinstance(playbook, Playbook) else _load(playbook, params or {})
    )
    searcher = Searcher(search or kept_spl, index)
    run_time = dt.datetime.now(dt.UTC)
    # the findings see what the searches see: the index the hunt was pointed at, if any
    seen = store if index is None else IndexScope(store, index)
    compute = analytics or compute_findings
    with ThreadPoolExecutor(max_workers=1) as pool:
        # on a connection of their own, alongside the searches when ``overlap`` (the searches
        # leave part of a second core idle, and the analytics read no search's result)
        pending = pool.submit(compute, seen, book) if overlap else None
        # then the store's counts per source (the report's time range and coverage), a scan of
        # every event, also before the searches end
        counted = pool.submit(store.stats) if overlap else None
        searched = OneConnection(store)
        try:
            outcomes = _run_queries(searched, book, dict(params or {}), searcher, pivot_cap)
        finally:
            searched.close()
        findings = pending.result() if pending is not None else compute(seen, book)
        groups = counted.result() if counted is not None else store.stats()
    result = HuntResult(
        huntbook_version=huntbook.__version__,
        run_time=run_time.isoformat().replace("+00:00", "Z"),
        store=_store_stamp(store),
        time_range=_time_range(groups),
        playbook=_playbook_doc(book),
        params=dict(params or {}),
        queries=outcomes,
        results_table=map_results(book.results, book.queries, outcomes),
        findings=Findings.from_dict(findings),
        problems=[ProblemDoc.from_dict(p.to_dict()) for p in problems],
        index_override=searcher.override(),
        coverage=_coverage(groups, searcher.searched()),
        hunter=hunter,
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
    check_playbook(book, collector, params, compiler=None)
    return book, collector.check()


def _run_queries(
    store: StoreLike, book: Playbook, params: dict[str, str], search: Searcher, cap: int
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
    search: Searcher,
    cap: int,
) -> tuple[QueryOutcome, list[dict[str, Any]]]:
    outcome = QueryOutcome(query.index, query.title, query.line, query.spl)
    names = placeholder_names(query.spl)
    outcome.placeholders = names
    if not names:
        return outcome, _execute(
            store, query.spl, {}, outcome, search, templated=False, keep=KEPT_ROWS
        )
    missing = [n for n in names if n not in params]
    value_sets = [{n: params[n] for n in names if n in params}]
    if missing:
        found = pivot(missing, earlier, cap)
        if found is None:
            outcome.status = QueryStatus.UNFILLED
            outcome.note = _unfilled_note(missing)
            return outcome, []
        outcome.pivot = Pivot(found.source, found.source_index, found.columns, found.distinct, cap)
        value_sets = [{**value_sets[0], **v} for v in found.values]
    rows: list[dict[str, Any]] = []
    for values in value_sets:
        spl = fill(query.spl, values)
        room = KEPT_ROWS - len(rows)  # the query's runs together keep KEPT_ROWS rows
        rows.extend(_execute(store, spl, values, outcome, search, templated=True, keep=room))
    outcome.hits_note = f"sum of {len(outcome.runs)} run(s), one per distinct value set"
    if outcome.pivot and outcome.pivot.distinct > cap:
        outcome.hits_note += f" (first {cap} of {outcome.pivot.distinct} distinct value sets)"
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
    search: Searcher,
    *,
    templated: bool,
    keep: int,
) -> list[dict[str, Any]]:
    """Run one SPL text, fold it into ``outcome`` and return its first ``keep`` rows; only those
    and the sample's become Python values (hits are the result's length)."""
    started = time.perf_counter()
    room = SAMPLE_ROWS - len(outcome.sample)
    wanted = max(keep, room, 0)
    try:
        result = search(store, spl, wanted)
        hits, rows = len(result), result.rows(limit=wanted)
    except Exception as exc:  # noqa: BLE001 - one failing query must not sink the hunt (issue 4)
        elapsed = time.perf_counter() - started
        message = str(exc) if isinstance(exc, HuntbookError) else f"{type(exc).__name__}: {exc}"
        outcome.status, outcome.error = QueryStatus.ERROR, message
        outcome.elapsed += elapsed
        if templated:
            outcome.runs.append(QueryRun(values, spl, 0, elapsed, message))
        return []
    outcome.hits += hits
    outcome.elapsed += result.elapsed
    outcome.sql = outcome.sql or result.sql
    outcome.columns = outcome.columns or list(result.columns)
    outcome.sample.extend(_jsonable(r) for r in rows[: max(room, 0)])
    outcome.sample_truncated = outcome.sample_truncated or hits > room
    if templated:
        outcome.runs.append(QueryRun(values, spl, hits, result.elapsed))
    return rows[: max(keep, 0)]


def _explain_zero(store: StoreLike, outcome: QueryOutcome, search: Searcher) -> None:
    """Mark a zero as "no data" when the events the query needs are absent from where it looked,
    and say which indexes of the store hold them instead."""
    if outcome.status != QueryStatus.OK or outcome.hits:
        return
    outcome.status = QueryStatus.ZERO
    spl = outcome.runs[0].spl if outcome.runs else outcome.spl

    def count(probe: str) -> int:
        try:
            return len(search.probe(store, probe))
        except HuntbookError:
            return 1  # cannot tell: do not claim missing data

    absent = absent_needs(spl, count, search.index)
    if absent:
        outcome.status = QueryStatus.NO_DATA
        outcome.needs = [n.label for n in absent]
        holders = {n: _holders(store, n, search) for n in absent}
        outcome.note = no_data_note(absent, holders)


def _holders(store: StoreLike, need: Need, search: Searcher) -> list[str]:
    """The indexes that hold the events ``need`` names (none when the probe fails)."""
    try:
        rows = search.probe(store, need.locate()).rows()
    except HuntbookError:
        return []
    return sorted({str(r["index"]) for r in rows if r.get("index") and r.get("count")})


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | list | type(None)) else str(v)
        for k, v in row.items()
    }


def _store_stamp(store: StoreLike) -> StoreStamp:
    return StoreStamp(str(store.path), [_input(i) for i in store.inputs()])


def _input(doc: Mapping[str, Any]) -> InputStamp:
    return InputStamp(doc.get("path"), doc.get("sha256"), doc.get("events"), doc.get("index"))


def _time_range(groups: list[dict[str, Any]]) -> TimeRange:
    """First and last event time in the store and its event count (``Store.stats()``'s
    ``groups``)."""
    if not groups:
        return TimeRange()
    first = min(groups, key=lambda g: g["first_epoch"])
    last = max(groups, key=lambda g: g["last_epoch"])
    return TimeRange(
        earliest=first["first_time"],
        latest=last["last_time"],
        events=sum(g["count"] for g in groups),
        earliest_epoch=first["first_epoch"],
        latest_epoch=last["last_epoch"],
    )


def _coverage(groups: list[dict[str, Any]], searched: list[str] | None) -> Coverage:
    """The part of the store (``Store.stats()``'s ``groups``) the searches covered (they carry no
    time bounds, so all of it in the indexes they read): indexes (every one when ``searched`` is
    None), hosts, time span, events."""
    if searched is not None:
        wanted = {i.lower() for i in searched}
        groups = [g for g in groups if str(g["index"]).lower() in wanted]
    indexes = searched if searched is not None else sorted({str(g["index"]) for g in groups})
    timed = [g for g in groups if g.get("first_epoch") is not None]
    first = min(timed, key=lambda g: g["first_epoch"], default=None)
    last = max(timed, key=lambda g: g["last_epoch"], default=None)
    return Coverage(
        indexes=indexes,
        all_indexes=searched is None,
        hosts=sorted({str(g["host"]) for g in groups if g.get("host")}),
        earliest=first["first_time"] if first else None,
        latest=last["last_time"] if last else None,
        events=sum(g["count"] for g in groups),
    )


def _playbook_doc(book: Playbook) -> PlaybookDoc:
    return PlaybookDoc(
        title=book.title,
        name=book.name,
        path=book.path,
        description=book.description,
        metadata=[list(m) for m in book.metadata],
        techniques=[TechniqueDoc(t.name, list(t.ids)) for t in book.techniques],
        hypothesis=book.hypothesis,
        data_needed=[d.name for d in book.data_needed],
        conclusion_written=book.conclusion,
        outputs=list(book.outputs),
        notes=book.notes,
        references=list(book.references),
    )
