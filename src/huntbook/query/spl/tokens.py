"""Token types of the SPL lexer.

SPL is lexed in two modes because the same characters mean different things: in ``search`` mode
``C:\\Windows\\*.exe`` or ``-24h@h`` is one word, in ``eval`` mode ``a*b.c`` is three operands.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class TokenType(enum.Enum):
    """Kinds of token; punctuation has its own type, words and operators carry their text."""

    WORD = "word"  # search mode: a run of non-delimiters; eval mode: an identifier
    STRING = "string"  # "double quoted", value unescaped
    QUOTED_NAME = "quoted_name"  # 'single quoted' field name (eval mode)
    NUMBER = "number"  # eval mode only
    OP = "op"  # = == != < <= > >= (both modes); + - * / % . (eval mode)
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    PIPE = "|"
    EOF = "eof"


@dataclass(frozen=True)
class Token:
    """One token: ``value`` is the text after unescaping; ``start``/``end`` index the query text."""

    type: TokenType
    text: str
    value: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        """True for a WORD spelled exactly as one of ``words`` (SPL operators are upper case)."""
        return self.type is TokenType.WORD and self.text in words

    def is_op(self, *ops: str) -> bool:
        return self.type is TokenType.OP and self.text in ops
