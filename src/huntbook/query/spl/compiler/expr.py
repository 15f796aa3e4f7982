"""Eval/where expressions (spl.md §2) -> typed SQL values.

Null rules: arithmetic, ``.`` and functions propagate null; a comparison with a null side is not
true; ``NOT`` of such a comparison is true. ``=`` in eval is a case-sensitive comparison; a text
value that looks numeric compares numerically with a number (``EventCode==4624``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp

from huntbook.errors import UnsupportedSplError, did_you_mean
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.state import State
from huntbook.query.spl.compiler.values import (
    BOOL,
    INT,
    LIST,
    NULL,
    NUM,
    NUMERIC,
    TEXT,
    Val,
    any_element,
    as_bool,
    as_list,
    as_num,
    as_text,
    cast,
    col,
    data_type,
    lit,
    not_null,
    null_safe_not,
    try_double,
    typed_null,
)

_ELEM = "__e"
_CMP = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


class ExprCompiler:
    """Compiles eval expressions on a ``State``; ``overrides`` rebinds field names (mvfilter)."""

    def __init__(self, state: State, overrides: Mapping[str, Val] | None = None) -> None:
        self.state = state
        self.ctx = state.ctx
        self.overrides = dict(overrides or {})

    def compile(self, node: ast.Expr) -> Val:
        handler: Callable[[ExprCompiler, Any], Val] | None = _NODES.get(type(node))
        if handler is None:
            raise self.ctx.error(f"cannot compile {type(node).__name__}", getattr(node, "pos", 0))
        return handler(self, node)

    def field(self, name: str) -> Val:
        if name in self.overrides:
            return self.overrides[name]
        return self.state.get(name)

    # ---- node handlers
    def literal(self, node: ast.Literal) -> Val:
        if node.value is None:
            return Val(typed_null(TEXT), NULL)
        if isinstance(node.value, bool):
            return Val(lit(node.value), BOOL)
        if isinstance(node.value, int):
            return Val(lit(node.value), INT)
        if isinstance(node.value, float):
            return Val(lit(node.value), NUM)
        return Val(lit(node.value), TEXT)

    def field_ref(self, node: ast.FieldRef) -> Val:
        return self.field(node.name)

    def call(self, node: ast.Call) -> Val:
        from huntbook.query.spl.functions import FUNCTIONS

        spec = FUNCTIONS.get(node.name)
        if spec is None:
            hint = did_you_mean(node.name, FUNCTIONS)
            raise UnsupportedSplError(
                f"unsupported function {node.name}().{hint}", self.ctx.text, node.pos
            )
        if not spec.accepts(len(node.args)):
            raise self.ctx.error(f"{node.name}() takes {spec.arity_text()} arguments", node.pos)
        return spec.build(self, node)

    def unary(self, node: ast.UnaryOp) -> Val:
        operand = self.compile(node.operand)
        if node.op == "NOT":
            return Val(null_safe_not(as_bool(operand)), BOOL)
        kind = INT if operand.kind == INT else NUM
        return Val(exp.Neg(this=exp.Paren(this=as_num(operand))), kind)

    def in_expr(self, node: ast.InExpr) -> Val:
        left = self.compile(node.operand)
        tests = [compare("=", left, self.compile(v)) for v in node.values]
        return Val(exp.or_(*tests, copy=False) if tests else exp.false(), BOOL)

    def search_predicate(self, node: ast.SearchPredicate) -> Val:
        from huntbook.query.spl.compiler.search import predicate

        return Val(predicate(node.expr, self.state), BOOL)

    def binop(self, node: ast.BinOp) -> Val:
        left, right = self.compile(node.left), self.compile(node.right)
        handler = _BINOPS.get(node.op)
        if handler is None:
            raise self.ctx.error(f"unknown operator {node.op}", node.pos)
        result = handler(node.op, left, right)
        # sqlglot prints nodes as built, so keep the SPL grouping explicit.
        return Val(exp.Paren(this=result.expr), result.kind)


# ---------------------------------------------------------------- operators


def compare(op: str, left: Val, right: Val) -> exp.Expr:
    """Typed comparison; multivalue sides match when any value does (spl.md §2.4)."""
    if NULL in (left.kind, right.kind):
        return exp.Cast(this=exp.Null(), to=data_type("BOOLEAN"))
    if left.kind == LIST:
        elem = Val(col(_ELEM), TEXT)
        return any_element(left.expr, compare(op, elem, right), _ELEM)
    if right.kind == LIST:
        return compare(_MIRROR[op], right, left)
    cls = _CMP[op]
    if left.kind in NUMERIC or right.kind in NUMERIC:
        return cls(this=as_num(left), expression=as_num(right))
    if left.kind == BOOL or right.kind == BOOL:
        return cls(this=as_bool(left), expression=as_bool(right))
    return _text_compare(cls, left.expr, right.expr)


_MIRROR = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _text_compare(cls: type[exp.Expr], a: exp.Expr, b: exp.Expr) -> exp.Expr:
    """Two texts: numerically when both look like numbers, else as strings."""
    na, nb = try_double(a), try_double(b)
    both = exp.and_(not_null(na), not_null(nb), copy=False)
    numeric = cls(this=na.copy(), expression=nb.copy())
    return exp.Case(
        ifs=[exp.If(this=both, true=numeric)], default=cls(this=a.copy(), expression=b.copy())
    )


def _cmp_op(op: str, left: Val, right: Val) -> Val:
    return Val(compare(op, left, right), BOOL)


def _arith_kind(op: str, left: Val, right: Val) -> str:
    return INT if left.kind == INT and right.kind == INT and op in "+-*%" else NUM


def _plus(op: str, left: Val, right: Val) -> Val:
    """``+`` adds numbers or concatenates strings (spl.md §2.2)."""
    if left.kind in NUMERIC or right.kind in NUMERIC:
        return Val(
            exp.Add(this=as_num(left), expression=as_num(right)), _arith_kind(op, left, right)
        )
    if NULL in (left.kind, right.kind):
        return Val(typed_null(TEXT), NULL)
    a, b = as_text(left), as_text(right)
    na, nb = try_double(a), try_double(b)
    from huntbook.query.spl.compiler.values import num_to_text

    both = exp.and_(not_null(na), not_null(nb), copy=False)
    total = num_to_text(exp.Paren(this=exp.Add(this=na.copy(), expression=nb.copy())))
    concat = exp.DPipe(this=a.copy(), expression=b.copy(), safe=False)
    return Val(exp.Case(ifs=[exp.If(this=both, true=total)], default=concat), TEXT)


def _arith(op: str, left: Val, right: Val) -> Val:
    # Widen first: DuckDB integer literals are 32-bit and overflow where SPL's doubles do not.
    a, b = cast(as_num(left), _arith_kind(op, left, right)), as_num(right)
    if op in "/%":
        b = exp.Nullif(this=b, expression=lit(0))  # division by zero is null (spl.md §2.2)
    node = {"-": exp.Sub, "*": exp.Mul, "/": exp.Div, "%": exp.Mod}[op]
    built = node(this=a, expression=b)
    if op == "/":
        built = exp.Div(this=cast(a, NUM), expression=b, typed=False, safe=False)
    return Val(exp.Paren(this=built), _arith_kind(op, left, right))


def _concat(op: str, left: Val, right: Val) -> Val:
    """``.`` concatenates strings and numbers; null propagates."""
    if NULL in (left.kind, right.kind):
        return Val(typed_null(TEXT), NULL)
    return Val(exp.DPipe(this=as_text(left), expression=as_text(right), safe=False), TEXT)


def _logic(op: str, left: Val, right: Val) -> Val:
    a, b = as_bool(left), as_bool(right)
    if op == "AND":
        return Val(exp.and_(a, b, copy=False), BOOL)
    if op == "OR":
        return Val(exp.or_(a, b, copy=False), BOOL)
    either = exp.or_(a.copy(), b.copy(), copy=False)
    both = exp.and_(a, b, copy=False)
    return Val(exp.and_(either, exp.Not(this=exp.Paren(this=both)), copy=False), BOOL)


def _like(op: str, left: Val, right: Val) -> Val:
    if left.kind == LIST:
        elem = Val(col(_ELEM), TEXT)
        return Val(any_element(left.expr, _like(op, elem, right).expr, _ELEM), BOOL)
    return Val(exp.Like(this=as_text(left), expression=as_text(right)), BOOL)


_BINOPS = {
    **dict.fromkeys(_CMP, _cmp_op),
    "+": _plus,
    "-": _arith,
    "*": _arith,
    "/": _arith,
    "%": _arith,
    ".": _concat,
    "AND": _logic,
    "OR": _logic,
    "XOR": _logic,
    "LIKE": _like,
}

_NODES: dict[type, Callable[[ExprCompiler, Any], Val]] = {
    ast.Literal: ExprCompiler.literal,
    ast.FieldRef: ExprCompiler.field_ref,
    ast.Call: ExprCompiler.call,
    ast.UnaryOp: ExprCompiler.unary,
    ast.BinOp: ExprCompiler.binop,
    ast.InExpr: ExprCompiler.in_expr,
    ast.SearchPredicate: ExprCompiler.search_predicate,
}


def unify(values: list[Val]) -> tuple[list[exp.Expr], str]:
    """Bring several values to one kind (for if/case/coalesce): numbers, else lists, else text."""
    kinds = {v.kind for v in values if v.kind != NULL}
    if not kinds:
        return [typed_null(TEXT) for _ in values], NULL
    if len(kinds) == 1:
        (kind,) = kinds
    elif kinds <= set(NUMERIC):
        kind = NUM
    elif LIST in kinds:
        kind = LIST
    else:
        kind = TEXT
    converters = {NUM: as_num, INT: as_num, LIST: as_list, TEXT: as_text, BOOL: as_bool}
    out = []
    for v in values:
        if v.kind == NULL:
            out.append(typed_null(kind))
        elif v.kind == kind:
            out.append(v.expr)
        else:
            out.append(converters[kind](v))
    return out, kind


__all__ = ["ExprCompiler", "compare", "unify", "as_list", "cast"]
