"""``FUNCTIONS``: SPL eval functions (spl.md §2.5) -> sqlglot builders, with SPL's null and index
rules.

Each entry is a ``Function(build, min_args, max_args, note)`` (``max_args`` None: no upper bound);
``note`` feeds docs/spl-support.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler import timefuncs
from huntbook.query.spl.compiler.expr import ExprCompiler, compare, unify
from huntbook.query.spl.compiler.values import (
    BOOL,
    INT,
    LIST,
    NULL,
    NUM,
    NUMERIC,
    TEXT,
    Val,
    as_bool,
    as_list,
    as_num,
    as_text,
    cast,
    col,
    data_type,
    fn,
    is_null,
    lit,
    not_null,
    try_double,
    typed_null,
)
from huntbook.query.spl.regex import re2_pattern

Builder = Callable[[ExprCompiler, ast.Call], Val]
_V = "__m"


@dataclass(frozen=True)
class Function:
    build: Builder
    min_args: int
    max_args: int | None
    note: str = ""

    def accepts(self, count: int) -> bool:
        """True when ``count`` arguments are within this function's arity."""
        return self.min_args <= count and (self.max_args is None or count <= self.max_args)

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


def _args(c: ExprCompiler, node: ast.Call) -> list[Val]:
    return [c.compile(a) for a in node.args]


def _literal_arg(c: ExprCompiler, node: ast.Call, i: int, what: str) -> str | float | int:
    arg = node.args[i]
    if not isinstance(arg, ast.Literal) or arg.value is None:
        raise c.ctx.error(f"{node.name}(): the {what} must be a literal", node.pos)
    return arg.value


def _empty_to_null(lst: exp.Expr) -> exp.Expr:
    """SPL has no empty multivalue: an empty list is null."""
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=exp.ArraySize(this=lst), expression=lit(0)), true=typed_null(LIST)
            )
        ],
        default=lst.copy(),
    )


def _per_value(v: Val, make: Callable[[exp.Expr], exp.Expr]) -> Val:
    """Apply a text function to each value of a list, or to the scalar."""
    if v.kind == LIST:
        lam = exp.Lambda(this=make(col(_V)), expressions=[exp.to_identifier(_V)])
        return Val(exp.Transform(this=v.expr, expression=lam), LIST)
    if v.kind == NULL:
        return Val(typed_null(TEXT), NULL)
    return Val(make(as_text(v)), TEXT)


# ---------------------------------------------------------------- multivalue


def _mvindex(c: ExprCompiler, node: ast.Call) -> Val:
    """0-based, negatives from the end, ``end`` inclusive, out of range -> null (spl.md §2.5)."""
    args = _args(c, node)
    lst = as_list(args[0])
    start = as_num(args[1])
    if len(args) == 2:
        return Val(_element(lst, start), TEXT)
    end = as_num(args[2])
    sliced = fn("list_slice", lst, _one_based(start), _one_based(end))
    return Val(_empty_to_null(sliced), LIST)


def _one_based(i: exp.Expr) -> exp.Expr:
    """SPL 0-based (negatives from the end) -> DuckDB 1-based (negatives from the end)."""
    if isinstance(i, exp.Literal):
        n = int(float(i.this))
        return lit(n + 1)
    if isinstance(i, exp.Neg):
        return i
    whole = cast(i, INT)
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.GTE(this=whole, expression=lit(0)),
                true=exp.Add(this=whole.copy(), expression=lit(1)),
            )
        ],
        default=whole.copy(),
    )


def _element(lst: exp.Expr, index: exp.Expr) -> exp.Expr:
    return exp.Bracket(this=lst, expressions=[_one_based(index)], offset=1, safe=True)


def _mvcount(c: ExprCompiler, node: ast.Call) -> Val:
    """Number of values; null (not 0) for a missing field."""
    (v,) = _args(c, node)
    if v.kind == NULL:
        return Val(typed_null(INT), NULL)
    size = exp.ArraySize(this=as_list(v))
    return Val(exp.Nullif(this=size, expression=lit(0)), INT)


def _mvjoin(c: ExprCompiler, node: ast.Call) -> Val:
    v, delim = _args(c, node)
    return Val(exp.ArrayToString(this=as_list(v), expression=as_text(delim)), TEXT)


def _mvappend(c: ExprCompiler, node: ast.Call) -> Val:
    """Flatten arguments in order; null arguments are skipped; all-null gives null."""
    empty = exp.Cast(this=exp.Array(expressions=[]), to=data_type("VARCHAR[]"))
    parts = [exp.Coalesce(this=as_list(v), expressions=[empty.copy()]) for v in _args(c, node)]
    joined: exp.Expr = parts[0]
    for part in parts[1:]:
        joined = exp.ArrayConcat(this=joined, expressions=[part])
    return Val(_empty_to_null(joined), LIST)


def _mvfilter(c: ExprCompiler, node: ast.Call) -> Val:
    """Keep the values for which the predicate holds; it may reference one field only."""
    names = sorted({n.name for n in _field_refs(node.args[0])})
    if len(names) != 1:
        raise c.ctx.error("mvfilter() must reference exactly one field", node.pos)
    source = c.field(names[0])
    if source.kind == NULL:
        return Val(typed_null(LIST), NULL)
    inner = ExprCompiler(c.state, {**c.overrides, names[0]: Val(col(_V), TEXT)})
    pred = as_bool(inner.compile(node.args[0]))
    lam = exp.Lambda(this=pred, expressions=[exp.to_identifier(_V)])
    return Val(_empty_to_null(exp.ArrayFilter(this=as_list(source), expression=lam)), LIST)


def _mvmap(c: ExprCompiler, node: ast.Call) -> Val:
    """The expression applied to each value of the first argument (a multivalue is returned; a
    single value gives a single value); inside it, the field the first argument names is the
    current value. Results that are null are dropped (a multivalue holds no nulls)."""
    names = sorted({n.name for n in _field_refs(node.args[0])})
    if len(names) > 1:
        raise c.ctx.error("mvmap()'s first argument may reference one field only", node.pos)
    source = c.compile(node.args[0])
    if source.kind == NULL:
        return Val(typed_null(LIST), NULL)
    if source.kind != LIST:
        return ExprCompiler(c.state, {**c.overrides, **dict.fromkeys(names, source)}).compile(
            node.args[1]
        )
    current = Val(col(_V), TEXT)
    inner = ExprCompiler(c.state, {**c.overrides, **dict.fromkeys(names, current)})
    mapped = inner.compile(node.args[1])
    # a null result is an empty list (Spark's flatten is null when any inner list is)
    empty = exp.Cast(this=exp.Array(expressions=[]), to=data_type("VARCHAR[]"))
    results = exp.Coalesce(this=as_list(mapped), expressions=[empty])
    each = exp.Lambda(this=results, expressions=[exp.to_identifier(_V)])
    values = exp.Flatten(this=exp.Transform(this=source.expr, expression=each))
    return Val(_empty_to_null(values), LIST)


def _field_refs(node: object) -> list[ast.FieldRef]:
    if isinstance(node, ast.FieldRef):
        return [node]
    found: list[ast.FieldRef] = []
    for value in getattr(node, "__dict__", {}).values():
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(
                item, ast.Literal | ast.FieldRef | ast.Call | ast.BinOp | ast.UnaryOp | ast.InExpr
            ):
                found.extend(_field_refs(item))
    return found


def _list_fn(name: str) -> Builder:
    def build(c: ExprCompiler, node: ast.Call) -> Val:
        (v,) = _args(c, node)
        return Val(fn(name, as_list(v)), LIST)

    return build


def _mvdedup(c: ExprCompiler, node: ast.Call) -> Val:
    """Drop repeated values, keeping the first occurrence's place."""
    (v,) = _args(c, node)
    lst = as_list(v)
    first = exp.EQ(this=fn("list_position", lst.copy(), col(_V)), expression=col("__i"))
    lam = exp.Lambda(this=first, expressions=[exp.to_identifier(_V), exp.to_identifier("__i")])
    return Val(exp.ArrayFilter(this=lst, expression=lam), LIST)


def _mvzip(c: ExprCompiler, node: ast.Call) -> Val:
    """Pairwise ``a<delim>b`` (default ``,``), as long as the first list."""
    args = _args(c, node)
    left, right = as_list(args[0]), as_list(args[1])
    delim = as_text(args[2]) if len(args) > 2 else lit(",")
    other = exp.Bracket(this=right, expressions=[col("__i")], offset=1, safe=True)
    joined = exp.DPipe(
        this=exp.DPipe(this=col(_V), expression=delim, safe=False), expression=other, safe=False
    )
    lam = exp.Lambda(this=joined, expressions=[exp.to_identifier(_V), exp.to_identifier("__i")])
    return Val(exp.Transform(this=left, expression=lam), LIST)


def _mvrange(c: ExprCompiler, node: ast.Call) -> Val:
    """Numbers from start up to (not including) end, by step (default 1)."""
    args = [cast(as_num(v), INT) for v in _args(c, node)]
    step = args[2] if len(args) > 2 else lit(1)
    numbers = exp.Anonymous(this="RANGE", expressions=[args[0], args[1], step])
    return Val(exp.Cast(this=numbers, to=data_type("VARCHAR[]")), LIST)


def _mvfind(c: ExprCompiler, node: ast.Call) -> Val:
    v, regex = _args(c, node)
    pattern = lit(_regex_arg(c, node, 1)) if isinstance(node.args[1], ast.Literal) else None
    lam = exp.Lambda(
        this=exp.RegexpLike(this=col(_V), expression=pattern or as_text(regex)),
        expressions=[exp.to_identifier(_V)],
    )
    flags = exp.Transform(this=as_list(v), expression=lam)
    position = fn("list_position", flags, exp.true())
    return Val(exp.Sub(this=position, expression=lit(1)), INT)


def _split(c: ExprCompiler, node: ast.Call) -> Val:
    v, delim = _args(c, node)
    return Val(exp.Split(this=as_text(v), expression=as_text(delim)), LIST)


# ---------------------------------------------------------------- text


def _case_fn(cls: type[exp.Func]) -> Builder:
    def build(c: ExprCompiler, node: ast.Call) -> Val:
        (v,) = _args(c, node)
        return _per_value(v, lambda e: cls(this=e))

    return build


def _substr(c: ExprCompiler, node: ast.Call) -> Val:
    """1-based, SQLite semantics (negative start counts from the end)."""
    args = _args(c, node)
    length = as_num(args[2]) if len(args) > 2 else None
    built = exp.Substring(
        this=as_text(args[0]),
        start=cast(as_num(args[1]), INT),
        length=cast(length, INT) if length is not None else None,
    )
    return Val(built, TEXT)


def _len(c: ExprCompiler, node: ast.Call) -> Val:
    (v,) = _args(c, node)
    return Val(exp.Length(this=as_text(v)), INT)


def _regex_arg(c: ExprCompiler, node: ast.Call, i: int) -> str:
    """Argument ``i``, a literal regular expression, in RE2 syntax (refused if RE2 lacks it)."""
    pattern = str(_literal_arg(c, node, i, "regular expression"))
    arg = node.args[i]
    pos = arg.pos if isinstance(arg, ast.Literal) else node.pos
    return re2_pattern(pattern, f"{node.name}()", c.ctx.text, pos)


def _replace(c: ExprCompiler, node: ast.Call) -> Val:
    v, regex, repl = _args(c, node)
    pattern = _regex_arg(c, node, 1)
    built = exp.RegexpReplace(
        this=as_text(v), expression=lit(pattern), replacement=as_text(repl), modifiers=lit("g")
    )
    return Val(built, TEXT)


def _trim_fn(position: str) -> Builder:
    def build(c: ExprCompiler, node: ast.Call) -> Val:
        args = _args(c, node)
        chars = as_text(args[1]) if len(args) > 1 else lit(" \t")
        name = {"BOTH": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}[position]
        return Val(fn(name, as_text(args[0]), chars), TEXT)

    return build


def _urldecode(c: ExprCompiler, node: ast.Call) -> Val:
    (v,) = _args(c, node)
    return Val(fn("url_decode", as_text(v)), TEXT)


def spath_path(path: str) -> str:
    """Splunk path ``a.b{0}.c`` / ``a{}.b`` -> JSONPath ``$.a.b[0].c`` / ``$.a[*].b``."""
    converted = re.sub(r"\{(\d*)\}", lambda m: f"[{m.group(1) or '*'}]", path)
    return "$." + converted


def _spath(c: ExprCompiler, node: ast.Call) -> Val:
    v, _path = _args(c, node)
    path = spath_path(str(_literal_arg(c, node, 1, "path")))
    return Val(exp.JSONExtractScalar(this=as_text(v), expression=lit(path)), TEXT)


# ---------------------------------------------------------------- conditional


def _if(c: ExprCompiler, node: ast.Call) -> Val:
    cond, a, b = _args(c, node)
    (ea, eb), kind = unify([a, b])
    return Val(exp.Case(ifs=[exp.If(this=as_bool(cond), true=ea)], default=eb), kind)


def _case(c: ExprCompiler, node: ast.Call) -> Val:
    """First true condition's value; null when none is true."""
    if len(node.args) % 2:
        raise c.ctx.error("case() takes condition/value pairs", node.pos)
    args = _args(c, node)
    values, kind = unify(args[1::2])
    ifs = [exp.If(this=as_bool(cond), true=v) for cond, v in zip(args[0::2], values, strict=True)]
    return Val(exp.Case(ifs=ifs, default=typed_null(kind)), kind)


def _coalesce(c: ExprCompiler, node: ast.Call) -> Val:
    exprs, kind = unify(_args(c, node))
    return Val(exp.Coalesce(this=exprs[0], expressions=exprs[1:]), kind)


def _nullif(c: ExprCompiler, node: ast.Call) -> Val:
    a, b = _args(c, node)
    return Val(exp.Nullif(this=as_text(a), expression=as_text(b)), TEXT)


def _validate(c: ExprCompiler, node: ast.Call) -> Val:
    args = _args(c, node)
    ifs = [
        exp.If(
            this=exp.Not(this=exp.Coalesce(this=as_bool(cond), expressions=[exp.false()])),
            true=as_text(msg),
        )
        for cond, msg in zip(args[0::2], args[1::2], strict=False)
    ]
    return Val(exp.Case(ifs=ifs, default=typed_null(TEXT)), TEXT)


def _like(c: ExprCompiler, node: ast.Call) -> Val:
    v, pattern = _args(c, node)
    return Val(compare_like(v, pattern), BOOL)


def compare_like(v: Val, pattern: Val) -> exp.Expr:
    return exp.Like(this=as_text(v), expression=as_text(pattern))


def _match(c: ExprCompiler, node: ast.Call) -> Val:
    """Unanchored regular-expression test (use ^...$ for a full match); the pattern may be
    built at run time (``"(?i)".name``), then RE2 runs it as given."""
    v, regex = _args(c, node)
    pattern = _match_pattern(c, node, regex)
    if v.kind == LIST:
        from huntbook.query.spl.compiler.values import any_element

        pred = exp.RegexpLike(this=col(_V), expression=pattern)
        return Val(any_element(v.expr, pred, _V), BOOL)
    return Val(exp.RegexpLike(this=as_text(v), expression=pattern), BOOL)


def _match_pattern(c: ExprCompiler, node: ast.Call, regex: Val) -> exp.Expr:
    """A literal pattern checked and translated now; any other, its value at run time."""
    arg = node.args[1]
    if isinstance(arg, ast.Literal) and arg.value is not None:
        return lit(_regex_arg(c, node, 1))
    if regex.kind == LIST:
        raise c.ctx.error("match(): a multivalue pattern is not supported", node.pos)
    c.ctx.warn(
        "match() with a pattern built at run time: RE2 runs it as given, so a PCRE-only "
        "construct in it fails the search"
    )
    return as_text(regex)


def _in(c: ExprCompiler, node: ast.Call) -> Val:
    args = _args(c, node)
    tests = [compare("=", args[0], v) for v in args[1:]]
    return Val(exp.or_(*tests, copy=False), BOOL)


def _cidrmatch(c: ExprCompiler, node: ast.Call) -> Val:
    from huntbook.query.spl.compiler.search import cidr_predicate

    cidr = str(_literal_arg(c, node, 0, "CIDR"))
    ip = c.compile(node.args[1])
    return Val(cidr_predicate(as_text(ip), cidr), BOOL)


def _searchmatch(c: ExprCompiler, node: ast.Call) -> Val:
    from huntbook.query.spl.compiler.search import predicate
    from huntbook.query.spl.cursor import Cursor
    from huntbook.query.spl.expressions import parse_search
    from huntbook.query.spl.lexer import tokenize

    text = str(_literal_arg(c, node, 0, "search string"))
    parsed = parse_search(Cursor(text, tokenize(text, "search")))
    return Val(predicate(parsed, c.state) if parsed else exp.true(), BOOL)


def _constant(value: exp.Expr, kind: str) -> Builder:
    return lambda c, node: Val(value.copy(), kind)


def _isnull(negate: bool) -> Builder:
    def build(c: ExprCompiler, node: ast.Call) -> Val:
        (v,) = _args(c, node)
        if v.kind == NULL:
            return Val(exp.Boolean(this=negate is False), BOOL)
        return Val(not_null(v.expr) if negate else is_null(v.expr), BOOL)

    return build


def _isnum(c: ExprCompiler, node: ast.Call) -> Val:
    (v,) = _args(c, node)
    if v.kind in NUMERIC:
        return Val(not_null(v.expr), BOOL)
    return Val(not_null(try_double(as_text(v))), BOOL)


def _isint(c: ExprCompiler, node: ast.Call) -> Val:
    (v,) = _args(c, node)
    if v.kind == INT:
        return Val(not_null(v.expr), BOOL)
    return Val(exp.RegexpLike(this=as_text(v), expression=lit(r"^-?\d+$")), BOOL)


def _isstr(c: ExprCompiler, node: ast.Call) -> Val:
    (v,) = _args(c, node)
    if v.kind != TEXT:
        return Val(exp.false(), BOOL)
    return Val(exp.and_(not_null(v.expr), is_null(try_double(v.expr)), copy=False), BOOL)


def _typeof(c: ExprCompiler, node: ast.Call) -> Val:
    (v,) = _args(c, node)
    if v.kind == NULL:
        return Val(lit("Invalid"), TEXT)
    label = {INT: "Number", NUM: "Number", BOOL: "Boolean", LIST: "Multivalue"}.get(
        v.kind, "String"
    )
    return Val(
        exp.Case(ifs=[exp.If(this=is_null(v.expr), true=lit("Invalid"))], default=lit(label)), TEXT
    )


# ---------------------------------------------------------------- conversion and math


def _tonumber(c: ExprCompiler, node: ast.Call) -> Val:
    args = _args(c, node)
    base = int(_literal_arg(c, node, 1, "base")) if len(args) > 1 else 10
    if base == 10:
        return Val(as_num(args[0]), NUM)
    prefix = {16: "0x", 2: "0b"}.get(base)
    if prefix is None:
        raise c.ctx.error("tonumber(): only bases 2, 10 and 16 are supported", node.pos)
    digits = exp.RegexpReplace(
        this=as_text(args[0]), expression=lit("^0[xXbB]"), replacement=lit("")
    )
    hexed = exp.DPipe(this=lit(prefix), expression=digits, safe=False)
    return Val(exp.TryCast(this=hexed, to=data_type("BIGINT")), INT)


def _tostring(c: ExprCompiler, node: ast.Call) -> Val:
    args = _args(c, node)
    if len(args) == 1:
        return Val(as_text(args[0]), TEXT)
    fmt = str(_literal_arg(c, node, 1, "format")).lower()
    number = as_num(args[0])
    if fmt == "hex":
        return Val(
            exp.DPipe(this=lit("0x"), expression=exp.Hex(this=cast(number, INT)), safe=False), TEXT
        )
    if fmt == "duration":
        return Val(timefuncs.duration_text(number), TEXT)
    if fmt == "commas":
        return Val(fn("format", lit("{:,}"), exp.Round(this=number, decimals=lit(2))), TEXT)
    raise c.ctx.error(f"tostring(): unknown format {fmt!r}", node.pos)


def _round(c: ExprCompiler, node: ast.Call) -> Val:
    args = _args(c, node)
    digits = as_num(args[1]) if len(args) > 1 else lit(0)
    places = exp.Cast(this=digits, to=data_type("INT"))
    return Val(exp.Round(this=cast(as_num(args[0]), NUM), decimals=places), NUM)


def _math1(cls: type[exp.Func], kind: str = NUM) -> Builder:
    def build(c: ExprCompiler, node: ast.Call) -> Val:
        (v,) = _args(c, node)
        return Val(cls(this=as_num(v)), kind)

    return build


def _pow(c: ExprCompiler, node: ast.Call) -> Val:
    a, b = _args(c, node)
    return Val(exp.Pow(this=as_num(a), expression=as_num(b)), NUM)


def _log(c: ExprCompiler, node: ast.Call) -> Val:
    args = _args(c, node)
    base = as_num(args[1]) if len(args) > 1 else lit(10)
    return Val(exp.Log(this=base, expression=as_num(args[0])), NUM)


def _minmax(cls: type[exp.Func]) -> Builder:
    def build(c: ExprCompiler, node: ast.Call) -> Val:
        args = [as_num(v) for v in _args(c, node)]
        return Val(cls(this=args[0], expressions=args[1:]), NUM)

    return build


def _hash(name: str) -> Builder:
    def build(c: ExprCompiler, node: ast.Call) -> Val:
        (v,) = _args(c, node)
        text = as_text(v)
        if name == "sha256":
            return Val(exp.SHA2(this=text, length=lit(256)), TEXT)
        return Val({"md5": exp.MD5, "sha1": exp.SHA}[name](this=text), TEXT)

    return build


def _identity(c: ExprCompiler, node: ast.Call) -> Val:
    (v,) = _args(c, node)
    return v


F = Function
FUNCTIONS: dict[str, Function] = {
    # multivalue
    "mvindex": F(
        _mvindex, 2, 3, "0-based; negative from the end; end inclusive; out of range is null"
    ),
    "mvcount": F(_mvcount, 1, 1, "null for a missing field"),
    "mvjoin": F(_mvjoin, 2, 2),
    "mvfilter": F(_mvfilter, 1, 1, "predicate must reference exactly one field"),
    "mvappend": F(_mvappend, 1, None, "null arguments skipped"),
    "mvmap": F(
        _mvmap, 2, 2, "the first argument's field is the current value; null results dropped"
    ),
    "mvdedup": F(_mvdedup, 1, 1, "keeps first occurrences in order"),
    "mvsort": F(_list_fn("list_sort"), 1, 1, "byte order"),
    "mvreverse": F(_list_fn("list_reverse"), 1, 1),
    "mvfind": F(_mvfind, 2, 2, "RE2 syntax; a literal pattern is checked like match()'s"),
    "mvzip": F(_mvzip, 2, 3, "DuckDB only (Spark's lambda index is 0-based)"),
    "mvrange": F(_mvrange, 2, 3, "numeric steps only (no time spans)"),
    "split": F(_split, 2, 2),
    # text
    "lower": F(_case_fn(exp.Lower), 1, 1, "per value on multivalue fields"),
    "upper": F(_case_fn(exp.Upper), 1, 1, "per value on multivalue fields"),
    "substr": F(_substr, 2, 3, "1-based, SQLite semantics; first value of a multivalue field"),
    "len": F(_len, 1, 1, "first value of a multivalue field"),
    "replace": F(
        _replace, 3, 3, "every match; RE2 pattern (look-around refused); \\1 works in DuckDB"
    ),
    "trim": F(_trim_fn("BOTH"), 1, 2, "default strips spaces and tabs"),
    "ltrim": F(_trim_fn("LEADING"), 1, 2),
    "rtrim": F(_trim_fn("TRAILING"), 1, 2),
    "urldecode": F(_urldecode, 1, 1),
    "spath": F(_spath, 2, 2, "JSON only (XML paths are not supported)"),
    # conditional
    "if": F(_if, 3, 3),
    "case": F(_case, 2, None, "null when no condition is true"),
    "coalesce": F(_coalesce, 1, None),
    "nullif": F(_nullif, 2, 2),
    "validate": F(_validate, 2, None),
    "like": F(_like, 2, 2),
    "match": F(
        _match,
        2,
        2,
        "unanchored; RE2 syntax, named groups translated; a pattern built at run "
        "time is run as given",
    ),
    "in": F(_in, 2, None, "exact values, no wildcards"),
    "cidrmatch": F(_cidrmatch, 2, 2, "IPv4 only; CIDR must be a literal"),
    "searchmatch": F(_searchmatch, 1, 1, "search string must be a literal"),
    "true": F(_constant(exp.true(), BOOL), 0, 0),
    "false": F(_constant(exp.false(), BOOL), 0, 0),
    "null": F(_constant(typed_null(TEXT), NULL), 0, 0),
    "isnull": F(_isnull(False), 1, 1),
    "isnotnull": F(_isnull(True), 1, 1),
    "isnum": F(_isnum, 1, 1),
    "isint": F(_isint, 1, 1),
    "isstr": F(_isstr, 1, 1),
    "typeof": F(_typeof, 1, 1),
    # conversion, math, hashing
    "tonumber": F(_tonumber, 1, 2, "bases 2, 10 and 16"),
    "tostring": F(_tostring, 1, 2, "formats hex, duration, commas"),
    "round": F(_round, 1, 2),
    "abs": F(_math1(exp.Abs), 1, 1),
    "ceil": F(_math1(exp.Ceil), 1, 1),
    "ceiling": F(_math1(exp.Ceil), 1, 1),
    "floor": F(_math1(exp.Floor), 1, 1),
    "sqrt": F(_math1(exp.Sqrt), 1, 1),
    "exp": F(_math1(exp.Exp), 1, 1),
    "ln": F(_math1(exp.Ln), 1, 1),
    "log": F(_log, 1, 2, "default base 10"),
    "pow": F(_pow, 2, 2),
    "pi": F(_constant(lit(3.141592653589793), NUM), 0, 0),
    "min": F(_minmax(exp.Least), 1, None, "numeric only"),
    "max": F(_minmax(exp.Greatest), 1, None, "numeric only"),
    "md5": F(_hash("md5"), 1, 1),
    "sha1": F(_hash("sha1"), 1, 1),
    "sha256": F(_hash("sha256"), 1, 1),
    "exact": F(_identity, 1, 1, "no precision tracking, so a no-op"),
    # time (huntbook.query.spl.compiler.timefuncs)
    "strftime": F(timefuncs.strftime, 2, 2, "UTC; format must be a literal"),
    "strptime": F(timefuncs.strptime, 2, 2, "UTC unless the format has %z"),
    "now": F(timefuncs.now, 0, 0, "the search start time"),
    "time": F(timefuncs.now, 0, 0, "same as now() (not per-row wall clock)"),
    "relative_time": F(timefuncs.relative, 2, 2, "modifier must be a literal; s/m/h/d/w units"),
}
