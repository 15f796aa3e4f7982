"""The detect scan on Spark (``huntbook detect --engine spark``): the group queries of
``huntbook.detect.scan`` made Spark-ready and run on the engine's session.

Each group query is the tree DuckDB runs, rewritten by the searches' Spark rewrites
(``huntbook.query.spark.spark_ready``) after detect's own: a LIKE without an escape clause gets
one (Spark's LIKE reads ``\\`` as its escape character, DuckDB's has none), ``lower`` gives
DuckDB's lower case and every regex literal is written for Java the way RE2 reads it
(``java_regex``). A rule whose query has no Spark form giving DuckDB's answer is skipped before
anything runs, with the reason in its summary; the other rules of its group run together as on
DuckDB.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from sqlglot import exp

from huntbook.detect.model import RAN, SKIPPED, Rule
from huntbook.detect.scan import EventsView, Job, Scanner
from huntbook.errors import QueryRuntimeError, UnsupportedSplError
from huntbook.query.spark import REGEX_NODES, spark_ready

if TYPE_CHECKING:
    from huntbook.detect.cache import RuleCache
    from huntbook.detect.mapping import Branch
    from huntbook.engines.spark import SparkEngine
    from huntbook.store import Store

DIALECT = "spark"


class SparkScanner(Scanner):
    """The scan's group queries on ``spark``'s session over the store's ``events`` view."""

    engine: ClassVar[str] = "Spark"
    failures: ClassVar[tuple[type[Exception], ...]] = (QueryRuntimeError,)

    def __init__(
        self,
        spark: SparkEngine,
        store: Store,
        index: str | None = None,
        memo: RuleCache | None = None,
    ) -> None:
        self.spark = spark
        super().__init__(store, index, memo)

    def _slices(self, paths: list[str], size: int) -> list[list[str]]:
        """One slice: the session's ``events`` view reads the whole store (Spark's driver does
        not bind it per query as DuckDB does)."""
        return [paths]

    def _open(self, files: list[str]) -> EventsView:
        return _SessionView(self.spark)

    def jobs(self, rules: list[Rule]) -> list[Job]:
        """The group queries, each rendered for Spark first: a group that cannot be has each of
        its rules rendered alone, and those that cannot are skipped with the reason."""
        for rule in rules:
            if rule.ipv6:  # its address normalization (detect.addresses.ipv6_hex) is DuckDB's
                _skip(rule, "a cidr on an IPv6 network is not supported on Spark")
        kept: list[Job] = []
        for key, members in super().jobs([r for r in rules if r.status == RAN]):
            try:
                self._sql(key, members)
            except UnsupportedSplError:
                members = [r for r in members if self._renders(key, r)]
            if members:
                kept.append((key, members))
        return kept

    def _renders(self, key: tuple[Branch, ...], rule: Rule) -> bool:
        try:
            self._sql(key, [rule])
        except UnsupportedSplError as exc:
            _skip(rule, str(exc))
            return False
        return True

    def _render(self, query: exp.Expr) -> str:
        return detect_ready(query).sql(dialect=DIALECT)

    def _rendering(self) -> str:
        return _rendering()


@functools.cache
def _rendering() -> str:
    """Spark's SQL also depends on the searches' Spark rewrites (detect's own code is in the
    cache's version already)."""
    code = resources.files("huntbook.query").joinpath("spark.py").read_bytes()
    return f"{DIALECT}/{hashlib.sha256(code).hexdigest()[:16]}"


class _SessionView:
    """The engine's session, whose view ``events`` is the whole store."""

    def __init__(self, spark: SparkEngine) -> None:
        self.spark = spark

    def rows(self, sql: str) -> Iterator[dict[str, Any]]:
        for batch in self.spark.table(sql).to_batches():
            yield from batch.to_pylist()

    def close(self) -> None:
        """Nothing to let go: the session outlives the scan."""


def _skip(rule: Rule, reason: str) -> None:
    rule.status, rule.reason = SKIPPED, f"not run on Spark: {reason}"
    rule.predicate = rule.pending = None


def detect_ready(tree: exp.Expr) -> exp.Expr:
    """A group query (DuckDB's form) for Spark: LIKE escaped, DuckDB's lower case, regexes in
    Java's syntax (``REWRITES``), then the searches' rewrites (``spark_ready``).

    Raises:
        UnsupportedSplError: a construct Spark cannot run with DuckDB's answer.
    """
    root = tree.copy()
    for node in list(root.find_all(*REWRITES)):
        REWRITES[type(node)](node)
    return spark_ready(root)


def _escaped_like(node: exp.Expr) -> None:
    """A LIKE without an escape clause as one escaping with ``\\`` (its backslashes doubled)."""
    if isinstance(node.parent, exp.Escape):
        return
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedSplError("a LIKE pattern built at run time is not supported on Spark")
    node.set("expression", exp.Literal.string(pattern.this.replace("\\", "\\\\")))
    node.replace(exp.Escape(this=node.copy(), expression=exp.Literal.string("\\")))


def _java_literal(node: exp.Expr) -> None:
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        node.set("expression", exp.Literal.string(java_regex(pattern.this)))


# Where Java's lower-casing (full, in context) differs from DuckDB's (simple, one character at a
# time): İ is i plus a combining dot in Java, i in DuckDB; a word's last Σ is ς in Java, σ in
# DuckDB. Mapped first to DuckDB's lower case, Java's lower-casing leaves them as DuckDB does.
_LOWER_FIRST = {"\u0130": "i", "\u03a3": "\u03c3"}


def _simple_lower(node: exp.Expr) -> None:
    """``lower(x)`` as ``lower(translate(x, 'İΣ', 'iσ'))``: DuckDB's lower case on Spark."""
    mapped = exp.Anonymous(
        this="TRANSLATE",
        expressions=[
            node.this,
            exp.Literal.string("".join(_LOWER_FIRST)),
            exp.Literal.string("".join(_LOWER_FIRST.values())),
        ],
    )
    node.set("this", mapped)


REWRITES: dict[type[exp.Expr], Callable[[exp.Expr], None]] = {
    exp.Like: _escaped_like,
    exp.Lower: _simple_lower,
    **dict.fromkeys(REGEX_NODES, _java_literal),
}


# --- RE2 -> Java regex ----------------------------------------------------------------------------
_LEADING_FLAGS = re.compile(r"\(\?([a-zA-Z]+)\)")
_REPEAT = re.compile(r"\{\d+(?:,\d*)?\}")
_SPACE = r"\t\n\f\r "  # RE2's \s (Java's adds \x0B)
# Escapes (outside a character class) whose Java reading differs from RE2's, as RE2 reads them.
_ESCAPES = {
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "v": r"\x0B",  # RE2: the vertical tab; Java: any vertical whitespace
    # RE2's \b is ASCII (\w); Java 17's counts every Unicode letter and digit as a word character
    "b": r"(?:(?<=\w)(?!\w)|(?<!\w)(?=\w))",
    "B": r"(?:(?<=\w)(?=\w)|(?<!\w)(?!\w))",
}
_CLASS_ESCAPES = {"s": _SPACE, "v": r"\x0B"}
_REFUSED_ESCAPES = {
    "p": "a Unicode class (\\p{...}: RE2 and Java name them differently)",
    "P": "a Unicode class (\\P{...}: RE2 and Java name them differently)",
    "C": "\\C (any byte)",
}
_REFUSED_FLAGS = {
    "i": "a case-insensitive regex (Sigma's re|i: RE2 folds Unicode case, Java's regex ASCII)",
    "m": "a multi-line regex (Sigma's re|m: ^ at the end of the text differs in Java)",
    "U": "an ungreedy regex ((?U) is Unicode classes in Java)",
}


def java_regex(pattern: str) -> str:
    """An RE2 pattern (``huntbook.detect.regex``'s, flags in a leading group) as a Java pattern
    matching the same text: ``.`` and line ends as RE2 reads them (Java's ``(?d)``), ``$`` only
    at the end (``\\z``), ``\\s``/``\\v``/``\\b`` as RE2's, ``[``, ``&`` and a leading ``]`` in
    a class literal, ``{`` literal unless it is a repetition.

    Raises:
        UnsupportedSplError: a construct with no Java form here (flags other than ``s``, inline
            flag groups, ``(?<``, Unicode classes, octal escapes and back-references).
    """
    leading = _LEADING_FLAGS.match(pattern)
    flags = leading.group(1) if leading else ""
    for flag in flags:
        if flag != "s":
            _refuse(_REFUSED_FLAGS.get(flag, f"the regex flag {flag}"))
    body = pattern[leading.end() :] if leading else pattern
    return f"(?d{flags})" + "".join(_tokens(body))


def _refuse(what: str) -> NoReturn:
    raise UnsupportedSplError(f"{what} is not supported on Spark")


def _tokens(text: str) -> Iterator[str]:
    """The pattern's pieces, each in Java's syntax."""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            piece, i = _escape(text, i, _ESCAPES)
        elif char == "[":
            piece, i = _char_class(text, i)
        elif char == "{":
            repeat = _REPEAT.match(text, i)
            piece = repeat.group() if repeat else "\\{"
            i = repeat.end() if repeat else i + 1
        elif text.startswith("(?", i) and not text.startswith(("(?:", "(?P<"), i):
            _refuse("an inline flag group or (?<...) group in a regex")
        else:
            piece, i = ("\\z" if char == "$" else char), i + 1
        yield piece


def _escape(text: str, i: int, rewrites: dict[str, str]) -> tuple[str, int]:
    """The escape at ``text[i]`` (a backslash) in Java's form, and where the text goes on."""
    char = text[i + 1 : i + 2]
    if char == "Q":  # \Q...\E: literal in both
        end = text.find("\\E", i + 2)
        end = len(text) if end < 0 else end + 2
        return text[i:end], end
    if char.isdigit():
        _refuse("an octal escape or back-reference in a regex")
    if char in _REFUSED_ESCAPES:
        _refuse(_REFUSED_ESCAPES[char])
    return rewrites.get(char, "\\" + char), i + 2


def _char_class(text: str, i: int) -> tuple[str, int]:
    """The class opening at ``text[i]`` in Java's form, and where the text goes on."""
    out = ["["]
    i += 1
    if text.startswith("^", i):
        out.append("^")
        i += 1
    if text.startswith("]", i):  # RE2: a literal ] first
        out.append("\\]")
        i += 1
    while i < len(text) and text[i] != "]":
        char = text[i]
        if char == "\\":
            if text[i + 1 : i + 2] in ("S", "b", "B"):
                _refuse(f"\\{text[i + 1]} inside a regex character class")
            piece, i = _escape(text, i, _CLASS_ESCAPES)
        elif text.startswith("[:", i):
            _refuse("a POSIX class ([[:alpha:]]) in a regex")
        else:  # [ nests and && intersects in Java: literal in RE2
            piece, i = ("\\" + char if char in "[&" else char), i + 1
        out.append(piece)
    return "".join(out) + "]", i + 1
