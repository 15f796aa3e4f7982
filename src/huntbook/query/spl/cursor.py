"""A cursor over one command's tokens, with the small parsing helpers every command shares."""

from __future__ import annotations

from collections.abc import Sequence

from huntbook.errors import SplSyntaxError
from huntbook.query.spl.lexer import tokenize
from huntbook.query.spl.tokens import Token, TokenType

_TRUE = {"t", "true", "1", "yes"}
_FALSE = {"f", "false", "0", "no"}
_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip


class Cursor:
    """Walks a token list; errors point into ``text`` at the offending token."""

    def __init__(self, text: str, tokens: Sequence[Token]) -> None:
        self.text = text
        self.tokens = list(tokens)
        self.i = 0

    # ---- basic movement
    def peek(self, k: int = 0) -> Token:
        i, tokens = self.i + k, self.tokens
        return tokens[i] if i < len(tokens) else tokens[-1]

    def next(self) -> Token:
        tok = self.peek()
        if tok.type is not TokenType.EOF:
            self.i += 1
        return tok

    def at_end(self) -> bool:
        return self.peek().type is TokenType.EOF

    def error(self, message: str, tok: Token | None = None) -> SplSyntaxError:
        return SplSyntaxError(message, self.text, (tok or self.peek()).start)

    def expect(self, kind: TokenType, what: str) -> Token:
        tok = self.peek()
        if tok.type is not kind:
            found = tok.text or "end of command"
            raise self.error(f"expected {what}, found {found!r}")
        return self.next()

    def accept(self, kind: TokenType) -> Token | None:
        return self.next() if self.peek().type is kind else None

    def accept_word(self, *words: str) -> Token | None:
        """Consume a WORD spelled as one of ``words`` (case-insensitive)."""
        tok = self.peek()
        if tok.type is TokenType.WORD and tok.text.lower() in {w.lower() for w in words}:
            return self.next()
        return None

    def expect_end(self) -> None:
        if not self.at_end():
            raise self.error(f"unexpected {self.peek().text!r}")

    # ---- shapes shared by many commands
    def name(self, what: str = "a field name") -> str:
        """A field name: a word or a quoted string."""
        tok = self.peek()
        if tok.type in (TokenType.WORD, TokenType.STRING):
            self.next()
            return tok.value
        raise self.error(f"expected {what}, found {tok.text or 'end of command'!r}")

    def is_option(self, *names: str) -> bool:
        tok, eq = self.peek(), self.peek(1)
        return (
            tok.type is TokenType.WORD
            and tok.text.lower() in {n.lower() for n in names}
            and eq.is_op("=")
        )

    def option(self) -> tuple[str, Token]:
        """Consume ``key=value`` and return (lower-cased key, value token)."""
        key = self.next()
        self.next()
        value = self.peek()
        if value.type not in (TokenType.WORD, TokenType.STRING):
            raise self.error(f"expected a value for {key.text}=")
        return key.text.lower(), self.next()

    def field_list(self, stop: Sequence[str] = ()) -> list[str]:
        """Names separated by spaces or commas, up to EOF or a stop word (``by``, ``as``...)."""
        names: list[str] = []
        stops = {s.lower() for s in stop}
        while not self.at_end():
            tok = self.peek()
            if self.accept(TokenType.COMMA):
                continue
            if tok.type is TokenType.WORD and tok.text.lower() in stops:
                break
            if tok.type not in (TokenType.WORD, TokenType.STRING) or self.peek(1).is_op("="):
                break
            names.append(self.next().value)
        return names

    def fields_after(self, keyword: Token) -> list[str]:
        """The field list after ``keyword`` (``by``); an empty one is an error at the keyword."""
        names = self.field_list()
        if not names:
            raise self.error(f"expected a field name after {keyword.text!r}", keyword)
        return names

    def balanced(self) -> tuple[int, int]:
        """Consume ``( ... )`` and return the text range inside the parentheses."""
        return self.enclosed(TokenType.LPAREN, TokenType.RPAREN, "'('", "unbalanced parentheses")

    def subsearch(self) -> tuple[int, int]:
        """Consume ``[ ... ]`` and return the text range inside the brackets."""
        return self.enclosed(
            TokenType.LBRACKET, TokenType.RBRACKET, "a [subsearch]", "unbalanced '['"
        )

    def enclosed(
        self, opening: TokenType, closing: TokenType, what: str, unbalanced: str
    ) -> tuple[int, int]:
        """Consume an ``opening`` token through its matching ``closing`` one (nesting counted)."""
        open_tok = self.expect(opening, what)
        depth = 1
        while depth:
            tok = self.next()
            if tok.type is TokenType.EOF:
                raise self.error(unbalanced, open_tok)
            depth += {opening: 1, closing: -1}.get(tok.type, 0)
        return open_tok.end, self.tokens[self.i - 1].start

    def sub_cursor(self, start: int, end: int, mode: str) -> Cursor:
        """A cursor over ``text[start:end]`` re-lexed in ``mode``."""
        return Cursor(self.text, tokenize(self.text, mode, start, end))


def to_bool(tok: Token, cur: Cursor) -> bool:
    low = tok.value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise cur.error(f"expected true or false, found {tok.value!r}", tok)


def to_int(tok: Token, cur: Cursor) -> int:
    try:
        return int(tok.value)
    except ValueError:
        raise cur.error(f"expected a whole number, found {tok.value!r}", tok) from None


def to_seconds(tok: Token, cur: Cursor) -> float:
    """``30s``, ``5m``, ``2h``, ``1d``, bare numbers = seconds."""
    text = tok.value.strip().lower()
    digits = len(text) - len(text.lstrip("0123456789.-"))
    number, unit = text[:digits], text[digits:] or "s"
    if unit not in _UNITS:
        raise cur.error(f"unknown time unit {unit!r}", tok)
    try:
        return float(number or 1) * _UNITS[unit]
    except ValueError:
        raise cur.error(f"expected a time span, found {tok.value!r}", tok) from None
