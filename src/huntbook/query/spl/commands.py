"""Parse functions of the core commands: ``parse_<name>(cursor, subsearch) -> ast node``
(the rest are in ``commands_data``).

``subsearch(start, end)`` parses a bracketed ``[ ... ]`` text range as its own pipeline;
``subsearch(start, end, commands=True)`` reads it as a subpipeline (appendpipe), whose first
segment is a command, not an implicit ``search``.
"""

from __future__ import annotations

import re
from typing import Protocol

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.cursor import Cursor, to_bool, to_int
from huntbook.query.spl.expressions import parse_eval, parse_search
from huntbook.query.spl.tokens import Token, TokenType


class Subsearch(Protocol):
    def __call__(self, start: int, end: int, commands: bool = False) -> ast.Pipeline: ...


def _eval_rest(cur: Cursor) -> Cursor:
    """Re-lex the rest of this command in eval mode."""
    start = cur.peek().start
    end = cur.tokens[-1].start
    cur.i = len(cur.tokens) - 1
    return cur.sub_cursor(start, end, "eval")


def parse_search_cmd(cur: Cursor, sub: Subsearch) -> ast.Search:
    return ast.Search(parse_search(cur, sub=lambda start, end: sub(start, end)))


def parse_where(cur: Cursor, sub: Subsearch) -> ast.Where:
    ecur = _eval_rest(cur)
    if ecur.at_end():
        raise cur.error("where needs an expression")
    expr = parse_eval(ecur)
    ecur.expect_end()
    return ast.Where(expr)


def parse_eval_cmd(cur: Cursor, sub: Subsearch) -> ast.Eval:
    ecur = _eval_rest(cur)
    pairs: list[tuple[str, ast.Expr]] = []
    while True:
        tok = ecur.next()
        if tok.type not in (TokenType.WORD, TokenType.QUOTED_NAME, TokenType.STRING):
            raise ecur.error("expected field=expression", tok)
        if not ecur.peek().is_op("="):
            raise ecur.error("expected '=' after the field name")
        ecur.next()
        pairs.append((tok.value, parse_eval(ecur)))
        if ecur.at_end():
            return ast.Eval(tuple(pairs))
        ecur.expect(TokenType.COMMA, "',' between assignments")


def parse_table(cur: Cursor, sub: Subsearch) -> ast.Table:
    return ast.Table(tuple(cur.field_list()))


def parse_fields(cur: Cursor, sub: Subsearch) -> ast.Fields:
    remove = False
    tok = cur.peek()
    if tok.type is TokenType.WORD and tok.text in ("+", "-"):
        remove = cur.next().text == "-"
    elif tok.type is TokenType.WORD and tok.text[:1] in "+-" and len(tok.text) > 1:
        remove = tok.text[0] == "-"
        cur.tokens[cur.i] = Token(tok.type, tok.text[1:], tok.value[1:], tok.start + 1, tok.end)
    return ast.Fields(tuple(cur.field_list()), remove)


def parse_rename(cur: Cursor, sub: Subsearch) -> ast.Rename:
    pairs: list[tuple[str, str]] = []
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        old = cur.name()
        if not cur.accept_word("as"):
            raise cur.error("expected AS in rename")
        pairs.append((old, cur.name()))
    if not pairs:
        raise cur.error("rename needs 'old AS new'")
    return ast.Rename(tuple(pairs))


_SORT_MODES = ("auto", "num", "str", "ip")


def _sort_key(cur: Cursor) -> ast.SortKey:
    desc = False
    tok = cur.peek()
    if tok.type is TokenType.WORD and tok.text in ("-", "+"):
        desc = cur.next().text == "-"
        tok = cur.peek()
    elif tok.type is TokenType.WORD and tok.text[:1] in "+-" and len(tok.text) > 1:
        cur.next()
        desc, name = tok.text[0] == "-", tok.value[1:]
        if name.lower() in _SORT_MODES and cur.peek().type is TokenType.LPAREN:
            cur.next()
            field = cur.name()
            cur.expect(TokenType.RPAREN, "')'")
            return ast.SortKey(field, desc, name.lower())
        return ast.SortKey(name, desc)
    if (
        tok.type is TokenType.WORD
        and tok.text.lower() in _SORT_MODES
        and cur.peek(1).type is (TokenType.LPAREN)
    ):
        cur.next()
        cur.next()
        name = cur.name()
        cur.expect(TokenType.RPAREN, "')'")
        return ast.SortKey(name, desc, tok.text.lower())
    return ast.SortKey(cur.name(), desc)


def parse_sort(cur: Cursor, sub: Subsearch) -> ast.Sort:
    limit: int | None = 10000
    if cur.peek().type is TokenType.WORD and cur.peek().text.isdigit():
        limit = int(cur.next().text)
    elif cur.is_option("limit"):
        limit = to_int(cur.option()[1], cur)
    keys: list[ast.SortKey] = []
    reverse_all = False
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        if cur.peek().is_word("desc", "d") and keys and cur.peek(1).type is TokenType.EOF:
            cur.next()
            reverse_all = True
            continue
        keys.append(_sort_key(cur))
    if not keys:
        raise cur.error("sort needs at least one field")
    return ast.Sort(tuple(keys), limit or None, reverse_all)


def parse_reverse(cur: Cursor, sub: Subsearch) -> ast.Reverse:
    return ast.Reverse()


def _count_arg(cur: Cursor, default: int) -> int:
    if cur.is_option("limit"):
        return to_int(cur.option()[1], cur)
    if cur.peek().type is TokenType.WORD and cur.peek().text.isdigit():
        return int(cur.next().text)
    return default


def parse_head(cur: Cursor, sub: Subsearch) -> ast.Head:
    return ast.Head(_count_arg(cur, 10))


def parse_tail(cur: Cursor, sub: Subsearch) -> ast.Tail:
    return ast.Tail(_count_arg(cur, 10))


def parse_dedup(cur: Cursor, sub: Subsearch) -> ast.Dedup:
    count = _count_arg(cur, 1)
    fields: list[str] = []
    opts: dict[str, bool] = {}
    sortby: list[ast.SortKey] = []
    while not cur.at_end():
        if cur.is_option("keepempty", "consecutive", "keepevents"):
            key, value = cur.option()
            opts[key] = to_bool(value, cur)
        elif sortby_tok := cur.accept_word("sortby"):
            while not cur.at_end():
                if not cur.accept(TokenType.COMMA):
                    sortby.append(_sort_key(cur))
            if not sortby:
                raise cur.error("expected a field name after 'sortby'", sortby_tok)
        elif not cur.accept(TokenType.COMMA):
            fields.append(cur.name())
    if not fields:
        raise cur.error("dedup needs at least one field")
    return ast.Dedup(
        tuple(fields),
        count,
        opts.get("keepempty", False),
        opts.get("consecutive", False),
        tuple(sortby),
    )


# ---------------------------------------------------------------- stats family

_PERC = re.compile(r"^(?:perc|p|exact_perc|upperperc)(\d+(?:\.\d+)?)$", re.IGNORECASE)


def parse_agg(cur: Cursor) -> ast.Agg:
    """``count``, ``dc(x)``, ``perc95(x)``, ``count(eval(x>1))``, each with an optional AS."""
    name_tok = cur.expect(TokenType.WORD, "an aggregate function")
    func, param = name_tok.text.lower(), None
    perc = _PERC.match(func)
    if perc:
        func, param = "perc", float(perc.group(1))
    arg: str | ast.Expr | None = None
    label = name_tok.text
    if cur.peek().type is TokenType.LPAREN:
        start, end = cur.balanced()
        label = cur.text[name_tok.start : end + 1]
        arg = _agg_argument(cur, start, end)
    alias = _alias(cur) if cur.accept_word("as") else label
    return ast.Agg(func, arg, alias, param, name_tok.start)


def _alias(cur: Cursor) -> str:
    """The name after AS; parentheses right after a bare word belong to it (``as flags(x)``,
    as Splunk reads the word up to the next space or comma)."""
    word = cur.peek()
    alias = cur.name("an alias")
    following = cur.peek()
    attached = following.type is TokenType.LPAREN and following.start == word.end
    if word.type is TokenType.WORD and attached:
        _start, end = cur.balanced()
        return cur.text[word.start : end + 1]
    return alias


def _agg_argument(cur: Cursor, start: int, end: int) -> str | ast.Expr | None:
    inner = cur.sub_cursor(start, end, "search")
    if inner.at_end():
        return None
    if inner.peek().is_word("eval") and inner.peek(1).type is TokenType.LPAREN:
        inner.next()
        s, e = inner.balanced()
        inner.expect_end()
        ecur = cur.sub_cursor(s, e, "eval")
        expr = parse_eval(ecur)
        ecur.expect_end()
        return expr
    name = inner.name()
    inner.expect_end()
    return name


def aggs_and_by(
    cur: Cursor, options: dict[str, Token] | None = None
) -> tuple[list[ast.Agg], list[str]]:
    aggs: list[ast.Agg] = []
    by: list[str] = []
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        if options is not None and cur.peek(1).is_op("="):
            key, value = cur.option()
            options[key] = value
            continue
        if by_tok := cur.accept_word("by"):
            by = cur.fields_after(by_tok)
            continue
        aggs.append(parse_agg(cur))
    if not aggs:
        raise cur.error("expected at least one aggregate function (e.g. count)")
    return aggs, by


def parse_stats(cur: Cursor, sub: Subsearch) -> ast.Stats:
    aggs, by = aggs_and_by(cur)
    return ast.Stats(tuple(aggs), tuple(by))


def parse_eventstats(cur: Cursor, sub: Subsearch) -> ast.EventStats:
    aggs, by = aggs_and_by(cur)
    return ast.EventStats(tuple(aggs), tuple(by))


_STREAMSTATS_OPTIONS = ("current", "window")


def parse_streamstats(cur: Cursor, sub: Subsearch) -> ast.StreamStats:
    options: dict[str, Token] = {}
    aggs, by = aggs_and_by(cur, options)
    for name, token in options.items():
        if name not in _STREAMSTATS_OPTIONS:
            raise UnsupportedSplError(
                f"streamstats option {name}= is not supported (only "
                f"{', '.join(_STREAMSTATS_OPTIONS)})",
                cur.text,
                token.start,
            )
    current = to_bool(options["current"], cur) if "current" in options else True
    window = to_int(options["window"], cur) if "window" in options else 0
    return ast.StreamStats(tuple(aggs), tuple(by), current, window)


def _parse_top(cur: Cursor, rare: bool) -> ast.Top:
    limit = 10
    if cur.peek().type is TokenType.WORD and cur.peek().text.isdigit():
        limit = int(cur.next().text)
    opts: dict[str, Token] = {}
    fields: list[str] = []
    by: list[str] = []
    while not cur.at_end():
        if cur.peek(1).is_op("="):
            key, value = cur.option()
            opts[key] = value
        elif by_tok := cur.accept_word("by"):
            by = cur.fields_after(by_tok)
        elif not cur.accept(TokenType.COMMA):
            fields.append(cur.name())
    if not fields:
        raise cur.error("expected at least one field")
    return ast.Top(
        tuple(fields),
        tuple(by),
        to_int(opts["limit"], cur) if "limit" in opts else limit,
        opts["countfield"].value if "countfield" in opts else "count",
        opts["percentfield"].value if "percentfield" in opts else "percent",
        to_bool(opts["showcount"], cur) if "showcount" in opts else True,
        to_bool(opts["showperc"], cur) if "showperc" in opts else True,
        rare,
    )


def parse_top(cur: Cursor, sub: Subsearch) -> ast.Top:
    return _parse_top(cur, rare=False)


def parse_rare(cur: Cursor, sub: Subsearch) -> ast.Top:
    return _parse_top(cur, rare=True)
