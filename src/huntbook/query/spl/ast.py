"""The SPL syntax tree: frozen dataclasses, one per command, plus the two expression languages.

``search`` expressions (case-insensitive values, wildcards, OR binding tighter than AND) and
``eval`` expressions (typed, conventional precedence) are different trees on purpose: the same
text ``x=1`` means a string match in one and a typed comparison in the other (spl.md §1, §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

# ---------------------------------------------------------------- search expressions (spl.md §1)


@dataclass(frozen=True)
class SearchValue:
    """The value right of ``field=``: text after unescaping; ``quoted`` keeps phrase meaning."""

    text: str
    quoted: bool = False
    case_sensitive: bool = False  # CASE(...)
    term: bool = False  # TERM(...)


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # = != < <= > >=
    value: SearchValue
    pos: int = 0


@dataclass(frozen=True)
class InList:
    field: str
    values: tuple[SearchValue, ...]


@dataclass(frozen=True)
class Term:
    """A bare keyword or quoted phrase, matched against ``_raw``."""

    value: SearchValue


@dataclass(frozen=True)
class TimeBound:
    """``earliest=`` / ``latest=`` inside a search."""

    kind: str
    value: str
    pos: int = 0


@dataclass(frozen=True)
class SAnd:
    items: tuple[SearchExpr, ...]


@dataclass(frozen=True)
class SOr:
    items: tuple[SearchExpr, ...]


@dataclass(frozen=True)
class SNot:
    item: SearchExpr


@dataclass(frozen=True)
class SubsearchFilter:
    """A ``[subsearch]`` inside a search clause: its results as Splunk's ``format`` writes them,
    ``(a="v1" AND b="v2") OR (...)``, matched as search terms."""

    pipeline: Pipeline
    pos: int = 0


SearchExpr = Compare | InList | Term | TimeBound | SAnd | SOr | SNot | SubsearchFilter

# ---------------------------------------------------------------- eval expressions (spl.md §2)


@dataclass(frozen=True)
class Literal:
    value: str | float | int | None
    pos: int = 0


@dataclass(frozen=True)
class FieldRef:
    name: str
    pos: int = 0


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    pos: int = 0


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * / % . = == != < <= > >= AND OR XOR LIKE
    left: Expr
    right: Expr
    pos: int = 0


@dataclass(frozen=True)
class UnaryOp:
    op: str  # NOT, -
    operand: Expr
    pos: int = 0


@dataclass(frozen=True)
class InExpr:
    """``x IN ("a", "b")`` in eval/where: exact membership, no wildcards."""

    operand: Expr
    values: tuple[Expr, ...]
    pos: int = 0


@dataclass(frozen=True)
class SearchPredicate:
    """A search expression used as a boolean (``searchmatch``, ``startswith=(...)``)."""

    expr: SearchExpr


Expr = Literal | FieldRef | Call | BinOp | UnaryOp | InExpr | SearchPredicate

# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class Command:
    """Base of every command node; ``pos`` is where the command name starts in the query.

    ``key`` is the command's SPL name (aliases share one: ``rare`` is a ``top``, ``bucket`` a
    ``bin``); code that needs a command's name reads it, never the class name.
    """

    key: ClassVar[str]
    pos: int = field(default=0, kw_only=True)


@dataclass(frozen=True)
class Search(Command):
    key: ClassVar[str] = "search"
    expr: SearchExpr | None


@dataclass(frozen=True)
class Where(Command):
    key: ClassVar[str] = "where"
    expr: Expr


@dataclass(frozen=True)
class Eval(Command):
    key: ClassVar[str] = "eval"
    assignments: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class Table(Command):
    key: ClassVar[str] = "table"
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Fields(Command):
    key: ClassVar[str] = "fields"
    fields: tuple[str, ...]
    remove: bool = False


@dataclass(frozen=True)
class Rename(Command):
    key: ClassVar[str] = "rename"
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SortKey:
    field: str
    desc: bool = False
    mode: str = "auto"  # auto | num | str | ip


@dataclass(frozen=True)
class Sort(Command):
    key: ClassVar[str] = "sort"
    keys: tuple[SortKey, ...]
    limit: int | None = 10000  # 0 or None = unlimited
    reverse_all: bool = False


@dataclass(frozen=True)
class Reverse(Command):
    key: ClassVar[str] = "reverse"


@dataclass(frozen=True)
class Head(Command):
    key: ClassVar[str] = "head"
    count: int = 10


@dataclass(frozen=True)
class Tail(Command):
    key: ClassVar[str] = "tail"
    count: int = 10


@dataclass(frozen=True)
class Dedup(Command):
    key: ClassVar[str] = "dedup"
    fields: tuple[str, ...]
    count: int = 1
    keepempty: bool = False
    consecutive: bool = False
    sortby: tuple[SortKey, ...] = ()


@dataclass(frozen=True)
class Agg:
    """One aggregate of stats/eventstats/streamstats/chart: ``func(arg) AS alias``."""

    func: str
    arg: str | Expr | None  # a field name, an eval(...) expression, or None (count)
    alias: str
    param: float | None = None  # perc95 -> 95
    pos: int = 0


@dataclass(frozen=True)
class Stats(Command):
    key: ClassVar[str] = "stats"
    aggs: tuple[Agg, ...]
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventStats(Command):
    key: ClassVar[str] = "eventstats"
    aggs: tuple[Agg, ...]
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamStats(Command):
    key: ClassVar[str] = "streamstats"
    aggs: tuple[Agg, ...]
    by: tuple[str, ...] = ()
    current: bool = True
    window: int = 0


@dataclass(frozen=True)
class Top(Command):
    key: ClassVar[str] = "top"
    fields: tuple[str, ...]
    by: tuple[str, ...] = ()
    limit: int = 10
    countfield: str = "count"
    percentfield: str = "percent"
    showcount: bool = True
    showperc: bool = True
    rare: bool = False


@dataclass(frozen=True)
class Rex(Command):
    key: ClassVar[str] = "rex"
    pattern: str
    field: str = "_raw"
    max_match: int = 1
    mode: str | None = None  # "sed"


@dataclass(frozen=True)
class Regex(Command):
    key: ClassVar[str] = "regex"
    pattern: str
    field: str = "_raw"
    negate: bool = False


@dataclass(frozen=True)
class TxnFilter:
    """startswith/endswith: a search expression or an eval(...) predicate."""

    search: SearchExpr | None = None
    eval: Expr | None = None


@dataclass(frozen=True)
class Transaction(Command):
    key: ClassVar[str] = "transaction"
    fields: tuple[str, ...]
    startswith: TxnFilter | None = None
    endswith: TxnFilter | None = None
    maxspan: float | None = None
    maxpause: float | None = None
    maxevents: int = 1000
    mvlist: bool | tuple[str, ...] = False
    keepevicted: bool = False
    nullstr: str = "NULL"
    delim: str = " "


@dataclass(frozen=True)
class Metadata(Command):
    key: ClassVar[str] = "metadata"
    type: str
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bin(Command):
    key: ClassVar[str] = "bin"
    field: str
    span: str | None = None
    bins: int | None = None
    alias: str | None = None


@dataclass(frozen=True)
class Timechart(Command):
    key: ClassVar[str] = "timechart"
    aggs: tuple[Agg, ...]
    span: str | None = None
    by: str | None = None
    limit: int = 10
    useother: bool = True


@dataclass(frozen=True)
class Chart(Command):
    key: ClassVar[str] = "chart"
    aggs: tuple[Agg, ...]
    over: str | None = None
    by: str | None = None
    limit: int = 10
    useother: bool = True


@dataclass(frozen=True)
class FillNull(Command):
    key: ClassVar[str] = "fillnull"
    value: str = "0"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class MvExpand(Command):
    key: ClassVar[str] = "mvexpand"
    field: str
    limit: int | None = None


@dataclass(frozen=True)
class MakeMv(Command):
    key: ClassVar[str] = "makemv"
    field: str
    delim: str = " "
    tokenizer: str | None = None
    allowempty: bool = False


@dataclass(frozen=True)
class Spath(Command):
    key: ClassVar[str] = "spath"
    input: str = "_raw"
    path: str | None = None
    output: str | None = None


@dataclass(frozen=True)
class Pipeline:
    """A whole search: commands in order; ``text`` is the source (for error carets)."""

    commands: tuple[Command, ...]
    text: str = ""
    offset: int = 0


@dataclass(frozen=True)
class Join(Command):
    key: ClassVar[str] = "join"
    fields: tuple[str, ...]
    subsearch: Pipeline
    type: str = "inner"
    max: int = 1
    overwrite: bool = True


@dataclass(frozen=True)
class Append(Command):
    key: ClassVar[str] = "append"
    subsearch: Pipeline


@dataclass(frozen=True)
class Lookup(Command):
    key: ClassVar[str] = "lookup"
    table: str
    keys: tuple[tuple[str, str], ...]  # (lookup field, event field)
    outputs: tuple[tuple[str, str], ...] = ()  # (lookup field, event field); empty = all
    outputnew: bool = False


@dataclass(frozen=True)
class InputLookup(Command):
    key: ClassVar[str] = "inputlookup"
    table: str
    where: SearchExpr | None = None
    append: bool = False


@dataclass(frozen=True)
class MakeResults(Command):
    key: ClassVar[str] = "makeresults"
    count: int = 1


@dataclass(frozen=True)
class Convert(Command):
    key: ClassVar[str] = "convert"
    conversions: tuple[tuple[str, str, str], ...]  # (function, field, alias)
    timeformat: str = "%m/%d/%Y %H:%M:%S"


@dataclass(frozen=True)
class TStats(Command):
    key: ClassVar[str] = "tstats"
    aggs: tuple[Agg, ...]
    where: SearchExpr | None = None
    by: tuple[str, ...] = ()
    datamodel: str | None = None  # Model.Dataset (from datamodel=, or where nodename=)
    span: str | None = None  # BY _time span=
    fillnull: str | None = None  # fillnull_value=: the value of a missing BY field


@dataclass(frozen=True)
class Foreach(Command):
    """``foreach <wc-field>... [<<FIELD>> template]`` (mode=multifield): the template text is
    expanded once per matching field at compile time, when the fields are known."""

    key: ClassVar[str] = "foreach"
    fields: tuple[str, ...]
    template: str
    fieldstr: str = "<<FIELD>>"
    matchstr: str = "<<MATCHSTR>>"
    matchseg: tuple[str, ...] = ("<<MATCHSEG1>>", "<<MATCHSEG2>>", "<<MATCHSEG3>>")


@dataclass(frozen=True)
class XmlKv(Command):
    """``xmlkv [<field>]``: ``<key>value</key>`` pairs of the field (default ``_raw``)."""

    key: ClassVar[str] = "xmlkv"
    field: str = "_raw"


@dataclass(frozen=True)
class Replace(Command):
    """``replace <wc-string> WITH <wc-string>, ... IN <field-list>``: whole-value replacement."""

    key: ClassVar[str] = "replace"
    pairs: tuple[tuple[str, str], ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class AppendPipe(Command):
    """``appendpipe [subpipeline]``: the subpipeline's results on the current ones, appended."""

    key: ClassVar[str] = "appendpipe"
    subpipeline: Pipeline


@dataclass(frozen=True)
class DataModel(Command):
    """``| datamodel <Model> <Dataset> search|flat``: the rows of a CIM dataset."""

    key: ClassVar[str] = "datamodel"
    spec: str  # Model.Dataset
    flat: bool = False  # flat: field names without the dataset prefix


@dataclass(frozen=True)
class AddTotals(Command):
    """``addtotals [row=] [col=] [labelfield=] [label=] [fieldname=] [<field>...]``."""

    key: ClassVar[str] = "addtotals"
    fields: tuple[str, ...] = ()  # wildcards allowed; empty: every field
    row: bool = True
    col: bool = False
    labelfield: str | None = None
    label: str = "Total"
    fieldname: str = "Total"


@dataclass(frozen=True)
class FieldSummary(Command):
    """``fieldsummary [maxvals=N] [<wc-field>...]``: a row of statistics per field."""

    key: ClassVar[str] = "fieldsummary"
    fields: tuple[str, ...] = ()
    maxvals: int = 100  # 0: every value


@dataclass(frozen=True)
class FromJson(Command):
    """``fromjson <field> [prefix=]``: the top-level keys of a JSON object as fields."""

    key: ClassVar[str] = "fromjson"
    field: str
    prefix: str = ""


@dataclass(frozen=True)
class OutputLookup(Command):
    """``outputlookup [append=] [create_empty=] [override_if_empty=] [max=] <name>``."""

    key: ClassVar[str] = "outputlookup"
    table: str
    append: bool = False
    create_empty: bool = True
    override_if_empty: bool = True
    max: int | None = None


@dataclass(frozen=True)
class IpLocation(Command):
    """``iplocation [prefix=] [allfields=] [lang=] <ip-field>``: MaxMind City fields."""

    key: ClassVar[str] = "iplocation"
    field: str
    prefix: str = ""
    allfields: bool = False
    lang: str = "en"
