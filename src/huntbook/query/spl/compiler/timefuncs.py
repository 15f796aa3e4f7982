"""Time functions of eval: strftime, strptime, now, relative_time (all in UTC, the engine's one
zone)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler.timeutil import RELATIVE_FORMS, unreadable_time
from huntbook.query.spl.compiler.timeutil import relative_time as relative_epoch
from huntbook.query.spl.compiler.values import INT, NUM, TEXT, Val, as_num, as_text, cast, fn, lit

if TYPE_CHECKING:
    from huntbook.query.spl.compiler.expr import ExprCompiler

# Splunk variables DuckDB's strftime spells differently (spl.md §2.5 [S-timevars]).
_SPLUNK_TO_DUCKDB = {
    "%F": "%Y-%m-%d",
    "%T": "%H:%M:%S",
    "%Q": "%g",
    "%3N": "%g",
    "%6N": "%f",
    "%9N": "%n",
    "%N": "%g",
}
_VAR = re.compile(r"%\d?[A-Za-z%]")


def to_timestamp(epoch: exp.Expr) -> exp.Expr:
    """Epoch seconds -> a zone-less TIMESTAMP (so formatting is UTC whatever the session zone)."""
    micros = cast(exp.Mul(this=cast(epoch, NUM), expression=lit(1000000)), INT)
    return exp.UnixToTime(this=micros, scale=exp.UnixToTime.MICROS)


def splunk_format(fmt: str) -> str:
    return _VAR.sub(lambda m: _SPLUNK_TO_DUCKDB.get(m.group(), m.group()), fmt)


def _format_arg(c: ExprCompiler, node: ast.Call) -> str:
    arg = node.args[1]
    if not isinstance(arg, ast.Literal) or not isinstance(arg.value, str):
        raise c.ctx.error(f"{node.name}(): the format must be a quoted string", node.pos)
    return arg.value


def strftime(c: ExprCompiler, node: ast.Call) -> Val:
    value = as_num(c.compile(node.args[0]))
    return Val(format_epoch(value, _format_arg(c, node)), TEXT)


def format_epoch(value: exp.Expr, splunk_fmt: str) -> exp.Expr:
    """strftime in UTC; ``%s`` (epoch seconds, which DuckDB's strftime lacks) is spliced in."""
    pieces = splunk_fmt.split("%s")
    parts: list[exp.Expr] = []
    for i, piece in enumerate(pieces):
        if i:
            parts.append(cast(cast(exp.Floor(this=value.copy()), INT), TEXT))
        if piece:
            parts.append(fn("strftime", to_timestamp(value.copy()), lit(splunk_format(piece))))
    if not parts:
        return lit("")
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part, safe=False)
    return out


def strptime(c: ExprCompiler, node: ast.Call) -> Val:
    text = as_text(c.compile(node.args[0]))
    fmt = splunk_format(_format_arg(c, node))
    parsed = fn("try_strptime", text, lit(fmt))
    return Val(exp.TimeToUnix(this=parsed), NUM)


def now(c: ExprCompiler, node: ast.Call) -> Val:
    return Val(lit(c.ctx.now), NUM)


_STEP = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MODIFIER = re.compile(r"^((?:[+-]\d*[a-z]+)*)(?:@([a-z]+)(\d?))?$")
_UNITS = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d", "w": "w", "week": "w", "weeks": "w",
}  # fmt: skip


def relative(c: ExprCompiler, node: ast.Call) -> Val:
    """``relative_time(t, "-1d@d")``: offsets then snapping, as arithmetic on epoch seconds."""
    arg = node.args[1]
    if not isinstance(arg, ast.Literal) or not isinstance(arg.value, str):
        raise c.ctx.error("relative_time(): the modifier must be a quoted string", node.pos)
    base = c.compile(node.args[0])
    if isinstance(base.expr, exp.Literal) and base.kind in (INT, NUM):
        try:
            return Val(lit(relative_epoch(float(base.expr.this), arg.value)), NUM)
        except ValueError:
            message = unreadable_time(arg.value, RELATIVE_FORMS)
            raise c.ctx.error(f"relative_time(): {message}", node.pos) from None
    m = _MODIFIER.match(arg.value.strip().lower())
    if not m:
        raise c.ctx.error(f"relative_time(): cannot read {arg.value!r}", node.pos)
    value = as_num(base)
    for sign, count, unit in re.findall(r"([+-])(\d*)([a-z]+)", m.group(1)):
        seconds = _unit_seconds(c, node, unit) * int(count or 1)
        value = exp.Add(this=value, expression=lit(seconds if sign == "+" else -seconds))
    if m.group(2):
        value = _snap(c, node, value, m.group(2), int(m.group(3) or 0))
    return Val(value, NUM)


def _unit_seconds(c: ExprCompiler, node: ast.Call, unit: str) -> int:
    key = _UNITS.get(unit)
    if key is None:
        raise c.ctx.error(f"relative_time(): unsupported unit {unit!r} (s, m, h, d, w)", node.pos)
    return _STEP[key]


def _snap(c: ExprCompiler, node: ast.Call, value: exp.Expr, unit: str, weekday: int) -> exp.Expr:
    step = _unit_seconds(c, node, unit)
    if _UNITS[unit] != "w":
        return exp.Mul(
            this=exp.Floor(this=exp.Div(this=value, expression=lit(step))), expression=lit(step)
        )
    # Epoch day 0 was a Thursday: (days + 4) % 7 is 0 on Sundays (Splunk's @w0).
    day = exp.Floor(this=exp.Div(this=value, expression=lit(86400)))
    back = exp.Mod(
        this=exp.Add(
            this=exp.Sub(this=exp.Add(this=day, expression=lit(4)), expression=lit(weekday)),
            expression=lit(7),
        ),
        expression=lit(7),
    )
    return exp.Mul(this=exp.Sub(this=day.copy(), expression=back), expression=lit(86400))


def duration_text(seconds: exp.Expr) -> exp.Expr:
    """Seconds -> ``HH:MM:SS`` (tostring(x, "duration"))."""
    whole = cast(exp.Floor(this=seconds), INT)
    parts = [
        exp.IntDiv(this=whole, expression=lit(3600)),
        exp.Mod(this=exp.IntDiv(this=whole.copy(), expression=lit(60)), expression=lit(60)),
        exp.Mod(this=whole.copy(), expression=lit(60)),
    ]
    padded = [
        exp.Pad(this=cast(p, TEXT), expression=lit(2), fill_pattern=lit("0"), is_left=True)
        for p in parts
    ]
    out: exp.Expr = padded[0]
    for p in padded[1:]:
        out = exp.DPipe(
            this=exp.DPipe(this=out, expression=lit(":"), safe=False), expression=p, safe=False
        )
    return out


__all__ = [
    "NUM",
    "duration_text",
    "now",
    "relative",
    "splunk_format",
    "strftime",
    "strptime",
    "to_timestamp",
]
