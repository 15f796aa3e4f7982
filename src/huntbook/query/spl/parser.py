"""SPL text -> ``ast.Pipeline``.

The query is lexed once in search mode, split at top-level pipes (a ``[subsearch]`` keeps its own
pipes), and each command's tokens go to its entry in ``COMMAND_PARSERS``. Commands whose arguments
are eval expressions (eval, where, ``count(eval(...))``) re-lex their text range in eval mode.
"""

from __future__ import annotations

from collections.abc import Callable

from huntbook.errors import HuntbookError, SplSyntaxError, UnsupportedSplError, did_you_mean
from huntbook.query.spl import ast
from huntbook.query.spl.commands import (
    Subsearch,
    parse_dedup,
    parse_eval_cmd,
    parse_eventstats,
    parse_fields,
    parse_head,
    parse_rare,
    parse_rename,
    parse_reverse,
    parse_search_cmd,
    parse_sort,
    parse_stats,
    parse_streamstats,
    parse_table,
    parse_tail,
    parse_top,
    parse_where,
)
from huntbook.query.spl.commands_data import (
    parse_append,
    parse_appendpipe,
    parse_bin,
    parse_chart,
    parse_convert,
    parse_datamodel,
    parse_fillnull,
    parse_foreach,
    parse_inputlookup,
    parse_join,
    parse_lookup,
    parse_makemv,
    parse_makeresults,
    parse_metadata,
    parse_mvexpand,
    parse_regex,
    parse_replace,
    parse_rex,
    parse_spath,
    parse_timechart,
    parse_transaction,
    parse_tstats,
    parse_xmlkv,
)
from huntbook.query.spl.commands_extra import (
    parse_addtotals,
    parse_fieldsummary,
    parse_fromjson,
    parse_iplocation,
    parse_outputlookup,
)
from huntbook.query.spl.cursor import Cursor
from huntbook.query.spl.lexer import tokenize
from huntbook.query.spl.macros import check_macros
from huntbook.query.spl.support import SPLUNK_ONLY_COMMANDS
from huntbook.query.spl.tokens import Token, TokenType

CommandParser = Callable[[Cursor, Subsearch], ast.Command]

COMMAND_PARSERS: dict[str, CommandParser] = {
    "search": parse_search_cmd,
    "where": parse_where,
    "eval": parse_eval_cmd,
    "table": parse_table,
    "fields": parse_fields,
    "rename": parse_rename,
    "sort": parse_sort,
    "reverse": parse_reverse,
    "head": parse_head,
    "tail": parse_tail,
    "dedup": parse_dedup,
    "stats": parse_stats,
    "eventstats": parse_eventstats,
    "streamstats": parse_streamstats,
    "top": parse_top,
    "rare": parse_rare,
    "rex": parse_rex,
    "regex": parse_regex,
    "transaction": parse_transaction,
    "metadata": parse_metadata,
    "bin": parse_bin,
    "bucket": parse_bin,
    "timechart": parse_timechart,
    "chart": parse_chart,
    "fillnull": parse_fillnull,
    "mvexpand": parse_mvexpand,
    "makemv": parse_makemv,
    "spath": parse_spath,
    "join": parse_join,
    "append": parse_append,
    "lookup": parse_lookup,
    "inputlookup": parse_inputlookup,
    "makeresults": parse_makeresults,
    "convert": parse_convert,
    "tstats": parse_tstats,
    "foreach": parse_foreach,
    "xmlkv": parse_xmlkv,
    "replace": parse_replace,
    "appendpipe": parse_appendpipe,
    "datamodel": parse_datamodel,
    "addtotals": parse_addtotals,
    "fieldsummary": parse_fieldsummary,
    "fromjson": parse_fromjson,
    "outputlookup": parse_outputlookup,
    "iplocation": parse_iplocation,
}

# Commands that must come first (after a leading pipe): they generate rows instead of filtering.
GENERATING = frozenset({"metadata", "makeresults", "inputlookup", "tstats", "datamodel"})


def parse(text: str) -> ast.Pipeline:
    """Parse a whole SPL query.

    Raises:
        SplSyntaxError: the text does not parse (message shows line, column and a caret).
        UnsupportedSplError: a command huntbook does not implement, or a macro.
    """
    check_macros(text)
    try:
        return _parse_range(text, 0, len(text))
    except HuntbookError:
        raise
    except (RecursionError, ValueError, IndexError, OverflowError) as exc:
        raise SplSyntaxError(f"cannot parse query ({exc.__class__.__name__})", text, 0) from exc


def _parse_range(text: str, start: int, end: int, subpipeline: bool = False) -> ast.Pipeline:
    tokens = tokenize(text, "search", start, end)
    segments = _split_pipes(text, tokens)
    leading_pipe = tokens[0].type is TokenType.PIPE
    commands: list[ast.Command] = []

    def subsearch(start: int, end: int, commands: bool = False) -> ast.Pipeline:
        return _parse_range(text, start, end, commands)

    for index, seg in enumerate(segments):
        implicit_search = index == 0 and not leading_pipe and not subpipeline
        if leading_pipe and index == 0:
            continue
        if not seg[:-1] and not implicit_search:
            raise SplSyntaxError("empty command after '|'", text, seg[-1].start)
        commands.append(_parse_command(text, seg, implicit_search, subsearch))
    _check_generating(text, commands)
    return ast.Pipeline(tuple(commands), text, start)


def _split_pipes(text: str, tokens: list[Token]) -> list[list[Token]]:
    """Token lists between top-level pipes; each ends with an EOF token at its end."""
    segments: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.type is TokenType.LBRACKET:
            depth += 1
        elif tok.type is TokenType.RBRACKET:
            depth -= 1
            if depth < 0:
                raise SplSyntaxError("unbalanced ']'", text, tok.start)
        if (tok.type is TokenType.PIPE and depth == 0) or tok.type is TokenType.EOF:
            segments[-1].append(Token(TokenType.EOF, "", "", tok.start, tok.start))
            segments.append([])
            continue
        segments[-1].append(tok)
    if depth > 0:
        raise SplSyntaxError("unbalanced '['", text, tokens[-1].start)
    return segments[:-1]


def _parse_command(
    text: str, seg: list[Token], implicit_search: bool, subsearch: Subsearch
) -> ast.Command:
    cur = Cursor(text, seg)
    if implicit_search:
        search_tok = cur.accept_word("search")  # "search x" at the start is the command itself
        node = parse_search_cmd(cur, subsearch)
        return _with_pos(node, search_tok.start) if search_tok else node
    name_tok = cur.next()
    if name_tok.type is not TokenType.WORD:
        raise SplSyntaxError("expected a command name", text, name_tok.start)
    name = name_tok.text.lower()
    if name not in COMMAND_PARSERS:
        raise UnsupportedSplError(_unknown_command(name), text, name_tok.start)
    parsed = COMMAND_PARSERS[name](cur, subsearch)
    cur.expect_end()
    return _with_pos(parsed, name_tok.start)


def _unknown_command(name: str) -> str:
    """Splunk's own commands are named as unsupported; other names get a did-you-mean."""
    if name in SPLUNK_ONLY_COMMANDS:
        return f"Splunk's `{name}` command is not supported by huntbook (see docs/spl-support.md)"
    return f"unsupported command {name!r}.{did_you_mean(name, COMMAND_PARSERS)}"


def _with_pos(node: ast.Command, pos: int) -> ast.Command:
    import dataclasses

    return dataclasses.replace(node, pos=pos)


def _check_generating(text: str, commands: list[ast.Command]) -> None:
    for i, cmd in enumerate(commands):
        appending = isinstance(cmd, ast.InputLookup) and cmd.append
        if cmd.key in GENERATING and i > 0 and not appending:
            raise SplSyntaxError(
                "this command must be the first command of a search", text, cmd.pos
            )
