"""foreach (mode=multifield): the subsearch template, expanded and compiled once per field.

Splunk's Search Reference, foreach: each field matching the wildcard field list runs the
templated subsearch with ``<<FIELD>>`` replaced by the field's name, ``<<MATCHSTR>>`` by the
part of the name the wildcards matched and ``<<MATCHSEGn>>`` by what the n-th wildcard matched.
The fields are those of the results at that point, known here from the compilation state.
"""

from __future__ import annotations

import re

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.basic import expand
from huntbook.query.spl.compiler.state import State


def compile_foreach(cmd: ast.Foreach, state: State) -> State:
    from huntbook.query.spl.compiler import compile_commands
    from huntbook.query.spl.parser import parse

    if state.dynamic:
        raise UnsupportedSplError(
            "foreach after a command whose fields are known only at run time (chart/timechart "
            "BY) is not supported",
            state.ctx.text,
            cmd.pos,
        )
    candidates = [f.name for f in state.visible()]
    for pattern in cmd.fields:
        for name in expand((pattern,), candidates) if "*" in pattern else [pattern]:
            text = _instantiate(cmd, pattern, name)
            state = compile_commands(
                parse("| " + text.lstrip().removeprefix("|")), state.ctx, state
            )
    return state


def _instantiate(cmd: ast.Foreach, pattern: str, name: str) -> str:
    """The template with this field's name, match string and match segments put in."""
    regex = "".join(
        "(.*)" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern)
    )
    match = re.fullmatch(regex, name, re.DOTALL)
    segments = match.groups() if match else ()
    text = cmd.template.replace(cmd.fieldstr, name).replace(cmd.matchstr, "".join(segments))
    for placeholder, segment in zip(cmd.matchseg, segments, strict=False):
        text = text.replace(placeholder, segment)
    return text
