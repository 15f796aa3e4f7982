"""``Exploration``: one search looked at page by page, as the web workbench shows it.

The compiled search runs inside other sqlglot SELECTs on one DuckDB connection: a page of events
is the ``_cd`` of its rows (a sort of two columns, which also counts them: the total) and then those
rows, any other page the search with LIMIT/OFFSET; the total otherwise a bare COUNT; the profile
(total, time range, multivalue counts) one aggregate over it, the fields' counts and top values
one UNPIVOT and GROUP BY over its first SUMMARY_ROWS rows (newest events first; the profile of
those rows says how many were read), the timeline one GROUP BY over time buckets. No step loads
every row into Python. ``cancel()``, from
another thread, interrupts whatever runs on the connection.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from huntbook.engines.result import SearchResult, iso_time
from huntbook.errors import LookupAccessError, QueryRuntimeError
from huntbook.query import CompiledQuery
from huntbook.query.spl.compiler.values import data_type, lit

if TYPE_CHECKING:
    from huntbook.store import StoreLike

TIME = "_time"
CD = "_cd"  # the store's row id
TOTAL = "__total"  # the rows of the whole result, counted beside a page's keys
TOP_VALUES = 10  # values listed per field in the fields summary
MAX_BUCKETS = 120  # the timeline picks the smallest span giving at most this many buckets
SPANS = (1, 2, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600, 86400, 7 * 86400)
UNSUMMARIZED = frozenset({TIME, "_raw", "_cd"})  # a value per event: no top values to show
RESULT = "r"
#: rows the fields summary reads at most: the first ones in the search's order (for events, the
#: newest), as Splunk's sidebar summarizes the events it has; the summary says how many it read
SUMMARY_ROWS = 10_000


@dataclass(frozen=True)
class FieldSummary:
    """A field of the results: rows holding a value, and its most common values with counts."""

    name: str
    count: int
    top: list[tuple[Any, int]]


@dataclass(frozen=True)
class Profile:
    """Rows in the result, the first and last
    ``_time`` (None without one), and how many rows hold a value of each multivalue column
    (``fields()`` counts the others as it ranks their values, in the same scan). ``limit``:
    of the newest ``limit`` events only."""

    total: int
    first: float | None
    last: float | None
    counts: dict[str, int]
    limit: int | None = None


@dataclass(frozen=True)
class Timeline:
    """Matching rows per time bucket; bucket ``i`` covers ``start + i*span`` up to the next."""

    start: float
    span: int
    counts: list[int]


def export_rows(result: SearchResult) -> list[dict[str, Any]]:
    """Rows as ``huntbook search --format json`` prints them (``_time`` ISO-8601 UTC)."""
    return [{k: iso_time(v) if k == TIME else v for k, v in r.items()} for r in result.rows()]


class Exploration:
    """A compiled search and the connection its pieces run on (``close()`` it when done).

    Raises (at construction): SplSyntaxError / UnsupportedSplError for bad SPL, LookupAccessError
    for a search that writes a lookup (the workbench reads the store, never writes it), StoreError
    when the store is missing or damaged (on the first run).
    """

    def __init__(self, store: StoreLike, query: CompiledQuery) -> None:
        if query.writes:
            raise LookupAccessError(
                "outputlookup is not run here: the web workbench opens the store read-only "
                "(run the search with huntbook search to write the lookup)"
            )
        self.store = store
        self.query = query
        self._con: Any = None
        self._lock = threading.Lock()
        self._schema: pa.Schema | None = None
        self._total: int | None = None  # counted beside a page's keys
        self._prepared: list[str] = []  # warnings of the search's checks (on the first run)
        self.cancelled = False

    @property
    def warnings(self) -> list[str]:
        return [*self.query.warnings, *self._prepared]

    @staticmethod
    def export(result: SearchResult) -> list[dict[str, Any]]:
        """A page's rows as ``huntbook search --format json`` prints them."""
        return export_rows(result)

    # --- the pieces ----------------------------------------------------------------------------
    def page(self, offset: int, count: int) -> SearchResult:
        """Rows ``offset`` .. ``offset + count - 1`` of the result, in the search's order.

        An event search (ordered newest first by ``_time``, ``_cd``) is paged keys first: the
        page's ``_cd`` from a sort of two columns, then only those rows in full; the plain
        LIMIT/OFFSET runs when the keys do not name exactly one row each (so the page is exact).
        """
        search = self.query.expr
        if count and _keyed(search):
            page = self._keyed_page(search, offset, count)
            if page is not None:
                return page
        return self._run(
            search.copy().limit(lit(count), copy=False).offset(lit(offset), copy=False)
        )

    def _keyed_page(self, search: exp.Select, offset: int, count: int) -> SearchResult | None:
        keys = search.copy()
        counted = exp.Window(this=exp.Count(this=exp.Star()))
        keys.set("expressions", [_column(CD), exp.alias_(counted, TOTAL)])
        rows = self._run(keys.limit(lit(count), copy=False).offset(lit(offset), copy=False)).rows()
        cds = [row[CD] for row in rows]
        if rows:
            self._total = int(rows[0][TOTAL])
        if not cds or None in cds or len(set(cds)) < len(cds):
            return None
        wanted = exp.In(this=_column(CD), expressions=[lit(cd) for cd in cds])
        page = self._run(search.copy().where(wanted, copy=False))
        return page if page.table.num_rows == len(cds) else None

    def schema(self) -> pa.Schema:
        """The result's columns and their Arrow types (the search run with LIMIT 0)."""
        if self._schema is None:
            self._schema = self.page(0, 0).table.schema
        return self._schema

    def total(self) -> int:
        """Rows in the whole result: counted with the keys of the page fetched before, else a
        COUNT that reads only the columns the search filters on."""
        if self._total is not None:
            return self._total
        row = self._run(self._over_result([exp.alias_(exp.Count(this=exp.Star()), "n")])).rows()
        return int(row[0]["n"])

    def profile(self, limit: int | None = None) -> Profile:
        """The total, the time range and each multivalue column's count, in one aggregate; with
        ``limit``, of the result's first ``limit`` rows (see ``summary_profile``)."""
        schema = self.schema()
        timed = _is_time(schema)
        lists = [f for f in schema if pa.types.is_list(f.type)]
        terms: list[exp.Expr] = [exp.Count(this=exp.Star())]
        if timed:
            terms += [exp.Min(this=self._ref(TIME)), exp.Max(this=self._ref(TIME))]
        terms += [exp.Count(this=_nonempty(self._ref(f.name))) for f in lists]
        row = self._run(self._over_result(terms, limit)).table.to_pylist()[0]
        values = list(row.values())
        first, last = (values[1], values[2]) if timed else (None, None)
        counts = values[3:] if timed else values[1:]
        named = dict(zip([f.name for f in lists], counts, strict=True))
        return Profile(int(values[0]), first, last, named, limit)

    def summary_profile(self, profile: Profile, rows: int | None = None) -> Profile:
        """What the fields summary reads: ``profile`` (the whole result) when it has at most
        ``rows`` rows (default SUMMARY_ROWS) or is not events newest first, else the profile of
        its newest ``rows`` events."""
        rows = SUMMARY_ROWS if rows is None else rows
        if profile.total <= rows or not _keyed(self.query.expr):
            return profile
        return self.profile(limit=rows)

    def fields(self, profile: Profile) -> list[FieldSummary]:
        """Every column holding a value, most-populated first, with its top values (a
        single-valued column's count is the sum of its values' counts), in the rows ``profile``
        counted (its ``limit``: the result's first rows only)."""
        candidates = [
            f for f in self.schema() if f.name not in UNSUMMARIZED and profile.counts.get(f.name, 1)
        ]
        summaries: list[FieldSummary] = []
        if candidates:
            for row in self._run(self._top_values(candidates, profile.limit)).table.to_pylist():
                field = candidates[int(row["k"][1:])]
                count = profile.counts.get(field.name, row["c"])
                ranked = sorted(row["top"], key=lambda t: (-t["n"], t["v"]))
                summaries.append(
                    FieldSummary(field.name, count, [(t["v"], t["n"]) for t in ranked])
                )
        return sorted(summaries, key=lambda s: (-s.count, s.name.lower()))

    def _top_values(self, fields: list[pa.Field], limit: int | None) -> exp.Select:
        """``(k, top, c)``: the TOP_VALUES most common values of field ``c<i>`` (``k``) as a
        list of ``{v, n}`` (one MIN_BY per field, not a sort of every value) and the sum ``c``
        of all its values' counts; a field without a value has no row.

        One pass over the result: every field as a list of texts (a single value as a list of
        one), one UNPIVOT of those lists, each list unnested. Ties keep the smaller value first.
        """
        texts = [
            exp.alias_(_texts(self._ref(f.name), f.type), f"c{i}") for i, f in enumerate(fields)
        ]
        unpivot = exp.Pivot(
            this=self._over_result(texts, limit).subquery(copy=False),
            expressions=[exp.Columns(this=exp.Star())],
            unpivot=True,
            into=exp.UnpivotColumns(this=exp.column("k"), expressions=[exp.column("vs")]),
        )
        values = _from(unpivot)
        counted = (
            exp.select("k", "v", exp.alias_(exp.Count(this=exp.Star()), "n"))
            .from_(values.subquery("u", copy=False), copy=False)
            .where(exp.Not(this=exp.Is(this=exp.column("v"), expression=exp.Null())), copy=False)
            .group_by("k", "v", copy=False)
        )
        top = exp.ArgMin(
            this=_struct(v=exp.column("v"), n=exp.column("n")),
            expression=_struct(m=exp.Neg(this=exp.column("n")), v=exp.column("v")),
            count=lit(TOP_VALUES),
        )
        total = exp.alias_(exp.cast(exp.Sum(this=exp.column("n")), data_type("BIGINT")), "c")
        return (
            exp.select("k", exp.alias_(top, "top"), total)
            .from_(counted.subquery("g", copy=False), copy=False)
            .group_by("k", copy=False)
        )

    def timeline(self, profile: Profile) -> Timeline | None:
        """Rows per time bucket over the result's time range; None without ``_time`` values."""
        if profile.first is None or profile.last is None:
            return None
        span = next((s for s in SPANS if (profile.last - profile.first) / s < MAX_BUCKETS), 0)
        span = span or _coarse_span(profile.last - profile.first)
        start = math.floor(profile.first / span) * span
        bucket = exp.cast(
            exp.Floor(this=exp.Div(this=self._ref(TIME), expression=lit(float(span)))),
            data_type("BIGINT"),
        )
        n = exp.alias_(exp.Count(this=exp.Star()), "n")
        select = self._over_result([exp.alias_(bucket, "b"), n])
        not_null = exp.Not(this=exp.Is(this=self._ref(TIME), expression=exp.Null()))
        select = select.where(not_null, copy=False).group_by(lit(1), copy=False)
        select = select.order_by(lit(1), copy=False)
        rows = self._run(select).table.to_pylist()
        counts = [0] * (int((profile.last - start) // span) + 1)
        for row in rows:
            counts[row["b"] - start // span] = row["n"]
        return Timeline(float(start), span, counts)

    # --- running -------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop what runs now and refuse what comes next (safe from any thread)."""
        self.cancelled = True
        con = self._con
        if con is not None:
            con.interrupt()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def _over_result(self, terms: list[exp.Expr], limit: int | None = None) -> exp.Select:
        """``SELECT terms FROM (search) AS r(f0, f1, ...)``: terms name the result's columns by
        ``_ref`` (DuckDB binds names case-insensitively, and a result may hold ``User`` and
        ``user``). The search's final ORDER BY is dropped (without a LIMIT it does not change
        which rows there are, and aggregates ignore order); ``limit``: over the newest ``limit``
        events of an event search (``_keyed``), found by their keys as a page is (a sort of
        two columns, not of every column)."""
        search = self.query.expr.copy()
        if limit is not None:
            keys = search.copy()
            keys.set("expressions", [_column(CD)])
            newest = keys.limit(lit(limit), copy=False).subquery(copy=False)
            search.where(exp.In(this=_column(CD), query=newest), copy=False)
        if search.args.get("limit") is None:
            search.set("order", None)
        names = [exp.to_identifier(f"f{i}") for i in range(len(self.schema()))]
        alias = exp.TableAlias(this=exp.to_identifier(RESULT), columns=names)
        return exp.select(*terms).from_(exp.Subquery(this=search, alias=alias), copy=False)

    def _ref(self, name: str) -> exp.Column:
        """The result's column ``name`` inside ``_over_result`` (exactly that name's column)."""
        return exp.column(f"f{self.schema().names.index(name)}")

    def _run(self, select: exp.Select) -> SearchResult:
        from huntbook.engines.duckdb import DuckDBEngine

        with self._lock:
            self._check_cancelled()
            if self._con is None:
                self._con = self.store.connect()
                self._prepared = self._prepare(self._con)
            try:
                return DuckDBEngine(connection=self._con).execute(
                    CompiledQuery(select, [], self.warnings, self.query.source)
                )
            except Exception:  # also DuckDB's interrupt landing on the session settings
                self._check_cancelled()
                raise

    def _prepare(self, con: Any) -> list[str]:
        """The search's Python functions registered on ``con``, its checks run (their warnings)."""
        import duckdb

        from huntbook.engines.duckdb import runtime_message

        try:
            return self.query.prepare_duckdb(con)
        except duckdb.Error as exc:
            raise QueryRuntimeError(runtime_message(exc)) from exc

    def _check_cancelled(self) -> None:
        if self.cancelled:
            raise QueryRuntimeError("the search was cancelled")


def _from(unpivot: exp.Pivot) -> exp.Select:
    """``(k, v)``: each value of each unpivoted list ``vs``."""
    value = exp.alias_(exp.Unnest(expressions=[exp.column("vs")]), "v")
    return exp.select("k", value).from_(
        exp.Subquery(this=unpivot, alias=exp.TableAlias(this=exp.to_identifier("p"))), copy=False
    )


def _keyed(search: exp.Select) -> bool:
    """Whether ``search`` is events newest first: its last step selects rows of one source
    (no aggregate, window, DISTINCT or LIMIT) ordered by ``_time DESC, _cd DESC``."""
    order = search.args.get("order")
    keys = [(o.this, o.args.get("desc")) for o in order.expressions] if order else []
    shape = [(k.name if isinstance(k, exp.Column) else None, bool(desc)) for k, desc in keys]
    simple = not any(
        search.args.get(a) for a in ("joins", "group", "having", "distinct", "limit", "offset")
    )
    computed = any(e.find(exp.AggFunc, exp.Window) for e in search.expressions) or search.args.get(
        "qualify"
    )
    return shape == [(TIME, True), (CD, True)] and simple and not computed


def _struct(**fields: exp.Expr) -> exp.Struct:
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(k), expression=v) for k, v in fields.items()
        ]
    )


def _column(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _is_time(schema: pa.Schema) -> bool:
    return TIME in schema.names and pa.types.is_floating(schema.field(TIME).type)


def _nonempty(column: exp.Column) -> exp.Expr:
    """What COUNT counts for a multivalue column: a value (an empty list counts as none)."""
    return exp.Nullif(this=exp.ArraySize(this=column), expression=lit(0))


def _text(value: exp.Expr, kind: pa.DataType) -> exp.Expr:
    """A value as the text Splunk shows: whole doubles without ``.0`` (as ``splunk_value``)."""
    text = data_type("VARCHAR")
    if not pa.types.is_floating(kind):
        return exp.cast(value, text)
    whole = exp.and_(
        exp.EQ(this=value.copy(), expression=exp.Floor(this=value.copy())),
        exp.LT(this=exp.Abs(this=value.copy()), expression=lit(1e15)),
    )
    return exp.Case(
        ifs=[exp.If(this=whole, true=exp.cast(exp.cast(value.copy(), data_type("BIGINT")), text))],
        default=exp.cast(value, text),
    )


def _texts(value: exp.Expr, kind: pa.DataType) -> exp.Expr:
    """A column's values as a list of texts (``_text`` each): a multivalue column's list, a
    single value's list of one, NULL for no value (UNPIVOT leaves NULL out)."""
    if pa.types.is_list(kind):
        item = exp.to_identifier("x")
        each = exp.Lambda(this=_text(exp.column(item), kind.value_type), expressions=[item])
        return exp.Transform(this=value, expression=each)
    missing = exp.Is(this=value.copy(), expression=exp.Null())
    one = exp.Array(expressions=[_text(value, kind)])
    return exp.Case(ifs=[exp.If(this=missing, true=exp.Null())], default=one)


def _coarse_span(width: float) -> int:
    """A span in whole days giving at most MAX_BUCKETS buckets over ``width`` seconds."""
    return 86400 * max(1, math.ceil(width / 86400 / (MAX_BUCKETS - 1)))


__all__ = [
    "SUMMARY_ROWS",
    "Exploration",
    "FieldSummary",
    "Profile",
    "Timeline",
    "export_rows",
    "iso_time",
]
