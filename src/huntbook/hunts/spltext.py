"""Light reading of SPL text for what the SPL engine does not expose: pipe segments and the terms of
a base search. Used to classify a query's needed data and to translate simple searches to Sigma;
the engine itself (``huntbook.query``) stays the authority on what a query means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<field>[A-Za-z_][\w.:-]*)\s*(?P<op>!=|=)\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s()]+)'
    r'|(?P<word>"(?:[^"\\]|\\.)*"|[^\s()]+))'
)


@dataclass(frozen=True)
class Term:
    """A base-search token: ``(``/``)``, an operator word, a ``field=value`` or a bare term."""

    kind: str  # "paren" | "op" | "match" | "word"
    text: str
    field: str = ""
    value: str = ""
    negated: bool = False


def split_pipes(spl: str) -> list[str]:
    """The pipeline's segments, split at pipes outside double quotes (a leading pipe is kept)."""
    segments, start, quoted, escaped = [], 0, False, False
    for i, char in enumerate(spl):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "|" and not quoted and spl[start:i].strip():
            segments.append(spl[start:i].strip())
            start = i + 1
    segments.append(spl[start:].strip())
    return [s for s in segments if s]


def base_search(spl: str) -> str:
    """The implicit ``search`` before the first pipe ('' for a generating command)."""
    if spl.lstrip().startswith("|"):
        return ""
    return split_pipes(spl)[0] if spl.strip() else ""


def unquote(value: str) -> str:
    """A search value as matched: quotes removed, ``\\\\`` and ``\\"`` unescaped (spl.md §1.5)."""
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return re.sub(r'\\([\\"|])', r"\1", value)


def terms(search: str) -> list[Term]:
    """Tokenize a base search into ``Term``s (no precedence: callers decide what they accept)."""
    found = []
    for match in _TOKEN.finditer(search):
        if match.group("paren"):
            found.append(Term("paren", match.group("paren")))
        elif match.group("field"):
            field, op, raw = match.group("field"), match.group("op"), match.group("value")
            found.append(Term("match", match.group(0).strip(), field, unquote(raw), op == "!="))
        elif match.group("word"):
            word = match.group("word")
            kind = "op" if word in ("AND", "OR", "NOT") else "word"
            found.append(Term(kind, word))
    return found
