"""Parsers for SPL's two expression languages.

``search`` (spl.md §1.2): parentheses, NOT, OR, then AND -- OR binds tighter than the implicit AND,
so ``a b OR c`` is ``a AND (b OR c)``. ``eval``/``where`` (spl.md §2.2): the conventional order
NOT, AND, OR, XOR; comparisons below arithmetic; ``.`` (concatenation) below ``+``/``-`` (the
rearc/spl_transpiler reading; spl.md §8 item 4 says it is unverified).
"""

from __future__ import annotations

from collections.abc import Callable

from huntbook.query.spl import ast
from huntbook.query.spl.cursor import Cursor
from huntbook.query.spl.lexer import unescape
from huntbook.query.spl.tokens import Token, TokenType

_SEARCH_OPS = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_TIME_OPTIONS = {"earliest", "latest", "starttime", "endtime"}
_EMPTY_IN = "IN needs at least one value inside the parentheses"

# ---------------------------------------------------------------- search language

#: Parses the text range of a ``[subsearch]`` as a pipeline (the search command's subsearch).
SubsearchParser = Callable[[int, int], ast.Pipeline]


def parse_search(
    cur: Cursor, stop_at_rparen: bool = False, sub: SubsearchParser | None = None
) -> ast.SearchExpr | None:
    """Parse a whole search expression; None when there are no terms at all. ``sub`` parses a
    ``[subsearch]`` used as a filter (the search command allows one; other clauses do not)."""
    groups: list[ast.SearchExpr] = []
    while not cur.at_end():
        if cur.peek().type is TokenType.RPAREN:
            if stop_at_rparen:
                break
            raise cur.error("unbalanced ')'")
        if cur.peek().is_word("AND") and groups:
            cur.next()
        groups.append(_or_group(cur, sub))
    if not groups:
        return None
    return groups[0] if len(groups) == 1 else ast.SAnd(tuple(groups))


def _or_group(cur: Cursor, sub: SubsearchParser | None) -> ast.SearchExpr:
    items = [_unary(cur, sub)]
    while cur.peek().is_word("OR"):
        cur.next()
        items.append(_unary(cur, sub))
    return items[0] if len(items) == 1 else ast.SOr(tuple(items))


def _unary(cur: Cursor, sub: SubsearchParser | None) -> ast.SearchExpr:
    tok = cur.peek()
    if tok.is_word("NOT"):
        cur.next()
        return ast.SNot(_unary(cur, sub))
    if tok.type is TokenType.LPAREN:
        cur.next()
        inner = parse_search(cur, stop_at_rparen=True, sub=sub)
        cur.expect(TokenType.RPAREN, "')'")
        if inner is None:
            raise cur.error("empty parentheses", tok)
        return inner
    if tok.type is TokenType.LBRACKET and sub is not None:
        start, end = cur.subsearch()
        return ast.SubsearchFilter(sub(start, end), tok.start)
    if tok.is_word("AND", "OR"):
        raise cur.error(f"{tok.text} needs a term on each side")
    return _atom(cur)


def _atom(cur: Cursor) -> ast.SearchExpr:
    tok = cur.next()
    if tok.type is TokenType.STRING and not _names_a_field(cur):
        return ast.Term(ast.SearchValue(tok.value, quoted=True))
    if tok.type not in (TokenType.WORD, TokenType.STRING):
        raise cur.error(f"unexpected {tok.text or 'end of search'!r}", tok)
    nxt = cur.peek()
    if nxt.type is TokenType.OP:
        return _comparison(cur, tok)
    if nxt.is_word("IN") and cur.peek(1).type is TokenType.LPAREN:
        cur.next()
        return ast.InList(tok.value, tuple(_value_list(cur)))
    if tok.text.upper() in ("TERM", "CASE") and nxt.type is TokenType.LPAREN:
        return ast.Term(_wrapped_value(cur, tok))
    return ast.Term(ast.SearchValue(tok.value))


def _names_a_field(cur: Cursor) -> bool:
    """A quoted string right before a comparison or ``IN (`` is a field name
    (``"user.name"="x"``, ``"a{}" IN (...)``: names with characters a bare word cannot hold)."""
    nxt = cur.peek()
    return nxt.type is TokenType.OP or (nxt.is_word("IN") and cur.peek(1).type is TokenType.LPAREN)


def _comparison(cur: Cursor, field: Token) -> ast.SearchExpr:
    op_tok = cur.next()
    if op_tok.text not in _SEARCH_OPS:
        raise cur.error(f"unknown operator {op_tok.text!r}", op_tok)
    value = search_value(cur)
    if field.value.lower() in _TIME_OPTIONS and op_tok.text == "=":
        return ast.TimeBound(field.value.lower(), value.text, field.start)
    return ast.Compare(field.value, _SEARCH_OPS[op_tok.text], value, field.start)


def search_value(cur: Cursor) -> ast.SearchValue:
    """The value after ``field=``: a word, a quoted string, or ``CASE(..)``/``TERM(..)``."""
    tok = cur.next()
    if tok.type is TokenType.STRING:
        return ast.SearchValue(tok.value, quoted=True)
    if tok.type is not TokenType.WORD:
        raise cur.error(f"expected a value, found {tok.text or 'end of search'!r}", tok)
    if tok.text.upper() in ("TERM", "CASE") and cur.peek().type is TokenType.LPAREN:
        return _wrapped_value(cur, tok)
    return ast.SearchValue(tok.value)


def _wrapped_value(cur: Cursor, tok: Token) -> ast.SearchValue:
    """``TERM(...)``/``CASE(...)``: everything up to the closing parenthesis is the value."""
    start, end = cur.balanced()
    inner = cur.text[start:end].strip()
    if not inner:
        raise cur.error(f"expected a value inside {tok.text}()", tok)
    quoted = len(inner) >= 2 and inner[0] == inner[-1] == '"'
    upper = tok.text.upper()
    return ast.SearchValue(
        unescape(inner[1:-1] if quoted else inner),
        quoted=quoted,
        case_sensitive=upper == "CASE",
        term=upper == "TERM",
    )


def _value_list(cur: Cursor) -> list[ast.SearchValue]:
    opening = cur.expect(TokenType.LPAREN, "'('")
    values: list[ast.SearchValue] = []
    while not cur.accept(TokenType.RPAREN):
        if cur.accept(TokenType.COMMA):
            continue
        if cur.at_end():
            raise cur.error("unterminated IN (...) list")
        values.append(search_value(cur))
    if not values:
        raise cur.error(_EMPTY_IN, opening)
    return values


# ---------------------------------------------------------------- eval language

_CMP_OPS = {"=", "==", "!=", "<>", "<", "<=", ">", ">="}


def parse_eval(cur: Cursor) -> ast.Expr:
    """One eval expression; the caller checks what follows."""
    return _binary_chain(cur, 0)


# Lowest to highest: XOR, OR, AND. NOT and comparisons are handled below these levels.
_BOOL_LEVELS = (("XOR",), ("OR",), ("AND",))


def _binary_chain(cur: Cursor, level: int) -> ast.Expr:
    if level == len(_BOOL_LEVELS):
        return _not(cur)
    left = _binary_chain(cur, level + 1)
    while _is_keyword(cur.peek(), _BOOL_LEVELS[level]):
        op = cur.next()
        right = _binary_chain(cur, level + 1)
        left = ast.BinOp(op.text.upper(), left, right, op.start)
    return left


def _is_keyword(tok: Token, words: tuple[str, ...]) -> bool:
    """Eval accepts AND/OR/NOT/XOR/LIKE/IN in any case (fields named ``and`` are not worth it)."""
    return tok.type is TokenType.WORD and tok.text.upper() in words


def _not(cur: Cursor) -> ast.Expr:
    if _is_keyword(cur.peek(), ("NOT",)):
        tok = cur.next()
        return ast.UnaryOp("NOT", _not(cur), tok.start)
    return _comparison_expr(cur)


def _comparison_expr(cur: Cursor) -> ast.Expr:
    left = _concat(cur)
    tok = cur.peek()
    if tok.type is TokenType.OP and tok.text in _CMP_OPS:
        cur.next()
        op = {"==": "=", "<>": "!="}.get(tok.text, tok.text)
        return ast.BinOp(op, left, _concat(cur), tok.start)
    if _is_keyword(tok, ("LIKE",)):
        cur.next()
        return ast.BinOp("LIKE", left, _concat(cur), tok.start)
    if _is_keyword(tok, ("IN",)) and cur.peek(1).type is TokenType.LPAREN:
        cur.next()
        opening = cur.peek()
        values = _call_args(cur)
        if not values:
            raise cur.error(_EMPTY_IN, opening)
        return ast.InExpr(left, tuple(values), tok.start)
    return left


def _left_assoc(cur: Cursor, ops: tuple[str, ...], operand: object) -> ast.Expr:
    parse = operand  # a function Cursor -> Expr
    left: ast.Expr = parse(cur)  # type: ignore[operator]
    while cur.peek().is_op(*ops):
        tok = cur.next()
        left = ast.BinOp(tok.text, left, parse(cur), tok.start)  # type: ignore[operator]
    return left


def _concat(cur: Cursor) -> ast.Expr:
    return _left_assoc(cur, (".",), _additive)


def _additive(cur: Cursor) -> ast.Expr:
    return _left_assoc(cur, ("+", "-"), _multiplicative)


def _multiplicative(cur: Cursor) -> ast.Expr:
    return _left_assoc(cur, ("*", "/", "%"), _unary_minus)


def _unary_minus(cur: Cursor) -> ast.Expr:
    if cur.peek().is_op("-", "+"):
        tok = cur.next()
        operand = _unary_minus(cur)
        if tok.text == "+":
            return operand
        if isinstance(operand, ast.Literal) and isinstance(operand.value, int | float):
            return ast.Literal(-operand.value, tok.start)
        return ast.UnaryOp("-", operand, tok.start)
    return _primary(cur)


def _primary(cur: Cursor) -> ast.Expr:
    tok = cur.next()
    if tok.type is TokenType.NUMBER:
        number: int | float = (
            float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        )
        return ast.Literal(number, tok.start)
    if tok.type is TokenType.STRING:
        return ast.Literal(tok.value, tok.start)
    if tok.type is TokenType.QUOTED_NAME:
        return ast.FieldRef(tok.value, tok.start)
    fraction = cur.peek()
    if tok.is_op(".") and fraction.type is TokenType.NUMBER and fraction.start == tok.end:
        cur.next()  # `.25` where an operand starts: a number, not concatenation
        return ast.Literal(float("." + fraction.text), tok.start)
    if tok.type is TokenType.LPAREN:
        inner = parse_eval(cur)
        cur.expect(TokenType.RPAREN, "')'")
        return inner
    if tok.type is TokenType.WORD:
        if cur.peek().type is TokenType.LPAREN:
            return ast.Call(tok.text.lower(), tuple(_call_args(cur)), tok.start)
        return ast.FieldRef(tok.text, tok.start)
    raise cur.error(f"unexpected {tok.text or 'end of expression'!r}", tok)


def _call_args(cur: Cursor) -> list[ast.Expr]:
    cur.expect(TokenType.LPAREN, "'('")
    args: list[ast.Expr] = []
    if cur.accept(TokenType.RPAREN):
        return args
    while True:
        args.append(parse_eval(cur))
        if cur.accept(TokenType.RPAREN):
            return args
        cur.expect(TokenType.COMMA, "',' or ')'")
