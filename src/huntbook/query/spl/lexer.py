"""Turn SPL text into tokens, in ``search`` mode or ``eval`` mode (see ``tokens``).

Quoted strings follow spl.md §1.5: ``\\\\`` -> ``\\``, ``\\"`` -> ``"``, ``\\|`` -> ``|``; any
other backslash
sequence is kept as written (``\\s`` stays two characters).
"""

from __future__ import annotations

import re

from huntbook.errors import SplSyntaxError
from huntbook.query.spl.tokens import Token, TokenType

_PUNCT = {
    "(": TokenType.LPAREN,
    ")": TokenType.RPAREN,
    "[": TokenType.LBRACKET,
    "]": TokenType.RBRACKET,
    ",": TokenType.COMMA,
    "|": TokenType.PIPE,
}
_CMP = re.compile(r"==|!=|<=|>=|<>|=|<|>")
# A search-mode word stops at whitespace, punctuation, comparison characters and quotes.
_SEARCH_WORD = re.compile(r'(?:\\.|[^\s()\[\],|=!<>"])+|!(?!=)')
_EVAL_WORD = re.compile(r"[A-Za-z_@$][A-Za-z0-9_@$:]*")
_NUMBER = re.compile(r"\d+\.?\d*(?:[eE][+-]?\d+)?")
_EVAL_OPS = re.compile(r"==|!=|<=|>=|<>|=|<|>|\+|-|\*|/|%|\.")
_ESCAPES = {"\\": "\\", '"': '"', "|": "|"}
_WS = re.compile(r"\s+")


def unescape(text: str) -> str:
    """Expand the three escapes SPL knows (spl.md §1.5); keep every other backslash."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _read_quoted(text: str, pos: int, quote: str, end: int) -> int:
    """Index just past the closing quote of the string opening at ``pos``."""
    i = pos + 1
    while i < end:
        ch = text[i]
        if ch == "\\" and i + 1 < end:
            i += 2
            continue
        if ch == quote:
            return i + 1
        i += 1
    raise SplSyntaxError("unterminated quoted string", text, pos)


def tokenize(
    text: str, mode: str = "search", start: int = 0, end: int | None = None
) -> list[Token]:
    """Tokens of ``text[start:end]`` in ``mode`` ("search" or "eval"), ending with an EOF token."""
    end = len(text) if end is None else end
    step = _search_token if mode == "search" else _eval_token
    tokens: list[Token] = []
    pos = start
    while True:
        ws = _WS.match(text, pos, end)
        if ws:
            pos = ws.end()
        if pos >= end:
            tokens.append(Token(TokenType.EOF, "", "", end, end))
            return tokens
        token = step(text, pos, end)
        tokens.append(token)
        pos = token.end


def _common_token(text: str, pos: int, end: int) -> Token | None:
    ch = text[pos]
    if ch in _PUNCT:
        return Token(_PUNCT[ch], ch, ch, pos, pos + 1)
    if ch == '"':
        stop = _read_quoted(text, pos, '"', end)
        raw = text[pos:stop]
        return Token(TokenType.STRING, raw, unescape(raw[1:-1]), pos, stop)
    return None


def _search_token(text: str, pos: int, end: int) -> Token:
    token = _common_token(text, pos, end)
    if token:
        return token
    cmp = _CMP.match(text, pos, end)
    if cmp:
        return Token(TokenType.OP, cmp.group(), cmp.group(), pos, cmp.end())
    word = _SEARCH_WORD.match(text, pos, end)
    if not word:
        raise SplSyntaxError(f"unexpected character {text[pos]!r}", text, pos)
    return Token(TokenType.WORD, word.group(), unescape(word.group()), pos, word.end())


def _eval_token(text: str, pos: int, end: int) -> Token:
    token = _common_token(text, pos, end)
    if token:
        return token
    ch = text[pos]
    if ch == "'":
        stop = _read_quoted(text, pos, "'", end)
        raw = text[pos:stop]
        return Token(TokenType.QUOTED_NAME, raw, raw[1:-1].replace("\\'", "'"), pos, stop)
    for pattern, kind in ((_NUMBER, TokenType.NUMBER), (_EVAL_WORD, TokenType.WORD)):
        m = pattern.match(text, pos, end)
        if m:
            return Token(kind, m.group(), m.group(), pos, m.end())
    op = _EVAL_OPS.match(text, pos, end)
    if op:
        return Token(TokenType.OP, op.group(), op.group(), pos, op.end())
    raise SplSyntaxError(f"unexpected character {ch!r} in expression", text, pos)
