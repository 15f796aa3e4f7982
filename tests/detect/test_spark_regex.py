"""Sigma's regexes (RE2 on DuckDB) read by Spark's Java regex the same way
(``huntbook.detect.spark_scan.java_regex``), and what has no Java form refused by name; LIKE
patterns with backslashes (Windows paths) match on Spark as on DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from sqlglot import exp

from huntbook.detect.compile import like_pattern
from huntbook.detect.spark_scan import detect_ready, java_regex
from huntbook.errors import UnsupportedSplError

# (RE2 pattern, text): each pair where Java's plain reading of the pattern differs from RE2's
# (or Java fails on it), with pairs where both match for contrast.
CASES = [
    (r"\.exe$", "a.exe"),
    (r"\.exe$", "a.exe\n"),  # Java's $ also matches before a final line end
    (r"a.c", "a\rc"),  # Java's . stops at \r, \u0085, \u2028; RE2's only at \n
    (r"a.c", "a\u2028c"),
    (r"a.c", "a\nc"),
    (r"(?s)a.c", "a\nc"),
    (r"x\b", "x\u00e9"),  # RE2's \b is ASCII; Java 17's counts é as a word character
    (r"x\B", "x\u00e9"),
    (r"\s", "\x0b"),  # Java's \s holds the vertical tab, RE2's does not
    (r"^\S$", "\x0b"),
    (r"\v", "\n"),  # Java's \v is any vertical whitespace, RE2's the vertical tab
    (r"[\s]", "\x0b"),
    (r"[[]", "["),  # [ nests in a Java class
    (r"[a&&b]", "&"),  # && intersects in a Java class
    (r"a{", "a{"),  # RE2's literal {; Java fails on it
    (r"a{2}", "aa"),
    (r"[]a]", "]"),
    (r"^\d+$", "\u0661\u0662"),
    (r"(?s)^c:\\windows\\.*\.dll$|^x$", "c:\\windows\\a.dll"),
    (r"\Q$\E$", "$"),
]
REFUSED = [
    (r"(?i)abc", "case-insensitive"),
    (r"(?m)^a", "multi-line"),
    (r"\pL", "Unicode class"),
    (r"[[:alpha:]]", "POSIX class"),
    (r"a(?i:b)", "inline flag group"),
    (r"(a)\1", "back-reference"),
    (r"[\S]", "inside a regex character class"),
]
LIKES = [  # (Sigma string, text): backslashes are literal in DuckDB's LIKE, Spark's escape
    ("*\\windows\\\\*", "c:\\windows\\x"),  # Sigma: \\ is one backslash, \* a literal *
    ("*\\windows\\\\*", "c:/windows/x"),
    ("*\\_x%*", "a\\_x%b"),
    ("*\\_x%*", "a\\yx%b"),
]


def _answers(spark: Any, tests: list[exp.Expr]) -> tuple[list[Any], list[Any]]:
    query = exp.select(*(exp.alias_(t, f"c{n}") for n, t in enumerate(tests)))
    duck = list(duckdb.connect().execute(query.sql(dialect="duckdb")).fetchone() or ())
    row = spark.sql(detect_ready(query).sql(dialect="spark")).collect()[0]
    return duck, list(row)


@pytest.mark.spark
def test_regexes_match_on_spark_as_in_re2(spark: Any) -> None:
    tests = [
        exp.RegexpLike(this=exp.Literal.string(text), expression=exp.Literal.string(pattern))
        for pattern, text in CASES
    ]
    duck, on_spark = _answers(spark, tests)
    assert on_spark == duck, [
        (c, d, s) for c, d, s in zip(CASES, duck, on_spark, strict=True) if d != s
    ]
    assert duck[:4] == [True, False, True, True]  # the cases test something


@pytest.mark.spark
def test_like_with_backslashes_matches_on_spark_as_on_duckdb(spark: Any) -> None:
    from sigma.types import SigmaString

    from huntbook.detect.compile import _like

    tests = [
        _like(exp.Literal.string(text), like_pattern(SigmaString(value), lower=False))
        for value, text in LIKES
    ]
    duck, on_spark = _answers(spark, tests)
    assert on_spark == duck == [True, False, True, False]


@pytest.mark.parametrize(("pattern", "named"), REFUSED)
def test_regex_without_java_form_is_refused_by_name(pattern: str, named: str) -> None:
    with pytest.raises(UnsupportedSplError, match=named):
        java_regex(pattern)


def test_java_regex_keeps_what_java_reads_as_re2() -> None:
    assert java_regex(r"(?s)^a\.b$|c") == r"(?ds)^a\.b\z|c"
    assert java_regex(r"x{2,3}[a-z\d]") == r"(?d)x{2,3}[a-z\d]"


@pytest.mark.spark
def test_lower_on_spark_is_duckdbs(spark: Any) -> None:
    """Java lower-cases İ to i plus a combining dot and a word's last Σ to ς; DuckDB to i and σ."""
    texts = ["\u0130STANBUL", "\u039f\u0394\u039f\u03a3 \u03a3\u0391", "C:\\WINDOWS"]
    duck, on_spark = _answers(spark, [exp.Lower(this=exp.Literal.string(t)) for t in texts])
    assert on_spark == duck == ["istanbul", "\u03bf\u03b4\u03bf\u03c3 \u03c3\u03b1", "c:\\windows"]
