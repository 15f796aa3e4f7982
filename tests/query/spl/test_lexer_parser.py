"""Lexer and parser: each test names the spl.md rule it pins."""

from __future__ import annotations

import pytest

from huntbook.errors import SplSyntaxError, UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.lexer import tokenize, unescape
from huntbook.query.spl.parser import COMMAND_PARSERS, parse
from huntbook.query.spl.tokens import TokenType


def _search(text: str) -> ast.SearchExpr | None:
    cmd = parse(text).commands[0]
    assert isinstance(cmd, ast.Search)
    return cmd.expr


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (r"C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\svchost.exe"),
        (r"C:\\Windows\\system32\\", "C:\\Windows\\system32\\"),
        (r"a\"b", 'a"b'),
        (r"a\|b", "a|b"),
        (r"a\sb", r"a\sb"),
        (r"a\*b", r"a\*b"),
    ],
)
def test_backslash_escapes_in_quoted_strings_spl_md_1_5(raw: str, value: str) -> None:
    """spl.md §1.5: \\\\ -> \\, \\" -> ", \\| -> |; every other backslash sequence is kept."""
    assert unescape(raw) == value
    (tok, _eof) = tokenize(f'"{raw}"')
    assert tok.type is TokenType.STRING and tok.value == value


def test_q2_trailing_backslash_closes_the_string_spl_md_1_5() -> None:
    """spl.md §1.5 worked example: the final escaped backslash is literal; the quote closes."""
    expr = _search('CurrentDirectory="C:\\\\Windows\\\\system32\\\\" EventCode=1')
    assert isinstance(expr, ast.SAnd)
    first = expr.items[0]
    assert isinstance(first, ast.Compare) and first.value.text == "C:\\Windows\\system32\\"


def test_or_binds_tighter_than_and_in_search_spl_md_1_2() -> None:
    """spl.md §1.2: `A=1 B=2 OR C=3` is `A=1 AND (B=2 OR C=3)`."""
    expr = _search("A=1 B=2 OR C=3")
    assert isinstance(expr, ast.SAnd)
    assert isinstance(expr.items[0], ast.Compare)
    assert isinstance(expr.items[1], ast.SOr)


def test_not_applies_to_the_next_term_only_spl_md_1_2() -> None:
    """spl.md §1.2: `error NOT 403 OR 404` is `error AND ((NOT 403) OR 404)`."""
    expr = _search("error NOT 403 OR 404")
    assert isinstance(expr, ast.SAnd)
    group = expr.items[1]
    assert isinstance(group, ast.SOr) and isinstance(group.items[0], ast.SNot)


def test_lowercase_or_is_a_search_keyword_spl_md_1_2() -> None:
    """spl.md §1.2: operators must be upper case; `or` is an ordinary term."""
    expr = _search("a or b")
    assert isinstance(expr, ast.SAnd) and len(expr.items) == 3


def test_eval_precedence_is_conventional_spl_md_2_2() -> None:
    """spl.md §2.2: in where/eval, AND binds tighter than OR, and * before +."""
    where = parse("| makeresults | where a=1 OR b=2 AND c=3").commands[1]
    assert isinstance(where, ast.Where) and isinstance(where.expr, ast.BinOp)
    assert where.expr.op == "OR"
    ev = parse("| makeresults | eval x=1+2*3").commands[1]
    assert isinstance(ev, ast.Eval)
    value = ev.assignments[0][1]
    assert isinstance(value, ast.BinOp) and value.op == "+"


def test_transaction_options_spl_md_3_1() -> None:
    """spl.md §3.1: field list, startswith as a search expression, mvlist fields, maxspan units."""
    cmd = parse(
        "* | transaction session startswith=(EventCode=4624) mvlist=ParentImage maxspan=5m"
    ).commands[1]
    assert isinstance(cmd, ast.Transaction)
    assert cmd.fields == ("session",)
    assert cmd.startswith is not None and isinstance(cmd.startswith.search, ast.Compare)
    assert cmd.mvlist == ("ParentImage",)
    assert cmd.maxspan == 300 and cmd.maxevents == 1000


def test_startswith_eval_form_spl_md_3_1() -> None:
    """spl.md §3.1: startswith=eval(<boolean eval expr>)."""
    cmd = parse('* | transaction u startswith=eval(action="login")').commands[1]
    assert isinstance(cmd, ast.Transaction)
    assert cmd.startswith is not None and isinstance(cmd.startswith.eval, ast.BinOp)


def test_sort_default_cap_and_sort_0_spl_md_4_sort() -> None:
    """spl.md §4 sort: default limit 10,000; `sort 0` is unlimited; `- f` descends."""
    capped = parse("* | sort - totalCount").commands[1]
    unlimited = parse("* | sort 0 +a, num(b)").commands[1]
    assert isinstance(capped, ast.Sort) and capped.limit == 10000 and capped.keys[0].desc
    assert isinstance(unlimited, ast.Sort) and unlimited.limit is None
    assert unlimited.keys[1].mode == "num"


def test_stats_aggregates_and_aliases_spl_md_4_stats() -> None:
    """spl.md §4 stats: count(eval(...)), percNN, AS aliases, BY fields."""
    cmd = parse("* | stats count, count(eval(x>1)) AS big, p95(y), dc(z) by host, src").commands[1]
    assert isinstance(cmd, ast.Stats)
    assert [a.alias for a in cmd.aggs] == ["count", "big", "p95(y)", "dc(z)"]
    assert cmd.aggs[2].func == "perc" and cmd.aggs[2].param == 95
    assert cmd.by == ("host", "src")


def test_subsearch_keeps_its_own_pipes() -> None:
    """join/append take a [subsearch] whose pipes do not split the outer pipeline."""
    pipeline = parse("a=1 | join type=left h [search b=2 | head 3] | table h")
    assert [type(c).__name__ for c in pipeline.commands] == ["Search", "Join", "Table"]
    join = pipeline.commands[1]
    assert isinstance(join, ast.Join) and len(join.subsearch.commands) == 2


def test_every_command_parser_is_reachable() -> None:
    """COMMAND_PARSERS is the single table of commands: a bad name never reaches it."""
    assert {"search", "transaction", "metadata", "stats", "rex", "tstats"} <= set(COMMAND_PARSERS)


def test_syntax_error_shows_line_col_and_caret() -> None:
    with pytest.raises(SplSyntaxError) as info:
        parse("index=x\n| eval y=(1+")
    message = str(info.value)
    assert "Line 2, Col" in message and "^" in message


def test_unknown_command_is_unsupported_with_did_you_mean() -> None:
    with pytest.raises(
        UnsupportedSplError, match="unsupported command 'stast'.*Did you mean 'stats'"
    ):
        parse("* | stast count")


def test_generating_command_must_come_first() -> None:
    with pytest.raises(SplSyntaxError, match="must be the first command"):
        parse("* | metadata type=hosts")


def test_every_command_node_declares_its_spl_name_as_key() -> None:
    """Code reads a command's name from ``key`` (sqlglot's idea), never from the class name."""
    nodes = ast.Command.__subclasses__()
    keys = [node.key for node in nodes]
    assert len(set(keys)) == len(nodes)
    assert set(keys) == set(COMMAND_PARSERS) - {"rare", "bucket"}


def test_command_names_come_from_keys() -> None:
    from huntbook.hunts.spltree import command_names

    tree = parse("index=x | rare user | bucket _time span=1h | eventstats count | fillnull")
    assert command_names(tree) == ["top", "bin", "eventstats", "fillnull"]
    assert [c.key for c in parse("| tstats count | streamstats count").commands] == [
        "tstats",
        "streamstats",
    ]
