"""Parse functions of the commands that extract, correlate or generate data: rex, regex,
transaction, metadata, bin, timechart, chart, fillnull, mvexpand, makemv, spath, join, append,
lookup, inputlookup, makeresults, convert, tstats, datamodel, xmlkv, replace, appendpipe,
foreach (``parse_<name>(cursor, subsearch)``).
"""

from __future__ import annotations

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.commands import Subsearch, aggs_and_by, parse_agg
from huntbook.query.spl.cursor import Cursor, to_bool, to_int, to_seconds
from huntbook.query.spl.expressions import parse_eval, parse_search
from huntbook.query.spl.regex import has_named_group, re2_pattern
from huntbook.query.spl.tokens import Token, TokenType

# ---------------------------------------------------------------- regex commands


def parse_rex(cur: Cursor, sub: Subsearch) -> ast.Rex:
    opts: dict[str, Token] = {}
    pattern: Token | None = None
    while not cur.at_end():
        if cur.peek(1).is_op("="):
            key, value = cur.option()
            opts[key] = value
        else:
            pattern = cur.expect(TokenType.STRING, "a quoted regular expression")
    if pattern is None:
        raise cur.error("rex needs a quoted regular expression")
    mode = opts["mode"].value.lower() if "mode" in opts else None
    if mode not in (None, "sed"):
        raise cur.error("rex mode must be sed", opts["mode"])
    if mode is None:
        _check_regex(cur, pattern, "rex")
        if not has_named_group(pattern.value):
            raise cur.error(
                "rex: the regex must contain at least one named group (?<name>...)", pattern
            )
    max_match = to_int(opts["max_match"], cur) if "max_match" in opts else 1
    field = opts["field"].value if "field" in opts else "_raw"
    return ast.Rex(pattern.value, field, max_match, mode)


def _check_regex(cur: Cursor, tok: Token, where: str) -> None:
    """Refuse, at ``tok``, a regular expression using what RE2 (DuckDB) cannot run."""
    re2_pattern(tok.value, where, cur.text, tok.start)


def parse_regex(cur: Cursor, sub: Subsearch) -> ast.Regex:
    if cur.peek().type is TokenType.STRING:
        _check_regex(cur, cur.peek(), "regex")
        return ast.Regex(cur.next().value)
    field = cur.name()
    op = cur.next()
    if not op.is_op("=", "!="):
        raise cur.error("expected = or != in regex", op)
    value = cur.next()
    if value.type not in (TokenType.STRING, TokenType.WORD):
        raise cur.error("expected a regular expression", value)
    _check_regex(cur, value, "regex")
    return ast.Regex(value.value, field, op.text == "!=")


# ---------------------------------------------------------------- transaction

_TXN_BOOL = ("keepevicted", "keeporphans", "mvraw", "connected", "unifyends")


def _txn_filter(cur: Cursor) -> ast.TxnFilter:
    tok = cur.peek()
    if tok.is_word("eval") and cur.peek(1).type is TokenType.LPAREN:
        cur.next()
        s, e = cur.balanced()
        ecur = cur.sub_cursor(s, e, "eval")
        expr = parse_eval(ecur)
        ecur.expect_end()
        return ast.TxnFilter(eval=expr)
    if tok.type is TokenType.LPAREN:
        s, e = cur.balanced()
        return ast.TxnFilter(search=_search_text(cur, s, e))
    if tok.type is TokenType.STRING:
        cur.next()
        # The quoted filter is itself search text; its inner quotes were escaped in the query.
        text_cur = Cursor(tok.value, _tokenize_value(tok.value))
        return ast.TxnFilter(search=parse_search(text_cur))
    return ast.TxnFilter(search=parse_search(_single_term(cur)))


def _tokenize_value(text: str) -> list[Token]:
    from huntbook.query.spl.lexer import tokenize

    return tokenize(text, "search")


def _search_text(cur: Cursor, start: int, end: int) -> ast.SearchExpr:
    inner = cur.sub_cursor(start, end, "search")
    expr = parse_search(inner)
    if expr is None:
        raise cur.error("empty filter")
    return expr


def _single_term(cur: Cursor) -> Cursor:
    """``startswith=EventCode=4624``: one comparison or term, unparenthesised."""
    start = cur.i
    cur.next()
    if cur.peek().type is TokenType.OP:
        cur.next()
        cur.next()
    eof = Token(TokenType.EOF, "", "", cur.peek().start, cur.peek().start)
    return Cursor(cur.text, [*cur.tokens[start : cur.i], eof])


def parse_transaction(cur: Cursor, sub: Subsearch) -> ast.Transaction:
    fields: list[str] = []
    kw: dict[str, object] = {}
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        if not cur.peek(1).is_op("="):
            fields.append(cur.name())
            continue
        key_tok = cur.next()
        cur.next()
        key = key_tok.text.lower()
        if key in ("startswith", "endswith"):
            kw[key] = _txn_filter(cur)
            continue
        value = cur.next()
        kw.update(_txn_option(cur, key, key_tok, value))
    return ast.Transaction(tuple(fields), **kw)  # type: ignore[arg-type]


def _txn_option(cur: Cursor, key: str, key_tok: Token, value: Token) -> dict[str, object]:
    if key in ("maxspan", "maxpause"):
        seconds = to_seconds(value, cur)
        return {key: None if seconds < 0 else seconds}
    if key == "maxevents":
        return {key: to_int(value, cur)}
    if key == "mvlist":
        low = value.value.lower()
        if low in ("t", "true", "f", "false", "1", "0"):
            return {key: to_bool(value, cur)}
        return {key: tuple(v.strip() for v in value.value.split(",") if v.strip())}
    if key in ("nullstr", "delim"):
        return {key: value.value}
    if key == "keepevicted":
        return {key: to_bool(value, cur)}
    if key in _TXN_BOOL or key in ("maxopentxn", "maxopenevents", "name"):
        return {}  # accepted and ignored; docs/spl-support.md lists them
    raise cur.error(f"unknown transaction option {key!r}", key_tok)


# ---------------------------------------------------------------- generating / misc


def _options(cur: Cursor) -> tuple[dict[str, Token], list[Token]]:
    opts: dict[str, Token] = {}
    rest: list[Token] = []
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        if cur.peek(1).is_op("="):
            key, value = cur.option()
            opts[key] = value
        else:
            rest.append(cur.next())
    return opts, rest


def parse_metadata(cur: Cursor, sub: Subsearch) -> ast.Metadata:
    opts: dict[str, Token] = {}
    indexes: list[str] = []
    while not cur.at_end():
        key, value = cur.option() if cur.peek(1).is_op("=") else ("", cur.next())
        if key == "index":
            indexes.append(value.value)
        elif key:
            opts[key] = value
        else:
            raise cur.error("expected type=... or index=...", value)
    kind = opts.get("type")
    if kind is None or kind.value.lower() not in ("sourcetypes", "hosts", "sources"):
        raise cur.error("metadata needs type=sourcetypes, hosts or sources", kind)
    return ast.Metadata(kind.value.lower(), tuple(indexes))


def parse_bin(cur: Cursor, sub: Subsearch) -> ast.Bin:
    opts: dict[str, Token] = {}
    field: str | None = None
    alias: str | None = None
    while not cur.at_end():
        if cur.peek(1).is_op("="):
            key, value = cur.option()
            opts[key] = value
        elif cur.accept_word("as"):
            alias = cur.name()
        else:
            field = cur.name()
    if field is None:
        raise cur.error("bin needs a field")
    bins = to_int(opts["bins"], cur) if "bins" in opts else None
    return ast.Bin(field, opts["span"].value if "span" in opts else None, bins, alias)


def parse_timechart(cur: Cursor, sub: Subsearch) -> ast.Timechart:
    options: dict[str, Token] = {}
    aggs, by = aggs_and_by(cur, options)
    if len(by) > 1:
        raise cur.error("timechart takes one BY field")
    return ast.Timechart(
        tuple(aggs),
        options["span"].value if "span" in options else None,
        by[0] if by else None,
        to_int(options["limit"], cur) if "limit" in options else 10,
        to_bool(options["useother"], cur) if "useother" in options else True,
    )


def parse_chart(cur: Cursor, sub: Subsearch) -> ast.Chart:
    options: dict[str, Token] = {}
    aggs: list[ast.Agg] = []
    over: str | None = None
    by: list[str] = []
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        if cur.peek(1).is_op("="):
            key, value = cur.option()
            options[key] = value
        elif cur.accept_word("over"):
            over = cur.name()
        elif by_tok := cur.accept_word("by"):
            by = cur.fields_after(by_tok)
        else:
            aggs.append(parse_agg(cur))
    if over is None and by:
        over, by = by[0], by[1:]
    if len(by) > 1 or not aggs:
        raise cur.error("chart takes aggregates, OVER one field and BY one field")
    return ast.Chart(
        tuple(aggs),
        over,
        by[0] if by else None,
        to_int(options["limit"], cur) if "limit" in options else 10,
        to_bool(options["useother"], cur) if "useother" in options else True,
    )


def parse_fillnull(cur: Cursor, sub: Subsearch) -> ast.FillNull:
    opts, rest = _options(cur)
    return ast.FillNull(
        opts["value"].value if "value" in opts else "0", tuple(t.value for t in rest)
    )


def parse_mvexpand(cur: Cursor, sub: Subsearch) -> ast.MvExpand:
    opts, rest = _options(cur)
    if len(rest) != 1:
        raise cur.error("mvexpand takes one field")
    return ast.MvExpand(rest[0].value, to_int(opts["limit"], cur) if "limit" in opts else None)


def parse_makemv(cur: Cursor, sub: Subsearch) -> ast.MakeMv:
    opts, rest = _options(cur)
    if len(rest) != 1:
        raise cur.error("makemv takes one field")
    if "tokenizer" in opts:
        _check_regex(cur, opts["tokenizer"], "makemv tokenizer")
    return ast.MakeMv(
        rest[0].value,
        opts["delim"].value if "delim" in opts else " ",
        opts["tokenizer"].value if "tokenizer" in opts else None,
        to_bool(opts["allowempty"], cur) if "allowempty" in opts else False,
    )


def parse_spath(cur: Cursor, sub: Subsearch) -> ast.Spath:
    opts, rest = _options(cur)
    path = opts["path"].value if "path" in opts else (rest[0].value if rest else None)
    return ast.Spath(
        opts["input"].value if "input" in opts else "_raw",
        path,
        opts["output"].value if "output" in opts else None,
    )


def _options_and_fields(cur: Cursor, missing: str) -> tuple[dict[str, Token], list[str]]:
    """``key=value`` options and field names up to a ``[subsearch]`` (``missing``: the error
    when none follows)."""
    opts: dict[str, Token] = {}
    fields: list[str] = []
    while cur.peek().type is not TokenType.LBRACKET:
        if cur.at_end():
            raise cur.error(missing)
        if cur.accept(TokenType.COMMA):
            continue
        if cur.peek(1).is_op("="):
            key, value = cur.option()
            opts[key] = value
        else:
            fields.append(cur.name())
    return opts, fields


def parse_join(cur: Cursor, sub: Subsearch) -> ast.Join:
    opts, fields = _options_and_fields(cur, "join needs a [subsearch]")
    start, end = cur.subsearch()
    kind = opts["type"].value.lower() if "type" in opts else "inner"
    if kind not in ("inner", "left", "outer"):
        raise cur.error("join type must be inner, left or outer", opts["type"])
    return ast.Join(
        tuple(fields),
        sub(start, end),
        "left" if kind == "outer" else kind,
        to_int(opts["max"], cur) if "max" in opts else 1,
        to_bool(opts["overwrite"], cur) if "overwrite" in opts else True,
    )


def parse_append(cur: Cursor, sub: Subsearch) -> ast.Append:
    start, end = cur.subsearch()
    return ast.Append(sub(start, end))


def parse_appendpipe(cur: Cursor, sub: Subsearch) -> ast.AppendPipe:
    """``appendpipe [run_in_preview=<bool>] [<subpipeline>]`` (run_in_preview: display only)."""
    while cur.peek(1).is_op("="):
        cur.option()
    start, end = cur.subsearch()
    return ast.AppendPipe(sub(start, end, commands=True))


def _name_pairs(cur: Cursor, stop: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    while not cur.at_end() and not cur.peek().is_word(*stop):
        if cur.accept(TokenType.COMMA):
            continue
        name = cur.name()
        alias = cur.name() if cur.accept_word("as") else name
        pairs.append((name, alias))
    return pairs


def parse_lookup(cur: Cursor, sub: Subsearch) -> ast.Lookup:
    while cur.peek(1).is_op("="):
        cur.option()  # local=, update=: accepted, no effect on a CSV file
    table = cur.name("a lookup table")
    keys = _name_pairs(cur, ("OUTPUT", "OUTPUTNEW", "output", "outputnew"))
    outputnew = False
    outputs: list[tuple[str, str]] = []
    word = cur.accept_word("output", "outputnew")
    if word:
        outputnew = word.text.lower() == "outputnew"
        outputs = _name_pairs(cur, ())
    if not keys:
        raise cur.error("lookup needs a lookup field")
    return ast.Lookup(table, tuple(keys), tuple(outputs), outputnew)


def parse_inputlookup(cur: Cursor, sub: Subsearch) -> ast.InputLookup:
    append = False
    while cur.peek(1).is_op("="):
        key, value = cur.option()
        if key == "append":
            append = to_bool(value, cur)
    table = cur.name("a lookup table")
    where = parse_search(cur) if cur.accept_word("where") else None
    return ast.InputLookup(table, where, append)


def parse_makeresults(cur: Cursor, sub: Subsearch) -> ast.MakeResults:
    opts, rest = _options(cur)
    if rest:
        raise cur.error("unexpected argument", rest[0])
    return ast.MakeResults(to_int(opts["count"], cur) if "count" in opts else 1)


def parse_convert(cur: Cursor, sub: Subsearch) -> ast.Convert:
    timeformat = "%m/%d/%Y %H:%M:%S"
    conversions: list[tuple[str, str, str]] = []
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        if cur.is_option("timeformat"):
            timeformat = cur.option()[1].value
            continue
        func = cur.expect(TokenType.WORD, "a conversion like ctime(field)")
        cur.expect(TokenType.LPAREN, "'('")
        field = cur.name()
        cur.expect(TokenType.RPAREN, "')'")
        alias = cur.name() if cur.accept_word("as") else field
        conversions.append((func.text.lower(), field, alias))
    return ast.Convert(tuple(conversions), timeformat)


def parse_tstats(cur: Cursor, sub: Subsearch) -> ast.TStats:
    aggs: list[ast.Agg] = []
    where: ast.SearchExpr | None = None
    by: list[str] = []
    datamodel: str | None = None
    span: str | None = None
    fillnull: str | None = None
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        cur.accept_word("from")
        if cur.peek(1).is_op("="):
            key, value = cur.option()
            if key == "datamodel":
                datamodel = value.value
            elif key == "fillnull_value":
                fillnull = value.value
            continue  # summariesonly=, allow_old_summaries=, prestats=: no effect
        if cur.accept_word("where"):
            where = _tstats_where(cur)
        elif by_tok := cur.accept_word("by"):
            by, span = _tstats_by(cur, by_tok)
        else:
            aggs.append(parse_agg(cur))
    if not aggs:
        raise cur.error("tstats needs an aggregate (e.g. count)")
    where, node = _nodename(where)
    if node:
        datamodel = f"{datamodel.split('.')[0]}.{node}" if datamodel else node
    return ast.TStats(tuple(aggs), where, tuple(by), datamodel, span, fillnull)


_DATAMODEL_MODES = ("search", "flat")


def parse_datamodel(cur: Cursor, sub: Subsearch) -> ast.DataModel:
    """``| datamodel <Model> <Dataset> search|flat`` (other modes describe the model: refused)."""
    words = [cur.name("a data model") for _ in range(3) if not cur.at_end()]
    mode = words[-1].lower() if words else ""
    if len(words) < 3 or mode not in _DATAMODEL_MODES:
        raise UnsupportedSplError(
            "datamodel is supported as `| datamodel <Model> <Dataset> search` (or flat); "
            "describing a model (no mode, or acceleration_search) is not",
            cur.text,
            cur.peek().start,
        )
    return ast.DataModel(f"{words[0]}.{words[1]}", mode == "flat")


def _tstats_by(cur: Cursor, by_tok: Token) -> tuple[list[str], str | None]:
    """``BY f1 _time span=1h f2``: the fields, and the span given anywhere among them."""
    by = cur.fields_after(by_tok)
    span = None
    while cur.is_option("span"):
        span = cur.option()[1].value
        by += cur.field_list()
    return by, span


def _nodename(where: ast.SearchExpr | None) -> tuple[ast.SearchExpr | None, str | None]:
    """``where nodename=Model.Dataset.Child ...``: the node, taken out of the where clause."""
    items = where.items if isinstance(where, ast.SAnd) else (where,) if where else ()
    nodes = [i for i in items if isinstance(i, ast.Compare) and i.field.lower() == "nodename"]
    if not nodes:
        return where, None
    rest = tuple(i for i in items if i not in nodes)
    rest_expr = None if not rest else rest[0] if len(rest) == 1 else ast.SAnd(rest)
    return rest_expr, nodes[0].value.text


def _tstats_where(cur: Cursor) -> ast.SearchExpr | None:
    start = cur.i
    while not cur.at_end() and not cur.peek().is_word("by", "BY"):
        cur.next()
    eof = Token(TokenType.EOF, "", "", cur.peek().start, cur.peek().start)
    return parse_search(Cursor(cur.text, [*cur.tokens[start : cur.i], eof]))


def parse_xmlkv(cur: Cursor, sub: Subsearch) -> ast.XmlKv:
    opts, rest = _options(cur)  # maxinputs=: batching only, no effect on the result
    if len(rest) > 1:
        raise cur.error("xmlkv takes one field", rest[1])
    field = rest[0].value if rest else opts["field"].value if "field" in opts else "_raw"
    return ast.XmlKv(field)


def parse_replace(cur: Cursor, sub: Subsearch) -> ast.Replace:
    """``replace "a" WITH "b", x* WITH y* IN f1, f2``."""
    pairs: list[tuple[str, str]] = []
    while not cur.at_end() and not cur.peek().is_word("in", "IN"):
        if cur.accept(TokenType.COMMA):
            continue
        old = _replace_string(cur)
        if not cur.accept_word("with"):
            raise cur.error("expected WITH in replace")
        new = _replace_string(cur)
        if "*" in new and new.count("*") != old.count("*"):
            raise cur.error(
                "replace: the replacement must have as many wildcards as the value, or none"
            )
        pairs.append((old, new))
    if not pairs:
        raise cur.error("replace needs 'value WITH replacement'")
    in_tok = cur.accept_word("in")
    if in_tok is None:
        raise UnsupportedSplError(
            "replace without IN <fields> (every field not made by stats or eval) is not "
            "supported; name the fields",
            cur.text,
            cur.peek().start,
        )
    return ast.Replace(tuple(pairs), tuple(cur.fields_after(in_tok)))


def _replace_string(cur: Cursor) -> str:
    tok = cur.next()
    if tok.type not in (TokenType.STRING, TokenType.WORD):
        raise cur.error("expected a value to replace", tok)
    return tok.value


# ---------------------------------------------------------------- foreach

_FOREACH_SEGMENTS = ("matchseg1", "matchseg2", "matchseg3")


def parse_foreach(cur: Cursor, sub: Subsearch) -> ast.Foreach:
    """``foreach [mode=multifield] <wc-field>... [fieldstr=] [matchstr=] [matchsegN=] [...]``.

    The subsearch is kept as text: it is a template, parsed once per field when compiled.
    """
    opts, fields = _options_and_fields(cur, "foreach needs a [subsearch] template")
    mode = opts.get("mode")
    if mode is not None and mode.value.lower() != "multifield":
        raise UnsupportedSplError(
            f"foreach mode={mode.value} is not supported (only mode=multifield)",
            cur.text,
            mode.start,
        )
    if not fields:
        raise cur.error("foreach needs at least one field (wildcards allowed)")
    start, end = cur.subsearch()
    defaults = ast.Foreach((), "")
    return ast.Foreach(
        tuple(fields),
        cur.text[start:end],
        opts["fieldstr"].value if "fieldstr" in opts else defaults.fieldstr,
        opts["matchstr"].value if "matchstr" in opts else defaults.matchstr,
        tuple(
            opts[key].value if key in opts else default
            for key, default in zip(_FOREACH_SEGMENTS, defaults.matchseg, strict=True)
        ),
    )
