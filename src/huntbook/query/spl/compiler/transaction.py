"""``transaction`` (spl.md §3) as window functions, so 10M events stay a single DuckDB pass.

Splunk reads events newest first; a ``startswith`` event closes the open transaction of its key.
In ascending order that is: a transaction number = the running count of start events per key.
Rows before the first start never close and are dropped unless ``keepevicted=true``. ``endswith``
mirrors it (running count of end events in descending order). ``maxpause`` splits at gaps,
``maxspan`` splits greedily from the newest member (see ``_span_pieces``), ``maxevents``
(default 1000) splits newest-first into chunks. A piece split off on the newer side counts as
closed (closed_txn=1), as Splunk closes it on the split; so does a transaction of maxevents members.

Output per transaction: ``_time`` of the earliest member, ``duration``, ``eventcount``,
``closed_txn``, ``_raw`` of the members oldest first, the key fields, ``mvlist`` fields as one
entry per member in ascending time with ``nullstr`` for members without the field, and every other
field as its sorted distinct values. Newest transaction first. A transaction of one member skips
the aggregation (its row gives those values directly; see ``_groups_and_singles``).
"""

from __future__ import annotations

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler.expr import ExprCompiler
from huntbook.query.spl.compiler.search import predicate
from huntbook.query.spl.compiler.state import (
    Field,
    State,
    alias,
    aliased_table,
    columns_equal,
    flip,
    ordered,
    reserve_name,
)
from huntbook.query.spl.compiler.values import (
    INT,
    LIST,
    NULL,
    NUM,
    TEXT,
    all_values,
    as_bool,
    as_text,
    col,
    lit,
    not_null,
    sorted_distinct,
)

_GROUP_COLS = ("__seg", "__ps", "__sp", "__chunk")
# _time holds microseconds; a difference of two epoch doubles carries float residue below that
# (14.024000167846680), so duration is rounded to _time's precision (spl.md §3.4).
TIME_DECIMALS = 6
_SPECIAL = {"_time", "_raw", "_cd", "duration", "eventcount", "closed_txn", "field_match_sum"}


def _flag(pred: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=pred, true=lit(1))], default=lit(0))


def _filter_pred(f: ast.TxnFilter | None, state: State) -> exp.Expr:
    if f is None:
        return lit(0)
    if f.eval is not None:
        return _flag(as_bool(ExprCompiler(state).compile(f.eval)))
    assert f.search is not None
    return _flag(predicate(f.search, state))


# Where a window's frame ends (ROWS from the partition's first row): at the row (a running
# aggregate), at the row before it, at the partition's last row.
RUNNING: tuple[str, str | None] = ("CURRENT ROW", None)
BEFORE: tuple[str, str | None] = ("1", "PRECEDING")
WHOLE: tuple[str, str | None] = ("UNBOUNDED", "FOLLOWING")


def _window(
    func: exp.Expr,
    partition: list[str],
    order: list[exp.Ordered],
    frame: tuple[str, str | None] | None = RUNNING,
) -> exp.Window:
    """``func`` over the partition in ``order``, its frame from the first row to ``frame``'s
    end (None: no frame, as ranking and offset functions take)."""
    spec = None
    if frame is not None:
        end, end_side = frame
        spec = exp.WindowSpec(
            kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end=end, end_side=end_side
        )
    return exp.Window(
        this=func,
        partition_by=[col(p) for p in partition] or None,
        order=exp.Order(expressions=[o.copy() for o in order]) if order else None,
        spec=spec,
    )


# A transaction's other fields become DISTINCT aggregates (values.sorted_distinct: 0.2 CPU-s less
# on the seed's search at 10M, 5 fields) only up to this many: DuckDB's cost grows faster than
# their number (on 100 rows, 10 took 0.02 s, 100 took 1 s, 200 took 16 s; the list form 0.004,
# 0.05, 0.14), and a transaction whose output no command narrows keeps every field of the store.
DISTINCT_AGGREGATES = 8

# A window's meta key: how many of its leading ORDER BY terms are the transaction's keys, in place
# of PARTITION BY (query/spark.py turns them back into a partition; see ``_keyed_window``).
KEYED = "huntbook_keyed"
# Partitions of a keyed window: a key's rows are in one (by the keys' hash), in order. Measured on
# the seed's search at 10M (2 threads): 16 ran in 1.67 s and 1.34 GB, one partition 1.60 s and
# 1.73 GB, 64 1.9 s, a partition per key (466,851) 1.85 s.
KEYED_PARTITIONS = 16


def _keyed_window(
    func: exp.Expr,
    keys: list[str],
    order: list[exp.Ordered],
    frame: tuple[str, str | None] | None = RUNNING,
) -> exp.Window:
    """``func`` over a few partitions (by the keys' hash) ordered by the keys then ``order``: a
    running count or row number differs from the same window partitioned by the keys by a
    constant per key, which its readers allow (``__seg`` only groups rows with their key, ``__r``
    is only subtracted within a piece). A partition per key (a logon session each, in the seed's
    search) costs DuckDB more than the sort. Spark, whose partitions are tasks, gets the
    partitioned form back (``KEYED``)."""
    if not keys:
        return _window(func, [], order, frame)
    by_key = [ordered(col(k), False) for k in keys]
    window = _window(func, [], [*by_key, *order], frame)
    bucket = exp.Mod(
        this=exp.Anonymous(this="HASH", expressions=[col(k) for k in keys]),
        expression=lit(KEYED_PARTITIONS),
    )
    window.set("partition_by", [bucket])
    window.meta[KEYED] = len(by_key)
    return window


def compile_transaction(cmd: ast.Transaction, state: State) -> State:
    time = state.get("_time")
    if time.kind == NULL:
        raise state.ctx.error("transaction needs _time", cmd.pos)
    asc = [flip(o) for o in state.order]
    desc = state.order_by()
    keys = [f"__k{i}" for i in range(len(cmd.fields))]
    key_values = [as_text(state.get(f)) for f in cmd.fields]
    present = (
        exp.and_(*(not_null(k.copy()) for k in key_values), copy=False) if keys else exp.true()
    )
    start, end = _filter_pred(cmd.startswith, state), _filter_pred(cmd.endswith, state)
    flags = [alias(k, name) for k, name in zip(key_values, keys, strict=True)]
    s = state.then(
        state.select_from(exp.Star(), *flags, alias(start, "__st"), alias(end, "__en")).where(
            present
        ),
        added=[*keys, "__st", "__en"],
    )
    s, newest_first = _segments(cmd, s, keys, asc, desc)
    s = _pieces(cmd, s, keys, asc, time.expr, newest_first)
    grouped = _aggregate(cmd, s, keys, asc)
    if (cmd.startswith or cmd.endswith) and not cmd.keepevicted:
        closed = grouped.fields["closed_txn"].sql
        grouped = grouped.then(
            grouped.select_from(exp.Star()).where(exp.EQ(this=col(closed), expression=lit(1)))
        )
    return grouped


def _segments(
    cmd: ast.Transaction, s: State, keys: list[str], asc: list[exp.Ordered], desc: list[exp.Ordered]
) -> tuple[State, bool | None]:
    """Rows numbered by segment (``__seg``). With startswith or endswith alone, also numbered
    within their key (``__r``, on the segment's window, so in the same sort), oldest or newest
    first as the bool says; None: no numbering (no window, or both options: the orphans' window
    may order tied members otherwise, so the kept members' numbers need not be consecutive)."""
    if cmd.startswith is None and cmd.endswith is None:
        s = s.then(s.select_from(exp.Star(), alias(lit(0), "__seg")), added=["__seg"])
        return s, None
    newest_first = cmd.startswith is None
    flag, order = ("__en", desc) if newest_first else ("__st", asc)
    seg = _keyed_window(exp.Sum(this=col(flag)), keys, order)
    if cmd.startswith is not None and cmd.endswith is not None:
        s = s.then(s.select_from(exp.Star(), alias(seg, "__seg")), added=["__seg"])
        return _drop_orphans(s, keys, asc), None
    rank = _keyed_window(exp.RowNumber(), keys, order, frame=None)
    s = s.then(
        s.select_from(exp.Star(), alias(seg, "__seg"), alias(rank, "__r")),
        added=["__seg", "__r"],
    )
    return s, newest_first


def _drop_orphans(s: State, keys: list[str], asc: list[exp.Ordered]) -> State:
    """Members after the first end event of a segment (before the next start) are orphans."""
    before = _window(exp.Sum(this=col("__en")), [*keys, "__seg"], asc, frame=BEFORE)
    ends_before = exp.Coalesce(this=before, expressions=[lit(0)])
    s = s.then(s.select_from(exp.Star(), alias(ends_before, "__eb")), added=["__eb"])
    return s.then(s.select_from(exp.Star()).where(exp.EQ(this=col("__eb"), expression=lit(0))))


def _pieces(
    cmd: ast.Transaction,
    s: State,
    keys: list[str],
    asc: list[exp.Ordered],
    t: exp.Expr,
    newest_first: bool | None,
) -> State:
    part = [*keys, "__seg"]
    if cmd.maxpause is not None:
        gap = exp.Sub(
            this=t.copy(), expression=_window(exp.Lag(this=t.copy()), part, asc, frame=None)
        )
        brk = _flag(exp.GT(this=gap, expression=lit(cmd.maxpause)))
        s = s.then(s.select_from(exp.Star(), alias(brk, "__brk")), added=["__brk"])
        ps: exp.Expr = _window(exp.Sum(this=col("__brk")), part, asc)
    else:
        ps = lit(0)
    s = s.then(s.select_from(exp.Star(), alias(ps, "__ps")), added=["__ps"])
    part = [*part, "__ps"]
    if cmd.maxspan is not None:
        s = _span_pieces(s, part, t, cmd.maxspan)
    else:
        s = s.then(s.select_from(exp.Star(), alias(lit(0), "__sp")), added=["__sp"])
    part = [*part, "__sp"]
    if cmd.maxevents > 0 and newest_first is not None:
        s = _ranked_chunks(s, part, newest_first, cmd.maxevents)
    elif cmd.maxevents > 0:
        rn = _window(exp.RowNumber(), part, s.order_by(), frame=None)
        chunk = exp.IntDiv(
            this=exp.Paren(this=exp.Sub(this=rn, expression=lit(1))), expression=lit(cmd.maxevents)
        )
        s = s.then(
            s.select_from(exp.Star(), alias(chunk, "__chunk"), alias(_piece_size(part, s), "__n")),
            added=["__chunk", "__n"],
        )
    else:
        s = s.then(s.select_from(exp.Star(), alias(lit(0), "__chunk")), added=["__chunk"])
    return _split_flags(cmd, s, keys)


def _ranked_chunks(s: State, part: list[str], newest_first: bool, maxevents: int) -> State:
    """``__chunk`` and ``__n`` without a second sort: a piece is a run of consecutive members
    of its key, so its members' numbers within the key (``__r``) are consecutive too; its size
    and first number come from a GROUP BY joined back on the piece's columns, and a member's
    place from the newest is its number's distance from the piece's newest."""
    sizes = exp.Select(
        expressions=[
            *[col(p) for p in part],
            alias(exp.Count(this=exp.Star()), "__n"),
            alias(exp.Min(this=col("__r")), "__r0"),
        ]
    ).from_(s.table(), copy=False)
    pieces = s.ctx.add_stage(sizes.group_by(*[col(p) for p in part], copy=False))
    r = exp.column("__r", table="__m", quoted=True)
    r0 = exp.column("__r0", table="__g", quoted=True)
    n = exp.column("__n", table="__g", quoted=True)
    # places from the newest, from 0: r - r0 when numbered newest first, else n - 1 - (r - r0)
    since_first = exp.Sub(this=r, expression=r0)
    place = (
        since_first
        if newest_first
        else exp.Sub(
            this=exp.Sub(this=n.copy(), expression=lit(1)),
            expression=exp.Paren(this=since_first),
        )
    )
    chunk = exp.IntDiv(this=exp.Paren(this=place), expression=lit(maxevents))
    joined = (
        exp.Select(
            expressions=[
                exp.Column(this=exp.Star(), table=exp.to_identifier("__m")),
                alias(chunk, "__chunk"),
                alias(n.copy(), "__n"),
            ]
        )
        .from_(aliased_table(s.source, "__m"))
        .join(
            aliased_table(pieces, "__g"),
            on=columns_equal("__m", "__g", part),
            join_type="inner",
            copy=False,
        )
    )
    return s.then(joined, added=["__chunk", "__n"])


def _piece_size(part: list[str], s: State) -> exp.Window:
    """The members of the row's piece, over the chunk number's window (same partition, order
    and so one sort): the whole partition as its frame."""
    return _window(exp.Count(this=exp.Star()), part, s.order_by(), frame=WHOLE)


def _span_pieces(s: State, part: list[str], t: exp.Expr, maxspan: float) -> State:
    """Splunk's greedy maxspan, newest first: a transaction takes every following event less
    than ``maxspan`` older than its newest member; the first one that does not fit anchors the
    next. ``__next`` is that first misfit's position; a recursive CTE walks the anchor chain
    (one step per transaction, not per event).
    """
    desc = s.order_by()
    fits = exp.Window(
        this=exp.Count(this=exp.Star()),
        partition_by=[col(p) for p in part],
        order=exp.Order(expressions=[ordered(t.copy(), True)]),
        spec=exp.WindowSpec(
            kind="RANGE",
            start="UNBOUNDED",
            start_side="PRECEDING",
            end=lit(maxspan - 1e-6),
            end_side="FOLLOWING",
        ),
    )
    pos = _window(exp.RowNumber(), part, desc, frame=None)
    size = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[col(p) for p in part])
    s = s.then(
        s.select_from(
            exp.Star(),
            alias(pos, "__pos"),
            alias(exp.Add(this=fits, expression=lit(1)), "__next"),
            alias(size, "__cnt"),
        ),
        added=["__pos", "__next", "__cnt"],
    )
    rows = s.source
    anchors = s.ctx.hidden("anchors").lstrip("_")
    seed = (
        exp.Select(expressions=[*[col(p) for p in part], alias(lit(1), "__pos")])
        .from_(rows)
        .distinct()
    )
    step = (
        exp.Select(
            expressions=[
                *[exp.column(p, table="__a", quoted=True) for p in part],
                alias(exp.column("__next", table="__n", quoted=True), "__pos"),
            ]
        )
        .from_(aliased_table(anchors, "__a"))
        .join(
            aliased_table(rows, "__n"),
            on=columns_equal("__a", "__n", [*part, "__pos"]),
            join_type="inner",
            copy=False,
        )
        .where(
            exp.LTE(
                this=exp.column("__next", table="__n", quoted=True),
                expression=exp.column("__cnt", table="__n", quoted=True),
            )
        )
    )
    s.ctx.ctes.append((anchors, exp.union(seed, step, distinct=False)))
    s.ctx.recursive = True
    on = columns_equal("__r", "__k", [*part, "__pos"])
    flag = _flag(not_null(exp.column("__pos", table="__k", quoted=True)))
    marked = (
        exp.Select(
            expressions=[
                exp.Column(this=exp.Star(), table=exp.to_identifier("__r")),
                alias(flag, "__anc"),
            ]
        )
        .from_(aliased_table(rows, "__r"))
        .join(
            aliased_table(anchors, "__k"),
            on=on,
            join_type="left",
            copy=False,
        )
    )
    s = s.then(marked, added=["__anc"])
    sp = exp.Window(
        this=exp.Sum(this=col("__anc")),
        partition_by=[col(p) for p in part],
        order=exp.Order(expressions=[ordered(col("__pos"), False)]),
        spec=exp.WindowSpec(
            kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"
        ),
    )
    return s.then(s.select_from(exp.Star(), alias(sp, "__sp")), added=["__sp"])


def _split_flags(cmd: ast.Transaction, s: State, keys: list[str]) -> State:
    """__split = 1 on members of a piece a maxpause/maxspan split closed (not the oldest piece).

    maxevents needs no flag: a transaction that reached maxevents members is closed (checked on
    the group's count), which spares a window (a sort) on the common path.
    """
    tests: list[exp.Expr] = []
    if cmd.maxpause is not None:
        tests.append(exp.GT(this=col("__ps"), expression=lit(0)))  # 0 is the oldest piece
    if cmd.maxspan is not None:
        max_sp = _window(exp.Max(this=col("__sp")), [*keys, "__seg", "__ps"], [], frame=None)
        tests.append(exp.LT(this=col("__sp"), expression=max_sp))
    flag = _flag(exp.or_(*tests, copy=False)) if tests else lit(0)
    return s.then(s.select_from(exp.Star(), alias(flag, "__split")), added=["__split"])


def _aggregate(cmd: ast.Transaction, s: State, keys: list[str], asc: list[exp.Ordered]) -> State:
    """One row per transaction: each output is a pair (aggregate over the members, value from
    the one member of a single-member transaction), see ``_groups_and_singles``."""
    t = s.get("_time").expr
    taken: set[str] = set()
    projections: list[tuple[exp.Expr, exp.Expr]] = []
    fields: dict[str, Field] = {}

    def add(name: str, value: tuple[exp.Expr, exp.Expr], kind: str) -> None:
        internal = reserve_name(name, taken)
        projections.append((alias(value[0], internal), alias(value[1], internal)))
        fields[name] = Field(name, internal, kind)

    add("_time", (exp.Min(this=t.copy()), t.copy()), NUM)
    for field_name, key in zip(cmd.fields, keys, strict=True):
        add(field_name, (exp.Min(this=col(key)), col(key)), TEXT)
    mvlist = _mvlist_fields(cmd, s)
    needed = s.ctx.needed
    others = [
        f.name
        for f in s.visible()
        if f.name not in _SPECIAL
        and f.name not in cmd.fields
        and (needed is None or f.name in needed)  # else no later command reads it
    ]
    sets = [n for n in others if n not in mvlist and s.get(n).kind != LIST]
    distinct = len(sets) <= DISTINCT_AGGREGATES
    for name in others:
        value = s.get(name)
        if name in mvlist:
            add(name, _member_list(value.expr, value.kind, cmd.nullstr, asc), LIST)
        else:
            add(name, _sorted_set(value.expr, value.kind, distinct), LIST)
    if s.has("_raw"):
        raw = s.get("_raw").expr
        ordered_raw = exp.Order(this=raw, expressions=[o.copy() for o in asc])
        add("_raw", (exp.GroupConcat(this=ordered_raw, separator=lit("\n")), raw.copy()), TEXT)
    span = exp.Sub(this=exp.Max(this=t.copy()), expression=exp.Min(this=t.copy()))
    zero = exp.Sub(this=t.copy(), expression=t.copy())  # null when _time is, as span
    add(
        "duration",
        (
            exp.Round(this=span, decimals=lit(TIME_DECIMALS)),
            exp.Round(this=zero, decimals=lit(TIME_DECIMALS)),
        ),
        NUM,
    )
    add("eventcount", (exp.Count(this=exp.Star()), lit(1)), INT)
    add("closed_txn", _closed(cmd.maxevents), INT)
    add("field_match_sum", (exp.Count(this=exp.Star()), lit(1)), INT)
    if s.has("_cd"):
        cd = s.get("_cd").expr
        add("_cd", (exp.Max(this=cd), cd.copy()), INT)
    order = [ordered(col(fields["_time"].sql), True)]
    if "_cd" in fields:
        order.append(ordered(col(fields["_cd"].sql), True))
    hidden = frozenset({"_cd"} & set(fields))
    return s.then(
        _groups_and_singles(cmd, s, keys, projections),
        fields=fields,
        order=tuple(order),
        physical=frozenset(taken),
        hidden_fields=hidden,
    )


def _closed(maxevents: int) -> tuple[exp.Expr, exp.Expr]:
    """closed_txn: a start or end member, a split, or maxevents members."""
    full = _flag(exp.EQ(this=exp.Count(this=exp.Star()), expression=lit(maxevents)))
    many = exp.Greatest(
        this=exp.Max(this=col("__st")),
        expressions=[exp.Max(this=col("__en")), exp.Max(this=col("__split")), full],
    )
    one = exp.Greatest(
        this=col("__st"), expressions=[col("__en"), col("__split"), lit(int(maxevents == 1))]
    )
    return many, one


def _groups_and_singles(
    cmd: ast.Transaction,
    s: State,
    keys: list[str],
    projections: list[tuple[exp.Expr, exp.Expr]],
) -> exp.Expr:
    """The members grouped by transaction. With maxevents (the chunk window also counts each
    piece's members, ``__n``), a transaction of one member (most of a startswith search's: a
    start nothing followed) is projected straight from its row beside the aggregation of the
    others (UNION ALL): the same values without a list built per one-row group, and a later
    filter on eventcount > 1 lets the engine drop that branch unread."""
    group = [col(k) for k in [*keys, *_GROUP_COLS]]
    grouped = s.select_from(*(many for many, _ in projections)).group_by(*group, copy=False)
    if cmd.maxevents <= 0:
        return grouped
    # Members from this row's chunk on: 1 only in a last chunk of one member (the test puts
    # every member of a chunk on the same side; maxevents=1 chunks go either way, both right).
    rest = exp.Sub(
        this=col("__n"), expression=exp.Mul(this=col("__chunk"), expression=lit(cmd.maxevents))
    )
    many_members = grouped.where(exp.GT(this=rest, expression=lit(1)), copy=False)
    singles = s.select_from(*(one for _, one in projections)).where(
        exp.EQ(this=rest.copy(), expression=lit(1)), copy=False
    )
    return exp.union(many_members, singles, distinct=False)


def _mvlist_fields(cmd: ast.Transaction, s: State) -> set[str]:
    if cmd.mvlist is True:
        return {f.name for f in s.visible()}
    if cmd.mvlist is False:
        return set()
    return set(cmd.mvlist)


def _member_list(
    value: exp.Expr, kind: str, nullstr: str, asc: list[exp.Ordered]
) -> tuple[exp.Expr, exp.Expr]:
    """One entry per member, oldest first; ``nullstr`` for a member without the field."""
    if kind == LIST:
        filled = exp.Coalesce(this=value, expressions=[exp.Array(expressions=[lit(nullstr)])])
        listed = exp.ArrayAgg(this=exp.Order(this=filled, expressions=[o.copy() for o in asc]))
        return exp.Flatten(this=listed), filled.copy()
    text = as_text_expr(value, kind)
    filled = exp.Coalesce(this=text, expressions=[lit(nullstr)])
    listed = exp.ArrayAgg(this=exp.Order(this=filled, expressions=[o.copy() for o in asc]))
    return listed, exp.Array(expressions=[filled.copy()])


def _sorted_set(value: exp.Expr, kind: str, distinct: bool) -> tuple[exp.Expr, exp.Expr]:
    """Distinct values, sorted lexicographically; null when no member has the field. With
    ``distinct``, a scalar's as one DISTINCT aggregate (see ``DISTINCT_AGGREGATES``)."""
    text = value if kind == LIST else as_text_expr(value, kind)
    # An aggregate over no non-null value is NULL, so a field no member has stays null.
    many: exp.Expr
    if kind != LIST and distinct:
        many = sorted_distinct(text)
    else:
        many = exp.ArraySort(this=exp.ArrayDistinct(this=all_values(text, kind == LIST)))
    own = (
        exp.ArraySort(this=exp.ArrayDistinct(this=text.copy()))
        if kind == LIST
        else exp.Array(expressions=[text.copy()])
    )
    one = exp.Case(ifs=[exp.If(this=not_null(text.copy()), true=own)])
    return many, one


def as_text_expr(value: exp.Expr, kind: str) -> exp.Expr:
    from huntbook.query.spl.compiler.values import Val

    return as_text(Val(value, kind))
