"""The compiled tree made Spark-ready: where DuckDB and Spark SQL differ, a rewrite to Spark's
form of the same answer, or a refusal naming the SPL construct (never a different answer).

Applied to a copy of ``CompiledQuery.expr`` when it renders in the ``spark`` dialect, so DuckDB's
SQL is untouched. ``REWRITES`` maps a node class to its rewrite; ``FUNCTIONS`` does the same for
DuckDB functions the compiler calls by name; ``REFUSED_NODES`` and ``REFUSED_FUNCTIONS`` name
what has no Spark form. chart/timechart ``BY`` (DuckDB's PIVOT, whose columns are the data's
values) needs its series read first: ``series`` runs a one-column query on the engine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from sqlglot import exp

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl.compiler.transaction import KEYED

Rewrite = Callable[[exp.Expr], exp.Expr]
SeriesValues = Callable[[exp.Expr], list[str]]  # a one-column query's values, run on Spark
# Registers a lookup's rows (DuckDB's read_csv of the file, numbered as ``__row``) on Spark as
# the temp view of the given name (``lookup_view``).
LookupTable = Callable[[exp.Select, str], None]

_INDEX = "__i"  # the lambda parameter a rewrite adds (no SPL field starts with two underscores)
_ITEM = "__x"


def spark_ready(
    tree: exp.Expr, series: SeriesValues | None = None, lookups: LookupTable | None = None
) -> exp.Expr:
    """``tree`` (a copy) with every DuckDB-only form rewritten for Spark; each PIVOT becomes
    conditional aggregates over the series ``series`` finds (without it, PIVOT is refused); each
    lookup file's rows are read from the temp view ``lookup_view`` names, which ``lookups``
    registers (without it, the view is only named).

    Raises:
        UnsupportedSplError: a construct Spark cannot run with DuckDB's answer.
    """
    root = _lookups(tree.copy(), lookups)
    if series is not None:
        root = _pivots(root, series)
    for node in reversed(list(root.dfs())):  # children before their parent
        new = _rewrite(node)
        if new is not node:
            if node is root:
                root = new
            else:
                node.replace(new)
    return root


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name in REFUSED_FUNCTIONS:
            raise UnsupportedSplError(f"{REFUSED_FUNCTIONS[name]} is not supported on Spark")
        rewrite = FUNCTIONS.get(name)
        return rewrite(node) if rewrite else node
    for cls, message in REFUSED_NODES.items():
        if isinstance(node, cls):
            raise UnsupportedSplError(f"{message} is not supported on Spark")
    if isinstance(node, REGEX_NODES) and not isinstance(node.expression, exp.Literal):
        raise UnsupportedSplError(
            "a regular expression built at run time is not supported on Spark (Java's regex "
            "syntax differs from RE2's, and a pattern that is not a literal cannot be checked "
            "before the search runs)"
        )
    rewrite = REWRITES.get(type(node))
    return rewrite(node) if rewrite else node


def _args(node: exp.Expr) -> list[exp.Expr]:
    return list(node.expressions)


def _num(value: int) -> exp.Expr:
    return exp.Literal.number(value)


# --- lookup files ---------------------------------------------------------------------------------
def lookup_view(rows: exp.Select) -> str:
    """The temp view holding a lookup's rows: named after DuckDB's query of the file (its path
    and columns), so the same lookup is the same view."""
    digest = hashlib.sha256(rows.sql(dialect="duckdb").encode()).hexdigest()[:16]
    return f"__lookup_{digest}"


def _lookups(root: exp.Expr, lookups: LookupTable | None) -> exp.Expr:
    """Each stage reading a lookup file (``SELECT *, row_number() ... AS __row FROM
    read_csv(...)``, compiler/sources.py) as ``SELECT * FROM`` the view of its rows; any other
    read_csv is refused (``REFUSED_FUNCTIONS``)."""
    for table in list(root.find_all(exp.Table)):
        reader = table.this
        stage = table.parent.parent if isinstance(table.parent, exp.From) else None
        if not (_is_read_csv(reader) and isinstance(stage, exp.Select) and stage is not root):
            continue
        name = lookup_view(stage)
        if lookups is not None:
            lookups(stage.copy(), name)
        stage.replace(exp.select("*").from_(exp.Table(this=exp.to_identifier(name, quoted=True))))
    return root


def _is_read_csv(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == "read_csv"


# --- chart/timechart BY ---------------------------------------------------------------------------
def _pivots(root: exp.Expr, series: SeriesValues) -> exp.Expr:
    """Each PIVOT (first to last: a later one may read an earlier one's stage) as conditional
    aggregates over its series, which ``series`` reads from the stages before it."""
    while (pivot := root.find(exp.Pivot, bfs=False)) is not None:
        values = series(spark_ready(_series_query(root, pivot), series))
        target = pivot.parent if isinstance(pivot.parent, exp.Subquery) else pivot
        target.replace(exp.Subquery(this=_crossed(pivot, sorted(values)), alias="__pivot"))
    return root


def _series_query(root: exp.Expr, pivot: exp.Pivot) -> exp.Select:
    """The pivot's distinct series values, over the stages up to its source."""
    stage = pivot.this.name
    ctes: list[exp.CTE] = []
    for cte in root.args["with_"].expressions:
        ctes.append(cte.copy())
        if cte.alias == stage:
            break
    split = pivot.expressions[0].copy()
    query = exp.Select(expressions=[split]).from_(stage).distinct()
    query.set("with_", exp.With(expressions=ctes))
    return query


def _crossed(pivot: exp.Pivot, values: list[str]) -> exp.Select:
    """DuckDB's ``PIVOT src ON split USING agg(v) GROUP BY over``: ``agg(CASE WHEN split = 'x'
    THEN v END) AS x`` per series in DuckDB's order (sorted) and with DuckDB's column names."""
    over = pivot.args["group"].expressions[0]
    split = pivot.expressions[0]
    agg = pivot.args["using"][0]
    columns: list[exp.Expr] = [over.copy()]
    for value, name in zip(values, _pivot_names(over.name, values), strict=True):
        picked = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=split.copy(), expression=exp.Literal.string(value)),
                    true=agg.this.copy(),
                )
            ]
        )
        columns.append(exp.alias_(agg.__class__(this=picked), name, quoted=True))
    return (
        exp.Select(expressions=columns).from_(pivot.this.copy()).group_by(over.copy(), copy=False)
    )


def _pivot_names(over: str, values: list[str]) -> list[str]:
    """DuckDB's names for PIVOT columns: ``''`` for the empty value, and a name equal (ignoring
    case) to one before it gets ``_1`` (``_2``, ...) added."""
    used = {over.lower()}
    names = []
    for value in values:
        name = value or "''"
        if name.lower() in used:
            n = 1
            while f"{name}_{n}".lower() in used:
                n += 1
            name = f"{name}_{n}"
        used.add(name.lower())
        names.append(name)
    return names


# --- lists ------------------------------------------------------------------------------------
def _from_end(index: exp.Expr, size: exp.Expr) -> exp.Expr:
    """DuckDB's 1-based index with negatives from the end, as a plain 1-based index."""
    negative = exp.LT(this=index.copy(), expression=_num(0))
    counted = exp.Add(this=exp.Add(this=size.copy(), expression=index.copy()), expression=_num(1))
    return exp.Case(ifs=[exp.If(this=negative, true=counted)], default=index.copy())


def _list_slice(node: exp.Expr) -> exp.Expr:
    """``list_slice(l, begin, end)`` (1-based, inclusive, negatives from the end, clamped):
    Spark's ``filter(l, (x, i) -> i + 1 between begin and end)``."""
    lst, begin, end = _args(node)
    size = exp.ArraySize(this=lst.copy())
    at = exp.Add(this=exp.column(_INDEX), expression=_num(1))
    keep = exp.and_(
        exp.GTE(this=at, expression=_from_end(begin, size)),
        exp.LTE(this=at.copy(), expression=_from_end(end, size)),
    )
    lam = exp.Lambda(this=keep, expressions=[exp.to_identifier(_ITEM), exp.to_identifier(_INDEX)])
    return exp.ArrayFilter(this=lst, expression=lam)


def _list_position(node: exp.Expr) -> exp.Expr:
    """``list_position`` is null when the value is absent; Spark's ``array_position`` is 0."""
    lst, value = _args(node)
    found = exp.Anonymous(this="ARRAY_POSITION", expressions=[lst, value])
    return exp.Nullif(this=found, expression=_num(0))


def _list_extract(node: exp.Expr) -> exp.Expr:
    """``list_extract(l, i)`` (1-based, negatives from the end, null out of range) is Spark's
    ``try_element_at`` (``element_at`` fails out of range under ANSI mode)."""
    lst, index = _args(node)
    return exp.Bracket(this=lst, expressions=[index], offset=1, safe=True)


def _string_split(node: exp.Expr) -> exp.Expr:
    """DuckDB's ``string_split(s, sep)`` splits at a literal text; Spark's ``split`` at a regex,
    so the separator is quoted for Java's regex (every character but letters and digits escaped)."""
    this, separator = _args(node)
    if not (isinstance(separator, exp.Literal) and separator.is_string):
        raise UnsupportedSplError(
            "splitting at a separator built at run time is not supported on Spark"
        )
    quoted = "".join(c if c.isalnum() else "\\" + c for c in separator.this)
    return exp.Anonymous(this="SPLIT", expressions=[this, exp.Literal.string(quoted)])


def _range(node: exp.Expr) -> exp.Expr:
    """DuckDB's ``range(a, b, step)`` (``b`` excluded, empty when it points away from ``b``)."""
    start, stop, step = _args(node)
    up = exp.and_(
        exp.GT(this=step.copy(), expression=_num(0)),
        exp.LT(this=start.copy(), expression=stop.copy()),
    )
    down = exp.and_(
        exp.LT(this=step.copy(), expression=_num(0)),
        exp.GT(this=start.copy(), expression=stop.copy()),
    )
    series = exp.Anonymous(this="SEQUENCE", expressions=[start, stop.copy(), step])
    lam = exp.Lambda(
        this=exp.NEQ(this=exp.column(_ITEM), expression=stop),
        expressions=[exp.to_identifier(_ITEM)],
    )
    empty = exp.Anonymous(this="ARRAY", expressions=[])
    within = exp.ArrayFilter(this=series, expression=lam)
    return exp.Case(ifs=[exp.If(this=exp.or_(up, down), true=within)], default=empty)


def _zero_based_lambda(node: exp.Expr) -> exp.Expr:
    """DuckDB numbers a lambda's index parameter from 1, Spark from 0."""
    lam = node.args.get("expression")
    if not isinstance(lam, exp.Lambda) or len(lam.expressions) < 2:
        return node
    index = lam.expressions[1].name
    body = lam.this.transform(
        lambda n: (
            exp.Paren(this=exp.Add(this=n.copy(), expression=_num(1)))
            if isinstance(n, exp.Column) and not n.table and n.name == index
            else n
        )
    )
    lam.set("this", body)
    return node


def _ordered_agg(node: exp.Expr) -> exp.Expr:
    """``array_agg(v ORDER BY k...)``: Spark's collect_list keeps no order (and drops nulls), so
    collect ``struct(k..., v)`` and sort it, then keep ``v``. Under ``FILTER (WHERE ...)`` the
    filter's rewrite does it (the filter must stay on the aggregate)."""
    if isinstance(node.parent, exp.Filter):
        return node
    return _sorted_collect(node, None)


def _filtered_agg(node: exp.Expr) -> exp.Expr:
    if not isinstance(node.this, exp.ArrayAgg):
        return node
    return _sorted_collect(node.this, node.expression)


def _sorted_collect(node: exp.Expr, where: exp.Expr | None) -> exp.Expr:
    inner = node.this
    if isinstance(inner, exp.Order) and isinstance(inner.this, exp.Distinct):
        return _sorted_set(inner.this, where)
    if not isinstance(inner, exp.Order):
        return node if where is None else exp.Filter(this=node, expression=where)
    keys: list[exp.Ordered] = list(inner.expressions)
    if any(k.args.get("desc") for k in keys):
        raise UnsupportedSplError("a newest-first ordered list is not supported on Spark")
    fields = [exp.alias_(k.this.copy(), f"k{i}") for i, k in enumerate(keys)]
    packed = exp.Struct(expressions=[*fields, exp.alias_(inner.this.copy(), "v")])
    collected: exp.Expr = exp.Anonymous(this="COLLECT_LIST", expressions=[packed])
    if where is not None:
        collected = exp.Filter(this=collected, expression=where)
    ordered = exp.Anonymous(this="ARRAY_SORT", expressions=[collected])
    value = exp.Dot(this=exp.column(_ITEM), expression=exp.to_identifier("v"))
    lam = exp.Lambda(this=value, expressions=[exp.to_identifier(_ITEM)])
    return exp.Transform(this=ordered, expression=lam)


def _sorted_set(distinct: exp.Distinct, where: exp.Expr | None) -> exp.Expr:
    """``array_agg(DISTINCT v ORDER BY v)`` (values.sorted_distinct) as every value collected,
    then distinct and sorted."""
    (value,) = distinct.expressions
    collected: exp.Expr = exp.ArrayAgg(this=value.copy())
    if where is not None:
        collected = exp.Filter(this=collected, expression=where)
    return exp.ArraySort(this=exp.ArrayDistinct(this=collected))


# --- regular expressions ------------------------------------------------------------------------
_NAMED_GROUP = re.compile(r"\\.|\(\?P<[A-Za-z_][A-Za-z0-9_]*>", re.DOTALL)
_POSIX_CLASS = re.compile(r"\[:\^?[a-z]+:\]")


def _java_pattern(pattern: exp.Expr) -> exp.Expr:
    """An RE2 pattern literal for Java's regex: named groups become plain groups (groups are
    read by number; Java's group names allow no ``_``), POSIX classes are refused."""
    if not isinstance(pattern, exp.Literal) or not pattern.is_string:
        return pattern
    text = pattern.this
    if _POSIX_CLASS.search(text):
        raise UnsupportedSplError(
            "a POSIX class ([[:alpha:]]) in a regex is not supported on Spark"
        )
    return exp.Literal.string(_NAMED_GROUP.sub(_plain_group, text))


def _plain_group(m: re.Match[str]) -> str:
    """``(?P<name>`` -> ``(``; an escaped character stays as it is."""
    return m.group() if m.group().startswith("\\") else "("


def _regex(node: exp.Expr) -> exp.Expr:
    node.set("expression", _java_pattern(node.args["expression"]))
    return node


_REPLACEMENT = re.compile(r"\\(.)|\$", re.DOTALL)


def _java_replacement(text: str) -> str:
    """RE2's replacement (``\\1`` a group, ``\\\\`` a backslash) in Java's (``$1``, ``\\$``)."""

    def one(m: re.Match[str]) -> str:
        char = m.group(1)
        if char is None:
            return "\\$"
        return f"${char}" if char.isdigit() else "\\" + char

    return _REPLACEMENT.sub(one, text)


def _regexp_replace(node: exp.Expr) -> exp.Expr:
    """Spark replaces every match; DuckDB only the first unless the ``g`` flag is given."""
    modifiers = node.args.get("modifiers")
    every = isinstance(modifiers, exp.Literal) and modifiers.this == "g"
    if not (every or _matches_once(node.args["expression"])):
        raise UnsupportedSplError(
            "replacing only the first match (rex mode=sed without g) is not supported on Spark"
        )
    _regex(node)
    replacement = node.args.get("replacement")
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        node.set("replacement", exp.Literal.string(_java_replacement(replacement.this)))
    return node


def _regexp_replace_flags(node: exp.Expr) -> exp.Expr:
    """DuckDB's ``regexp_replace(s, p, r[, flags])`` called by name (first match only, or with
    flags): the first-match form as RegexpReplace; flags (``i``) have no Spark form."""
    args = _args(node)
    if len(args) > 3:
        raise UnsupportedSplError(
            "a case-insensitive replacement (rex mode=sed with i) is not supported on Spark"
        )
    this, pattern, replacement = args
    return _regexp_replace(
        exp.RegexpReplace(this=this, expression=pattern, replacement=replacement)
    )


def _matches_once(pattern: exp.Expr) -> bool:
    """A pattern anchored at the start with no alternation matches at most once."""
    text = pattern.this if isinstance(pattern, exp.Literal) and pattern.is_string else ""
    return text.startswith("^") and "|" not in text


def _regexp_extract_struct(node: exp.Expr) -> exp.Expr:
    """DuckDB's struct form (``regexp_extract(s, p, ['g1', ...])['gN']``) is group N in Spark."""
    inner = node.this
    if not (
        isinstance(inner, exp.RegexpExtract) and isinstance(inner.args.get("group"), exp.Array)
    ):
        return node
    key = node.expressions[0]
    inner.set("group", _num(int(key.name[1:])))
    return _regex(inner)


def _regexp_extract(node: exp.Expr) -> exp.Expr:
    return node if isinstance(node.args.get("group"), exp.Array) else _regex(node)


def _percentile(node: exp.Expr) -> exp.Expr:
    """DuckDB's ``quantile_cont(x, p)`` is Spark's exact ``percentile(x, p)`` (both linear)."""
    return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])


def _numbered_rows(node: exp.Expr) -> exp.Expr:
    """``row_number() OVER ()`` numbers rows as they come; Spark wants an order, and reading order
    is ``monotonically_increasing_id()`` (partition, then row in the partition)."""
    if not isinstance(node.this, exp.RowNumber) or node.args.get("order") is not None:
        return node
    reading = exp.Anonymous(this="MONOTONICALLY_INCREASING_ID", expressions=[])
    node.set("order", exp.Order(expressions=[exp.Ordered(this=reading)]))
    return node


def _partitioned(node: exp.Expr) -> exp.Expr:
    """A transaction's window over a few hash buckets ordered by its keys first (DuckDB's fast
    form) is partitioned by the keys on Spark, where a partition is a task: the same numbers
    within each key, less a constant per key that the transaction's readers allow (``KEYED``)."""
    keyed = node.meta.get(KEYED, 0)
    if not keyed:
        return node
    terms = list(node.args["order"].expressions)
    node.set("partition_by", [term.this for term in terms[:keyed]])
    node.set("order", exp.Order(expressions=terms[keyed:]))
    return node


def _window(node: exp.Expr) -> exp.Expr:
    return _partitioned(_numbered_rows(node))


def _recursive(node: exp.Expr) -> exp.Expr:
    """Spark 4.0 fails to plan the recursive CTE that walks a transaction's chains."""
    if node.args.get("recursive"):
        raise UnsupportedSplError(
            "transaction with maxspan= or maxpause= is not supported on Spark"
        )
    return node


# --- casts and times ----------------------------------------------------------------------------
# tonumber(x, 16|2) is TRY_CAST('0x' || digits AS BIGINT): DuckDB reads the prefix, Spark does not
_BASES = {"0x": (16, "^[0-9a-fA-F]+$"), "0b": (2, "^[01]+$")}


def _try_cast(node: exp.Expr) -> exp.Expr:
    """sqlglot renders TRY_CAST as CAST for Spark unless told it is safe; under ANSI mode CAST
    fails on text that is not a number, where SPL (and DuckDB's TRY_CAST) give null."""
    node.set("safe", True)
    prefix = node.this.this if isinstance(node.this, exp.DPipe) else None
    if not (isinstance(prefix, exp.Literal) and prefix.this in _BASES):
        return node
    base, pattern = _BASES[prefix.this]
    digits = node.this.expression
    converted = exp.Anonymous(this="CONV", expressions=[digits.copy(), _num(base), _num(10)])
    number = exp.TryCast(this=converted, to=node.args["to"].copy(), safe=True)
    valid = exp.RegexpLike(this=digits.copy(), expression=exp.Literal.string(pattern))
    return exp.Case(ifs=[exp.If(this=valid, true=number)])


def _strptime(node: exp.Expr) -> exp.Expr:
    text, fmt = _args(node)
    return exp.StrToTime(this=text, format=fmt, safe=True)


def _epoch(node: exp.Expr) -> exp.Expr:
    """Epoch seconds with the fraction (UNIX_TIMESTAMP drops it)."""
    micros = exp.Anonymous(this="UNIX_MICROS", expressions=[node.this])
    return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))


_DUCKDB_ONLY_FORMAT = re.compile(r"%[gnzZ]")


def _time_format(node: exp.Expr) -> exp.Expr:
    fmt = node.args.get("format")
    if isinstance(fmt, exp.Literal) and _DUCKDB_ONLY_FORMAT.search(fmt.this):
        raise UnsupportedSplError(
            "subseconds (%3N, %6N) and time zones (%z, %Z) in a time format are not supported "
            "on Spark"
        )
    return node


REWRITES: dict[type[exp.Expr], Rewrite] = {
    exp.TryCast: _try_cast,
    exp.ArrayFilter: _zero_based_lambda,
    exp.Transform: _zero_based_lambda,
    exp.ArrayAgg: _ordered_agg,
    exp.Filter: _filtered_agg,
    exp.PercentileCont: _percentile,
    exp.Window: _window,
    exp.With: _recursive,
    exp.RegexpLike: _regex,
    exp.RegexpILike: _regex,
    exp.RegexpExtract: _regexp_extract,
    exp.RegexpExtractAll: _regex,
    exp.RegexpSplit: _regex,
    exp.RegexpReplace: _regexp_replace,
    exp.Bracket: _regexp_extract_struct,
    exp.TimeToUnix: _epoch,
    exp.TimeToStr: _time_format,
}

FUNCTIONS: dict[str, Rewrite] = {
    "list_slice": _list_slice,
    "list_position": _list_position,
    "list_extract": _list_extract,
    "string_split": _string_split,
    "range": _range,
    "try_strptime": _strptime,
    "regexp_replace": _regexp_replace_flags,
}

REFUSED_FUNCTIONS: dict[str, str] = {
    "read_csv": "lookup/inputlookup (CSV lookup tables)",
    "json_valid": "spath without path= (JSON auto-extraction)",
}

#: Regex functions whose pattern (``expression``) must be a literal to run on Spark.
REGEX_NODES = (exp.RegexpLike, exp.RegexpExtract, exp.RegexpReplace, exp.RegexpExtractAll)

REFUSED_NODES: dict[type[exp.Expr], str] = {
    exp.Pivot: (
        "chart/timechart with BY rendered without reading its series from the data (Spark's "
        "SQL must name the columns)"
    ),
    exp.Format: 'tostring(x, "commas")',
}
