"""Regular expressions as SPL writes them (PCRE) for DuckDB's engine (RE2).

RE2 has no look-around, back-references, atomic groups, possessive quantifiers, recursion or
conditionals. A pattern using one is refused here, in SPL's terms and at its place in the query,
rather than by DuckDB at run time ("invalid perl operator"). Everything else passes as written,
except PCRE's named groups ``(?<n>...)``, which RE2 spells ``(?P<n>...)``.
"""

from __future__ import annotations

import re

from huntbook.errors import UnsupportedSplError

# Constructs that start at an unescaped "(" outside a character class.
_GROUP_OPENERS = (
    ("(?<=", "look-behind (?<=...)"),
    ("(?<!", "negative look-behind (?<!...)"),
    ("(?=", "look-ahead (?=...)"),
    ("(?!", "negative look-ahead (?!...)"),
    ("(?>", "atomic group (?>...)"),
    ("(?|", "branch reset (?|...)"),
    ("(?(", "conditional (?(...)...)"),
    ("(?R", "recursion (?R)"),
    ("(?P>", "recursion (?P>name)"),
    ("(?P=", "back-reference (?P=name)"),
)
# Escapes (outside a character class) that refer back to a group.
_BACKREFERENCE = re.compile(r"\\(?:[1-9]|k[<{']|g[{\d-])")
_QUANTIFIERS = "*+?}"
_NAMED_GROUP = re.compile(r"\(\?P?<(?=[A-Za-z_])")


def re2_problem(pattern: str) -> tuple[int, str] | None:
    """The first construct of ``pattern`` RE2 cannot run, as (index, description), or None."""
    i, after_quantifier = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if _BACKREFERENCE.match(pattern, i):
                named = pattern[i + 1] in "kg"
                return (
                    i,
                    "named back-reference \\k<name>"
                    if named
                    else f"back-reference {pattern[i : i + 2]}",
                )
            i, after_quantifier = i + 2, False
            continue
        if ch == "[":
            i, after_quantifier = _class_end(pattern, i), False
            continue
        if ch == "(":
            for opener, what in _GROUP_OPENERS:
                if pattern.startswith(opener, i):
                    return i, what
        if ch == "+" and after_quantifier:
            return i - 1, f"possessive quantifier {pattern[i - 1 : i + 1]}"
        after_quantifier = ch in _QUANTIFIERS and not (ch == "?" and pattern[i - 1 : i] == "(")
        i += 1
    return None


def _class_end(pattern: str, start: int) -> int:
    """Index after the character class opening at ``start`` (``[]a]`` and ``[^]a]`` hold ``]``)."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def pcre_to_re2(pattern: str) -> str:
    """Named groups ``(?<n>...)`` -> ``(?P<n>...)``; everything else is passed to RE2 as is."""
    return re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)


def has_named_group(pattern: str) -> bool:
    """True when ``pattern`` names a group, ``(?<n>...)`` or ``(?P<n>...)``."""
    return _NAMED_GROUP.search(pattern) is not None


def re2_pattern(pattern: str, where: str, query: str, pos: int) -> str:
    """``pattern`` in RE2's syntax; a construct RE2 lacks is refused at ``pos`` in ``query``,
    the message starting with ``where`` (``rex``, ``match()``...)."""
    problem = re2_problem(pattern)
    if problem is not None:
        message = f"{where}: {problem[1]} is not supported: huntbook's regex engine is RE2"
        raise UnsupportedSplError(message, query, pos)
    return pcre_to_re2(pattern)
