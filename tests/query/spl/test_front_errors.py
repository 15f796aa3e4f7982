"""Front-end errors (issue 10/14): each bad query is refused with an SPL message at its position."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from huntbook.errors import SplSyntaxError, UnsupportedSplError
from huntbook.query import compile_spl
from huntbook.store.testing import make_store

FIELDS = {"_time": "double", "_raw": "text", "host": "text", "user": "text", "x": "text"}


def _compile(text: str) -> Any:
    return compile_spl(text, FIELDS, now=1600000000.0)


def _error(text: str, cls: type[SplSyntaxError] = SplSyntaxError) -> SplSyntaxError:
    with pytest.raises(cls) as info:
        _compile(text)
    return info.value


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("front") / "store"
    make_store(path, [{"_time": 1.0, "_raw": "one", "index": "x", "host": "h1"}])
    return path


# ---- item 1: empty IN lists
@pytest.mark.parametrize(
    ("text", "col"),
    [("index=x host IN ( )", 17), ("index=x host IN()", 16), ("* | where x IN ()", 16)],
)
def test_empty_in_list_is_an_error_at_the_parenthesis(text: str, col: int) -> None:
    err = _error(text)
    assert err.reason == "IN needs at least one value inside the parentheses"
    assert (err.line, err.col) == (1, col)


def _cli_search(query: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "huntbook", "search", query, *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cli_empty_in_list_exits_12_without_traceback(store_dir: Path) -> None:
    proc = _cli_search("index=x host IN ( )", "--store", str(store_dir))
    assert proc.returncode == 12, proc.stderr
    assert proc.stderr.startswith("Error: Line 1, Col 17: IN needs at least one value")
    assert "Traceback" not in proc.stderr


# ---- item 2: functions with open-ended argument counts
def _values(n: int) -> str:
    return ", ".join(["x", *(f'"v{i}"' for i in range(n - 1))])


def _pairs(n: int) -> str:
    """Condition/value pairs: ``n`` arguments, one more when ``n`` is odd."""
    return ", ".join(f'x="{i}", "v{i}"' for i in range((n + 1) // 2))


OPEN_ENDED = {
    "in": lambda n: f"* | where in({_values(n)})",
    "coalesce": lambda n: f"* | eval r=coalesce({_values(n)})",
    "mvappend": lambda n: f"* | eval r=mvappend({_values(n)})",
    "max": lambda n: f"* | eval r=max({_values(n)})",
    "case": lambda n: f"* | eval r=case({_pairs(n)})",
    "validate": lambda n: f"* | eval r=validate({_pairs(n)})",
}


@pytest.mark.parametrize("n", [2, 99, 100, 500])
@pytest.mark.parametrize("name", sorted(OPEN_ENDED))
def test_open_ended_functions_take_any_number_of_arguments(name: str, n: int) -> None:
    """spl.md §2.5: in/case/coalesce/mvappend/validate/max take a list of any length."""
    compiled = _compile(OPEN_ENDED[name](n) + " | table x")
    assert compiled.columns == ["x"]


def test_case_with_an_odd_count_names_the_pairs_rule() -> None:
    args = ", ".join(f'x="{i}"' for i in range(99))
    assert _error(f"* | eval r=case({args})").reason == "case() takes condition/value pairs"


def test_too_few_arguments_still_say_at_least() -> None:
    assert _error("* | eval r=case(x)").reason == "case() takes at least 2 arguments"


# ---- item 5: search macros
@pytest.mark.parametrize(
    ("text", "name", "col"),
    [
        ("`sysmon` EventCode=1", "sysmon", 1),
        ('index=x "quoted `x`" `win_logons(4624, h1)` | head 1', "win_logons(4624, h1)", 22),
        ("index=x | join user [search `inner`]", "inner", 29),
        ('* | eval a="`no`" | where `cond`', "cond", 27),
    ],
)
def test_a_macro_is_refused_by_name(text: str, name: str, col: int) -> None:
    """Splunk expands macros before parsing; an undefined one is named, with where it looked."""
    err = _error(text, UnsupportedSplError)
    key = name.split("(")[0] + ("(2)" if "(" in name else "")
    assert (
        err.reason == f"macro `{key}` is not defined (looked in: no macro definitions were given)"
    )
    assert (err.line, err.col) == (1, col)


def test_backticks_inside_quoted_strings_are_text() -> None:
    compiled = _compile('index=x "a `b` c" | eval q="say \\"`x`\\"" | table q')
    assert compiled.columns == ["q"]


def test_an_unclosed_backtick_is_a_syntax_error() -> None:
    err = _error("index=x `sysmon EventCode=1")
    assert (err.reason, err.col) == ("unterminated macro: no closing '`'", 9)


# ---- item 6: Splunk commands huntbook does not implement
@pytest.mark.parametrize("name", ["transpose", "addcoltotals", "untable", "XYSERIES"])
def test_a_splunk_command_is_named_as_unsupported_without_a_guess(name: str) -> None:
    err = _error(f"index=x | {name} x", UnsupportedSplError)
    assert err.reason == (
        f"Splunk's `{name.lower()}` command is not supported by huntbook (see docs/spl-support.md)"
    )
    assert err.col == 11


def test_a_name_that_is_no_splunk_command_still_gets_did_you_mean() -> None:
    assert (
        _error("index=x | stast count").reason
        == "unsupported command 'stast'. Did you mean 'stats'?"
    )


def test_splunk_only_commands_and_implemented_commands_are_disjoint() -> None:
    from huntbook.query.spl.parser import COMMAND_PARSERS
    from huntbook.query.spl.support import SPLUNK_ONLY_COMMANDS

    assert not SPLUNK_ONLY_COMMANDS & set(COMMAND_PARSERS)
    doc = (Path(__file__).resolve().parents[3] / "docs" / "spl-support.md").read_text()
    assert all(f"`{name}`" in doc for name in SPLUNK_ONLY_COMMANDS)


# ---- item 7: a BY with no field
@pytest.mark.parametrize(
    ("command", "keyword"),
    [
        ("stats count by", "by"),
        ("stats count BY , ", "BY"),
        ("eventstats count by", "by"),
        ("streamstats count by", "by"),
        ("timechart count by", "by"),
        ("chart count by", "by"),
        ("top user by", "by"),
        ("rare user by", "by"),
        ("dedup user sortby", "sortby"),
    ],
)
def test_by_without_a_field_is_an_error_at_by(command: str, keyword: str) -> None:
    """spl.md §4 stats/top/chart: BY takes a field list (Splunk refuses an empty one)."""
    text = f"index=x | {command}"
    err = _error(text + " | table x")
    assert err.reason == f"expected a field name after {keyword!r}"
    assert err.col == text.rindex(keyword) + 1


def test_tstats_by_without_a_field_is_an_error() -> None:
    err = _error("| tstats count where index=x by")
    assert (err.reason, err.col) == ("expected a field name after 'by'", 30)


# ---- item 8: time modifiers that do not parse
ACCEPTED = (
    "accepted forms: now; relative -24h, -7d, +30m (units s, m, h, d, w, mon, q, y); snapped @d,"
    " -1d@d, @w1; ISO 2024-05-01 or 2024-05-01T12:00:00Z; 05/01/2024:12:00:00; epoch seconds"
)


def test_cli_earliest_yesterday_names_the_value_and_the_forms(store_dir: Path) -> None:
    """spl.md §2.5 [S-time]: Splunk has no `yesterday`; the message says what to write."""
    proc = _cli_search("index=x", "--earliest", "yesterday", "--store", str(store_dir))
    assert proc.returncode == 12, proc.stderr
    assert proc.stderr.strip() == (
        "Error: cannot read time 'yesterday' (Splunk has no 'yesterday': yesterday is "
        "earliest=-1d@d latest=@d); " + ACCEPTED
    )


def test_inline_bad_time_points_at_it() -> None:
    err = _error("index=x earliest=-1fortnight")
    assert err.reason == "cannot read time '-1fortnight'; " + ACCEPTED
    assert err.col == 9


def test_relative_time_function_with_a_bad_modifier_is_a_syntax_error() -> None:
    err = _error('| makeresults | eval t=relative_time(0, "yesterday")')
    assert err.reason.startswith("relative_time(): cannot read time 'yesterday' (Splunk has no")
    assert "ISO" not in err.reason


# ---- item 3: regular expressions RE2 cannot run are refused where they are written
@pytest.mark.parametrize(
    ("text", "reason", "col"),
    [
        (
            '* | rex field=x "(?<=a)(?<b>b)"',
            "rex: look-behind (?<=...) is not supported: huntbook's regex engine is RE2",
            17,
        ),
        ('* | regex x="a++"', "regex: possessive quantifier ++", 13),
        ('* | makemv tokenizer="(?>a)" x', "makemv tokenizer: atomic group (?>...)", 22),
        ('* | eval r=mvfind(x, "(?P=n)")', "mvfind(): back-reference (?P=n", 22),
        ('* | where match(x, "(\\\\w)\\\\k<n>")', "match(): named back-reference \\k<name>", 20),
    ],
)
def test_re2_refusals_point_at_the_pattern(text: str, reason: str, col: int) -> None:
    err = _error(text, UnsupportedSplError)
    assert err.reason.startswith(reason)
    assert (err.line, err.col) == (1, col)


@pytest.mark.parametrize(
    "pattern",
    ["\\\\(?<=x\\\\)(?<a>.)", "[(?=](?<a>x)", "[]\\\\1](?<a>x)", "(?<a>a+?)(?:b)*", "(?i)(?<a>x)"],
)
def test_look_alikes_in_escapes_and_classes_are_allowed(pattern: str) -> None:
    """Escaped parentheses, character classes and lazy quantifiers are plain RE2."""
    assert _compile(f'* | rex field=x "{pattern}" | table a').columns == ["a"]


def test_rex_sed_needs_no_named_group() -> None:
    assert _compile('* | rex field=x mode=sed "s/(a)/\\\\1b/g" | table x').columns == ["x"]


def test_rex_past_nine_groups_needs_no_warning() -> None:
    groups = "".join(f"(?<g{i}>.)" for i in range(10))
    compiled = _compile(f'* | rex field=x "{groups}" | table g9')
    assert compiled.warnings == []  # Spark reads group 10 by number too (query/spark.py)
