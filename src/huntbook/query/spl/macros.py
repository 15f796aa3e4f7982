"""Search macros: `` `name` `` or `` `name(args)` `` anywhere outside a double-quoted string.

Splunk expands macros before it parses a search. huntbook has no macro definitions yet, so
``check_macros`` refuses the first macro of a query, naming it: this is the one place where
macro expansion will plug in definitions.
"""

from __future__ import annotations

from collections.abc import Iterator

from huntbook.errors import SplSyntaxError, UnsupportedSplError


def macros(text: str) -> Iterator[tuple[str, int]]:
    """Each macro of ``text`` as (what is between the backticks, position of the first one)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = _after_quoted(text, i)
        elif ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise SplSyntaxError("unterminated macro: no closing '`'", text, i)
            yield text[i + 1 : end], i
            i = end + 1
        else:
            i += 1


def _after_quoted(text: str, start: int) -> int:
    """Index after the string opening at ``start`` (the end of text when unterminated: the lexer
    reports that)."""
    i = start + 1
    while i < len(text) and text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i + 1


def check_macros(text: str) -> None:
    """Raise for the first macro in ``text``: none is defined."""
    for name, pos in macros(text):
        raise UnsupportedSplError(
            f"macro `{name}` is not defined; huntbook has no macro definitions yet", text, pos
        )
