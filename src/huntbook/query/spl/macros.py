"""Search macros: `` `name` `` or `` `name(arg1, arg2)` `` anywhere outside a double-quoted string.

Splunk expands macros before it parses a search ([S-Use search macros in searches]): a macro call
is replaced by its definition, each ``$arg$`` of the definition by the call's argument (text, as
written), and macros in the result are expanded in turn. A macro with N arguments is defined
under ``name(N)`` ([S-macros conf spec]). Comments (three backticks each side) are not macros:
they become blanks, so the positions of everything else stay put.

``expand`` records where each top-level expansion landed in the expanded text, so an error at a
position inside one can say "in the expansion of macro `x`" (``Expansion.locate``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from huntbook.errors import SplSyntaxError, UnsupportedSplError

COMMENT = "```"
MAX_DEPTH = 20  # nesting deeper than this is taken for recursion that a name check missed
MAX_EXPANDED = 1_000_000  # characters: a macro that doubles itself per level stops here
ARG_NAME = re.compile(r"^[\w-]+$")


@dataclass(frozen=True)
class Macro:
    """One definition: ``args`` are the argument names of ``name(len(args))``."""

    name: str
    definition: str
    args: tuple[str, ...] = ()
    origin: str = ""  # the file that defined it
    iseval: bool = False

    @property
    def key(self) -> str:
        return macro_key(self.name, len(self.args))


def macro_key(name: str, nargs: int) -> str:
    """``name`` or ``name(N)``: how Splunk names a macro with N arguments."""
    return f"{name}({nargs})" if nargs else name


@dataclass(frozen=True)
class MacroTable:
    """Macro definitions by key, and the places they were looked for (for error messages)."""

    macros: dict[str, Macro] = field(default_factory=dict)
    searched: tuple[str, ...] = ()

    def merged(self, other: MacroTable) -> MacroTable:
        """``other``'s definitions win over these (a later ``--macros`` overrides the store's)."""
        return MacroTable({**self.macros, **other.macros}, (*self.searched, *other.searched))


@dataclass(frozen=True)
class Expansion:
    """The expanded text, and the span each top-level macro call became: (start, end, call)."""

    text: str
    spans: tuple[tuple[int, int, str], ...] = ()

    def locate(self, pos: int) -> str | None:
        """The macro call whose expansion holds ``pos``, if any."""
        return next((call for start, end, call in self.spans if start <= pos < end), None)


def macros(text: str) -> Iterator[tuple[str, int]]:
    """Each macro of ``text`` as (what is between the backticks, position of the first one)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = _after_quoted(text, i)
        elif text.startswith(COMMENT, i):
            end = text.find(COMMENT, i + 3)
            if end < 0:
                raise SplSyntaxError("unterminated comment: no closing '```'", text, i)
            i = end + 3
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


def strip_comments(text: str) -> str:
    """Each comment (outside double-quoted strings) replaced by blanks of the same length."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == '"':
            end = min(_after_quoted(text, i), len(text))
            out.append(text[i:end])
            i = end
        elif text.startswith(COMMENT, i):
            end = text.find(COMMENT, i + 3)
            if end < 0:
                raise SplSyntaxError("unterminated comment: no closing '```'", text, i)
            out.append(re.sub(r"[^\n]", " ", text[i : end + 3]))
            i = end + 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def check_macros(text: str) -> None:
    """Raise for the first macro left in ``text`` (``parse`` sees expanded text only)."""
    for call, pos in macros(text):
        raise UnsupportedSplError(_undefined(call, MacroTable()), text, pos)


def expand(text: str, table: MacroTable) -> Expansion:
    """``text`` with every macro call replaced by its expansion; comments blanked.

    Raises:
        SplSyntaxError: a malformed call, unterminated backtick or comment, a wrong argument
            count, or a macro that calls itself.
        UnsupportedSplError: an undefined macro (the message says where definitions were looked
            for), or an eval-based macro (``iseval``).
    """
    text = strip_comments(text)
    pieces: list[str] = []
    spans: list[tuple[int, int, str]] = []
    last = 0
    size = 0
    for call, pos in macros(text):
        pieces.append(text[last:pos])
        size += pos - last
        body = _expand_call(call, table, text, pos, ())
        pieces.append(body)
        spans.append((size, size + len(body), call))
        size += len(body)
        last = pos + len(call) + 2
    pieces.append(text[last:])
    return Expansion("".join(pieces), tuple(spans))


def _expand_call(call: str, table: MacroTable, text: str, pos: int, stack: tuple[str, ...]) -> str:
    name, args = _split_call(call, text, pos)
    key = macro_key(name, len(args))
    if key in stack or len(stack) >= MAX_DEPTH:
        chain = " -> ".join(f"`{k}`" for k in (*stack, key))
        raise SplSyntaxError(f"macro `{key}` calls itself: {chain}", text, pos)
    macro = table.macros.get(key)
    if macro is None:
        raise UnsupportedSplError(_undefined(call, table), text, pos)
    if macro.iseval:
        raise UnsupportedSplError(
            f"macro `{key}` ({macro.origin}) is an eval-based macro (iseval = 1), which huntbook "
            "does not expand",
            text,
            pos,
        )
    body = macro.definition
    for arg_name, value in zip(macro.args, args, strict=True):
        body = body.replace(f"${arg_name}$", value)
    try:
        return _expand_nested(body, table, (*stack, key))
    except SplSyntaxError as err:
        where = f" (in the expansion of macro `{key}`)"
        raise type(err)(err.reason + where, text, pos) from None


def _expand_nested(body: str, table: MacroTable, stack: tuple[str, ...]) -> str:
    body = strip_comments(body)
    out: list[str] = []
    last = 0
    for call, pos in macros(body):
        out.append(body[last:pos])
        out.append(_expand_call(call, table, body, pos, stack))
        last = pos + len(call) + 2
    out.append(body[last:])
    result = "".join(out)
    if len(result) > MAX_EXPANDED:
        raise SplSyntaxError(f"macro expansion is over {MAX_EXPANDED:,} characters", body, 0)
    return result


def _split_call(call: str, text: str, pos: int) -> tuple[str, list[str]]:
    """``name(a, "b,c")`` -> ("name", ["a", '"b,c"']): commas split outside quotes and parens."""
    stripped = call.strip()
    if "(" not in stripped:
        if not stripped:
            raise SplSyntaxError("empty macro name between backticks", text, pos)
        return stripped, []
    name, _, rest = stripped.partition("(")
    if not rest.endswith(")") or not name.strip():
        raise SplSyntaxError(f"malformed macro call `{call}`: expected name(arg, ...)", text, pos)
    return name.strip(), [_arg_value(a.strip()) for a in _top_level_commas(rest[:-1])]


def _arg_value(arg: str) -> str:
    """A quoted argument is the text inside the quotes, ``\"`` read as ``"`` ([S-Use search
    macros in searches]: escape quotes inside a quoted argument); others are kept as written."""
    if len(arg) >= 2 and arg[0] == arg[-1] == '"':
        return arg[1:-1].replace('\\"', '"')
    return arg


def _top_level_commas(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = _after_quoted(text, i)
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _undefined(call: str, table: MacroTable) -> str:
    name, _, rest = call.strip().partition("(")
    nargs = len(_top_level_commas(rest[:-1])) if rest else 0
    key = macro_key(name.strip(), nargs)
    others = sorted(k for k in table.macros if k.split("(")[0] == name.strip())
    hint = f"; defined: {', '.join(f'`{k}`' for k in others)}" if others else ""
    where = ", ".join(table.searched) if table.searched else "no macro definitions were given"
    return f"macro `{key}` is not defined (looked in: {where}){hint}"


def valid_arg_name(name: str) -> bool:
    """Argument names: letters, digits, ``_`` and ``-`` ([S-Define search macros in Settings])."""
    return bool(ARG_NAME.match(name))
