"""Flat JSON lines (Security-Datasets/NXLog) read into columns by Arrow's compiled JSON reader.

The Python path (json_reader.py, then huntbook.normalize) builds a dict per line and a dict per
event, and puts each of ~50 values an event in its column one by one. Here a run of lines (about
``RUN_BYTES``) is parsed by Arrow into columns, and the normalizer runs once per *group* of lines
instead of once per line: lines are grouped by which keys hold a value and by the values the
normalizer tests (``EventID``, ``Channel``, ``Level``, ``-`` and the message inserts: ``_codes``).
For a group, the real normalizer (``flat_values`` and ``finish``) is handed its first line with
every other value replaced by a marker naming its column, so each field of its event comes out as
an op on the run's columns: a constant, a copy of a column, a copy without the domain (CIM names),
a short host name, a list of those (``_op``). Keys the normalizer never reads or writes
(``consulted_names``: most of EventData) are passed through as Arrow's columns. ``_time`` is
computed per line by the Python path's own ``flat_time``.

Exactness: numbers and booleans become text as the Python path writes them (Arrow's int64 and
bool casts), empty text is no value, and the first line of each kind of group (``_signature``,
once per process) is checked against the Python path's event for it (fields and values;
``_Reference``). A part's columns are in the order the
Python path's events first name them, which depends on each line's key order (NXLog lines differ):
the part asks ``Block.fields_of`` for the order of the few lines that add a field, and that order
comes from the Python path run on that line.

A run the compiled path cannot reproduce exactly is read by the Python path instead (``Refused``
says why; ``REFUSALS`` counts the reasons, ``READ`` what was read here): lines Arrow cannot parse
(bad JSON, not an object, a key holding two types of value), text not UTF-8, a float or a nested
object or a list (outside the keys the normalizer drops), another shape of JSON (``Event``,
``winlog``, ``_raw``...), a line without ``EventID`` or without a time, a line the normalizer
skips, a line over the line limit, two keys renamed to one name, a multivalue key, a value made in
a way the ops do not cover, or a group's first line that the Python path gives otherwise.
"""

from __future__ import annotations

import io
import zlib
from array import array
from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from huntbook.errors import IngestError
from huntbook.ingest.base import Member, Skip
from huntbook.ingest.json_reader import _NOT_FLAT
from huntbook.ingest.lines import text_blocks
from huntbook.normalize import normalize
from huntbook.normalize.finish import finish, short_host
from huntbook.normalize.flat import _DROP, _LIST, _TIME_KEYS, _key_plan, flat_time, flat_values
from huntbook.normalize.tables import tables
from huntbook.normalize.types import CORE_COLUMNS, LIST, field_type
from huntbook.store.parts import ARROW_TYPES, Block, numbers, string_lists, strings

RUN_BYTES = 4 << 20  # lines parsed by Arrow at a time
REFUSALS: Counter[str] = Counter()  # runs read by the Python path instead, by reason (this process)
READ: Counter[str] = Counter()  # runs and events the compiled path read (this process)
CHECKED: set[Hashable] = set()  # groups' ops checked against the Python path (``_signature``)
MAX_CHECKED = 65_536
_TIME_RAW = frozenset((*_TIME_KEYS, "EventReceivedTime", "EventID"))
_AS_TEXT = {pa.string(): None, pa.int64(): pa.string(), pa.bool_(): pa.string()}


# Arrow scalars taken from arrays: ``pa.scalar`` (and a Python value handed to a compute
# function) asks pyarrow's pandas shim about it, which imports pandas (~0.7 s) where installed.
_EMPTY, _NULL = strings(["", None])
_BITS = numbers([1 << bit for bit in range(63)], "q", pa.int64())
_ZERO, _ONE, _TWO = numbers([0, 1, 2], "q", pa.int64())
LIST_TYPE = ARROW_TYPES[LIST]
_NULL_LIST = string_lists([None])[0]


class Refused(Exception):
    """A run of lines the compiled path does not read: the Python path reads it."""


@dataclass(frozen=True)
class Run:
    """A run of whole lines of a member: its bytes, its lines that are not blank (as the Python
    reader's ``_raw``), the numbers of its first line and of its last line that is not blank;
    ``text`` False when it is not UTF-8."""

    data: bytes
    lines: pa.Array  # string
    first_line: int
    last_line: int  # the number of its last line that is not blank
    text: bool = True

    def member(self, of: Member) -> Member:
        """The run as a member of its own, for the Python reader (lines numbered as in ``of``)."""
        data = self.data
        return replace(of, open=lambda: io.BytesIO(data), path=None, first_line=self.first_line)


@lru_cache(maxsize=1)
def consulted_names() -> frozenset[str]:
    """Every field name the normalizer's ``finish`` reads or writes, per the mapping tables."""
    t = tables()
    names = set(CORE_COLUMNS) | {"Channel", "LogName", "Computer", "Level", "TaskCategory", "Type"}
    names |= set(t.header_aliases) | set(t.header_aliases.values())
    for table in (t.classic_default, *t.classic_by_event.values()):
        names |= set(table) | set(table.values())
    for rules in t.cim.values():
        for rule in rules:
            names |= {rule.name, *(source for source, _ in rule.sources)}
    return frozenset(names)


def runs(member: Member) -> Iterator[Run | Skip]:
    """The member's lines in runs of about ``RUN_BYTES`` (a line over the limit is a run of its
    own, for the Python reader to refuse); a stream that breaks ends with the Skip the Python
    reader gives."""
    line_no, last = member.first_line, member.first_line - 1
    blocks: list[bytes] = []  # the run so far, joined once it is long enough
    size = 0
    try:
        with member.open() as fh:
            for block in text_blocks(fh):
                blocks.append(block)
                size += len(block)
                end = block.rfind(b"\n") + 1
                if size >= RUN_BYTES and (end or size > member.limits.line_bytes):
                    data = b"".join(blocks)
                    cut = data.rfind(b"\n") + 1 or size  # no line break: a line over the limit
                    run, line_no = _run(data[:cut], line_no)
                    blocks, size = ([data[cut:]], size - cut) if cut < size else ([], 0)
                    last = max(last, run.last_line)
                    yield run
    except (OSError, EOFError, zlib.error) as exc:
        data = b"".join(blocks)
        complete = data[: data.rfind(b"\n") + 1]
        if complete:
            run, line_no = _run(complete, line_no)
            last = max(last, run.last_line)
            yield run
        yield Skip(f"line {last + 1}", f"stream ends early: {exc}")
        return
    if size:
        yield _run(b"".join(blocks), line_no)[0]


_INK = r"[^ \t\n\r\f\v]"  # a character the Python reader's ``\S`` (bytes) does not skip


def _run(data: bytes, line_no: int) -> tuple[Run, int]:
    """The run's lines that are not blank, cut and tested in Arrow: what ``lines`` and ``_text``
    of the Python reader give (trailing carriage returns cut)."""
    breaks = data.count(b"\n")
    whole = pa.Array.from_buffers(
        pa.binary(), 1, [None, pa.py_buffer(array("i", [0, len(data)])), pa.py_buffer(data)]
    )
    try:
        text = whole.cast(pa.string())
    except pa.ArrowInvalid:
        return Run(data, strings([]), line_no, line_no - 1, text=False), line_no + breaks
    lines = pc.list_flatten(pc.split_pattern(text, "\n"))
    if data.endswith(b"\n"):
        lines = lines.slice(0, len(lines) - 1)
    if len(lines) and pc.all(pc.starts_with(lines, "{")).as_py():
        last = line_no + len(lines) - 1  # every line starts an object: none is blank
    else:
        inked = pc.match_substring_regex(lines, _INK)
        kept = pc.indices_nonzero(inked)
        last = line_no + kept[-1].as_py() if len(kept) else line_no - 1
        lines = lines.filter(inked)
    if b"\r" in data:
        lines = pc.replace_substring_regex(lines, pattern="\r+$", replacement="")
    return Run(data, lines, line_no, last), line_no + breaks


def _parse(run: Run, member: Member) -> pa.Table:
    """Arrow's reading of the run: one thread, time keys as text (Arrow would make timestamps)."""
    if len(run.lines) and pc.max(pc.binary_length(run.lines)).as_py() >= member.limits.line_bytes:
        raise Refused("a line over the line limit")
    strings: list[str] = sorted(_TIME_RAW - {"EventID"})
    for _ in range(2):
        schema = pa.schema([(name, pa.string()) for name in strings])
        options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        read = pj.ReadOptions(use_threads=False, block_size=max(len(run.data), 1 << 20) + 1)
        try:
            table = pj.read_json(io.BytesIO(run.data), read_options=read, parse_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise Refused(f"Arrow cannot read it: {str(exc).splitlines()[0][:80]}") from exc
        stamps = [f.name for f in table.schema if pa.types.is_timestamp(f.type)]
        if not stamps:
            return table
        strings += stamps
    raise Refused("time-like text Arrow keeps reading as timestamps")


@dataclass(frozen=True)
class Plan:
    """A run's columns: passed through under a field name, or consulted (in column order)."""

    passed: list[tuple[str, str]]  # (raw key, field name)
    consulted: list[str]  # raw keys the normalizer is handed (time keys and EventID among them)


def _plan(table: pa.Table) -> Plan:
    keys = table.column_names
    if any(k in keys for k in _NOT_FLAT):
        raise Refused("another JSON shape (Event, System, winlog, result or _raw)")
    if "EventID" not in keys or table.column("EventID").null_count:
        raise Refused("a line without EventID")
    passed, consulted, taken = [], [], set()
    for key in keys:
        kind = table.schema.field(key).type
        action, name = _key_plan(key)
        if action == _DROP and key not in _TIME_RAW:
            continue
        if action == _LIST:
            raise Refused(f"{key!r} is multivalue")
        if pa.types.is_null(kind):
            continue  # null in every line: no field in the Python path either
        if kind not in _AS_TEXT:
            raise Refused(f"{key!r} holds {kind}")
        if action != _DROP:
            if name in taken:
                raise Refused(f"two keys named {name!r}")
            taken.add(name)
        if key in _TIME_RAW or name in consulted_names():
            consulted.append(key)
        else:
            passed.append((key, name))
    return Plan(passed, consulted)


def _text_column(column: pa.ChunkedArray) -> pa.Array:
    """A column as the Python path stores its values: text, empty text as no value."""
    column = column.combine_chunks()
    target = _AS_TEXT[column.type]
    if target is not None:
        return column.cast(target)
    return _no_empty(column)


def _no_empty(column: pa.Array) -> pa.Array:
    """Empty text as no value (a copy only where there is empty text)."""
    empty = pc.equal(column, _EMPTY)
    return pc.if_else(empty, _NULL, column) if pc.any(empty).as_py() else column


@lru_cache(maxsize=1)
def _special_values() -> pa.Array:
    """Values the normalizer tests by content: ``-`` (no value) and the message inserts."""
    return strings(["-", *tables().inserts])


def _codes(text: pa.Array, always: bool) -> tuple[pa.Array, list[str]]:
    """Per row: 0 no value, 1 a value the normalizer only copies, 2 + i the special value i."""
    present = pc.is_valid(text).cast(pa.int64())
    if not always:
        special = pc.is_in(text, _special_values())
        if not pc.any(special).as_py():
            return present, []
        text = pc.if_else(special, text, _NULL)
    encoded = pc.dictionary_encode(text)
    index = encoded.indices.cast(pa.int64())
    codes = pc.if_else(pc.is_valid(index), pc.add(index, _TWO), present)
    return codes, encoded.dictionary.to_pylist()


def _group_keys(codes: list[pa.Array]) -> list[tuple[int, ...]]:
    """Per row, its codes packed into a tuple of ints (exact: each code gets the bits it needs)."""
    words: list[Any] = []
    word: Any = _ZERO
    used = 0
    for code in codes:
        bits = max(int(pc.max(code).as_py() or 0).bit_length(), 1)
        if used + bits > 62:
            words.append(word)
            word, used = _ZERO, 0
        word = pc.add(pc.multiply(word, _BITS[bits]), code)
        used += bits
    words.append(word)
    columns = [w.to_pylist() if isinstance(w, pa.Array) else [0] * len(codes[0]) for w in words]
    return list(zip(*columns, strict=True))


def _marker(i: int) -> str:
    """What the normalizer is handed for column ``i``'s value: it copies it, or keeps what
    follows its last backslash (a CIM name without its domain)."""
    return f"\ue000{i}\\\ue001{i}"


_MARKS = frozenset("\ue000\ue001")
Op = tuple[str, Any]  # ("copy" | "strip" | "host", column) | ("const", value) | ("list", ops)


def _op(name: str, value: Any, markers: dict[str, int], stripped: dict[str, int]) -> Op:
    """How the run's column of field ``name`` is made, from its value in a group's event."""
    if isinstance(value, list):
        items = [_op(name, v, markers, stripped) for v in value]
        if any(kind == "const" and not v for kind, v in items):
            raise Refused(f"{name!r}: an empty value in a list")
        return "list", tuple(items)
    if value is None or isinstance(value, str) and _MARKS.isdisjoint(value):
        return "const", value
    if isinstance(value, str) and value in markers:
        return ("host" if name == "host" else "copy"), markers[value]
    if isinstance(value, str) and value in stripped:
        return "strip", stripped[value]
    raise Refused(f"{name!r}: a value the normalizer makes in a way not reproduced here")


@dataclass
class _Group:
    """Lines that take the same way through the normalizer: its fields' values, as ops."""

    ops: dict[str, Op]
    fields: frozenset[str]
    key: tuple[str, str]  # (index, sourcetype)
    held: frozenset[int]  # the consulted columns holding a value in these lines


def _template(
    symbolic: dict[str, Any], index: str, sourcetype: str | None, markers: dict[str, int]
) -> tuple[dict[str, Op], str, str]:
    try:
        event = finish(flat_values(symbolic), 0.0, "", index, sourcetype)
    except (IngestError, KeyError, ValueError) as exc:
        raise Refused("a line the normalizer skips") from exc
    stripped = {f"\ue001{i}": i for i in markers.values()}
    ops = {n: _op(n, v, markers, stripped) for n, v in event.items() if n not in ("_time", "_raw")}
    return ops, str(event["index"] or ""), str(event["sourcetype"] or "")


def read_block(
    run: Run, member: Member, index: str, sourcetype: str | None
) -> tuple[Block, Counter[str]]:
    """The run's events as a Block, and events per sourcetype; raises Refused."""
    if not run.text:
        raise Refused("not UTF-8")
    table = _parse(run, member)
    rows = table.num_rows
    if rows != len(run.lines):
        raise Refused("Arrow's rows are not the run's lines")
    plan = _plan(table)
    texts = {key: _text_column(table.column(key)) for key in plan.consulted}
    passed = [_text_column(table.column(key)) for key, _ in plan.passed]
    specials = [_codes(texts[k], _always_special(k)) for k in plan.consulted]
    codes = [c for c, _ in specials] + [pc.is_valid(c).cast(pa.int64()) for c in passed]
    group_of: dict[tuple[int, ...], int] = {}
    row_groups: list[int] = []
    firsts: list[int] = []
    for row, key in enumerate(_group_keys(codes) if codes else [()] * rows):
        number = group_of.get(key)
        if number is None:
            number = group_of[key] = len(firsts)
            firsts.append(row)
        row_groups.append(number)
    groups = _groups(plan, specials, codes, firsts, index, sourcetype)
    group_ids = numbers(row_groups, "q", pa.int64())
    columns: dict[str, Any] = {"_time": _times(table, plan)}
    columns["_raw"] = run.lines
    for name in dict.fromkeys(n for g in groups for n in g.ops):
        columns[name] = _column(name, groups, group_ids, [texts[k] for k in plan.consulted])
    for (_, name), column in zip(plan.passed, passed, strict=True):
        if name in columns:
            raise Refused(f"{name!r} both passed through and normalized")
        columns[name] = column
    reference = _Reference(run.lines, index, sourcetype)
    shapes = [(g.fields, g.key) for g in groups]
    block = Block(pa.table(columns), shapes, row_groups, reference.fields)
    counts: Counter[str] = Counter()
    for number, size in Counter(row_groups).items():
        counts[groups[number].key[1]] += size
    for group, row in zip(groups, firsts, strict=True):
        signature = _signature(group, plan.consulted)
        if signature not in CHECKED:
            reference.check(block, row)
            if len(CHECKED) >= MAX_CHECKED:
                CHECKED.clear()
            CHECKED.add(signature)
    return block, counts


def _signature(group: _Group, keys: list[str]) -> Hashable:
    """What the group does, by column names: a group doing the same was checked already."""

    def named(op: Op) -> Hashable:
        what, arg = op
        if what == "list":
            return what, tuple(named(item) for item in arg)
        return what, (arg if what == "const" else keys[arg])

    ops = tuple(sorted((name, named(op)) for name, op in group.ops.items()))
    return ops, group.fields, group.key


def _always_special(key: str) -> bool:
    """Keys whose every value steers the normalizer (the event's code, channel, level)."""
    return key == "EventID" or _key_plan(key)[1] in ("Channel", "LogName", "Level")


def _groups(
    plan: Plan,
    specials: list[tuple[pa.Array, list[str]]],
    codes: list[pa.Array],
    firsts: list[int],
    index: str,
    sourcetype: str | None,
) -> list[_Group]:
    """Each group from its first line: the normalizer run once on that line with each plain value
    replaced by a marker of its column, so each field's value is known as an op on columns."""
    rows = numbers(firsts, "q", pa.int64())
    picked = [pc.take(code, rows).to_pylist() for code in codes]  # [column][group]
    consulted = len(plan.consulted)
    markers = {_marker(i): i for i in range(consulted)}
    groups = []
    for number in range(len(firsts)):
        symbolic: dict[str, Any] = {}
        for i, (key, (_, values)) in enumerate(zip(plan.consulted, specials, strict=True)):
            c = picked[i][number]
            if c:
                symbolic[key] = _marker(i) if c == 1 else values[c - 2]
        ops, group_index, group_sourcetype = _template(symbolic, index, sourcetype, markers)
        present = {name for j, (_, name) in enumerate(plan.passed) if picked[consulted + j][number]}
        held = frozenset(i for i in range(consulted) if picked[i][number])
        fields = frozenset(present.union(ops, ("_time", "_raw")))
        groups.append(_Group(ops, fields, (group_index, group_sourcetype), held))
    return groups


def _column(
    name: str, groups: list[_Group], group_ids: pa.Array, texts: list[pa.Array]
) -> pa.Array:
    """Field ``name`` over the run: each group's op on its rows (constants in one take)."""
    ops = [g.ops.get(name) for g in groups]
    kind = ARROW_TYPES[field_type(name)]
    distinct = {o for o in ops if o is not None}
    if len(distinct) == 1:
        op = next(iter(distinct))
        held = [op[1] in g.held for g in groups]
        if op[0] == "copy" and held == [o is not None for o in ops]:
            return _values(op, texts, len(group_ids), kind)  # a value where its column has one
    column: Any = None
    if kind == pa.string() and any(o is not None and o[0] == "const" for o in ops):
        consts = strings([o[1] or None if o is not None and o[0] == "const" else None for o in ops])
        column = pc.take(consts, group_ids)
    for op in distinct:
        if column is not None and op[0] == "const" and kind == pa.string():
            continue
        values = _values(op, texts, len(group_ids), kind)
        if len(distinct) == 1 and None not in ops:
            return values
        rows = pc.take(_booleans([o == op for o in ops]), group_ids)
        column = pc.if_else(rows, values, column if column is not None else _nulls(kind))
    return column


def _booleans(values: list[bool]) -> pa.Array:
    return pc.equal(numbers([int(v) for v in values], "q", pa.int64()), _ONE)


def _values(op: Op, texts: list[pa.Array], rows: int, kind: pa.DataType) -> pa.Array:
    what, arg = op
    if what == "list":
        if kind != LIST_TYPE:
            raise Refused("a list in a field that is not multivalue")
        items = [_values(item, texts, rows, pa.string()) for item in arg]
        return _lists(items, rows)  # each item has a value in the group's lines (_op)
    if what == "const" and not arg:
        return pa.nulls(rows, kind)
    if kind == LIST_TYPE:
        return _lists([_values(op, texts, rows, pa.string())], rows)
    if what == "const":
        return _repeat(arg, rows)
    column = texts[arg]
    if what == "strip":
        column = pc.replace_substring_regex(column, pattern=r"(?s)^.*\\", replacement="")
    elif what == "host":
        encoded = pc.dictionary_encode(column)
        hosts = strings([short_host(h) for h in encoded.dictionary.to_pylist()])
        column = pc.take(hosts, encoded.indices)
    return column if what == "copy" else _no_empty(column)


def _repeat(value: str | None, rows: int) -> pa.Array:
    return pa.repeat(strings([value])[0], rows)


def _nulls(kind: pa.DataType) -> pa.Scalar:
    return _NULL if kind == pa.string() else _NULL_LIST


def _lists(items: list[pa.Array], rows: int) -> pa.Array:
    """Rows of lists of len(items) texts, the i-th from ``items[i]``."""
    width = len(items)
    values = pc.take(pa.concat_arrays(items), _interleaved(rows, width))
    offsets = numbers(range(0, rows * width + 1, width), "i", pa.int32())
    return pa.ListArray.from_arrays(offsets, values)


@lru_cache(maxsize=64)
def _interleaved(rows: int, width: int) -> pa.Array:
    """Positions ``r + i * rows`` for each row ``r`` and item ``i``, row by row."""
    k = numbers(range(rows * width), "q", pa.int64())
    w, n = numbers([width, rows], "q", pa.int64())
    row = pc.divide(k, w)
    return pc.add(row, pc.multiply(pc.subtract(k, pc.multiply(row, w)), n))


def _times(table: pa.Table, plan: Plan) -> pa.Array:
    """Each line's ``_time`` by the Python path's rule (flat_time)."""
    keys = [k for k in plan.consulted if k in _TIME_KEYS or k == "EventReceivedTime"]
    columns = [table.column(k).to_pylist() for k in keys]
    try:
        times = [
            flat_time({k: v for k, v in zip(keys, line, strict=True) if v is not None})
            for line in zip(*columns, strict=True)
        ]
    except (IngestError, ValueError) as exc:
        raise Refused("a line without a time the normalizer reads") from exc
    return numbers(times, "d", pa.float64())


@dataclass
class _Reference:
    """The Python path's event of a line of the run: its fields' order, and a check of a row."""

    lines: pa.Array
    index: str
    sourcetype: str | None

    def event(self, row: int) -> dict[str, Any]:
        line = self.lines[row].as_py()
        obj = orjson.loads(line)
        return normalize("flat", obj, line, index=self.index, sourcetype=self.sourcetype)

    def fields(self, row: int) -> list[str]:
        return list(self.event(row))

    def check(self, block: Block, row: int) -> None:
        """Row ``row`` of ``block`` holds what the Python path gives for its line, or Refused."""
        event = self.event(row)
        fields, _ = block.shapes[block.shape_of[row]]
        if set(event) != fields:
            raise Refused("the Python path gives a line other fields")
        table = block.table
        for name, value in event.items():
            stored = float(value) if name == "_time" else _stored(value)
            if table.column(name)[row].as_py() != stored:
                raise Refused(f"the Python path gives {name!r} another value")


def _stored(value: Any) -> Any:
    """A value as a part stores it (Gathered.add): no value for empty text or an empty list."""
    if isinstance(value, list):
        items = [v if isinstance(v, str) else str(v) for v in value if v is not None and v != ""]
        return items or None
    return None if value is None or value == "" else value if isinstance(value, str) else str(value)
