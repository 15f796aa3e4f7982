"""The rules of methods.yaml as engine filters: which events a rule could match, decided in SQL.

Why: on a store of millions of events almost every network logon and process start is ordinary;
fetching them all into Python to test each rule there made the lateral-movement analytic cost
seconds per million events and memory in proportion. ``rule_filter`` turns one rule into a filter
the engine runs, so only the events some rule can match (and the logons they belong to) come to
Python, where ``Rule.matches`` still decides, exactly as before.

A filter is never narrower than ``Rule.matches`` (a condition the engine cannot run exactly is left
to Python): file names are cut and lower-cased as ``methods._file_name`` does; substrings are
searched in the lower-cased value; event kinds are the EventCodes ``sessions.KIND_OF`` gives the
kind; a ``match`` pattern runs in the engine (RE2) only when RE2 reads it as Python's ``re`` does
(``engine_pattern``), else Python alone tests it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from re import _constants as sre_constants  # type: ignore[attr-defined]  # re's own parser
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from sqlglot import exp

from huntbook.analytics._sql import Candidate, Columns, text
from huntbook.analytics.methods import FIELD_OF, Rule
from huntbook.analytics.sessions import KIND_OF

# event kind -> its EventCodes (a logon rule's event is the 4624 itself)
KIND_CODES: dict[str, tuple[str, ...]] = {
    **{kind: tuple(c for c, k in KIND_OF.items() if k == kind) for kind in set(KIND_OF.values())},
    "logon": ("4624",),
}
Fields = Mapping[str, Sequence[Candidate]]

# constructs RE2 reads differently from Python (Unicode classes, \b) or not at all (look-around,
# back-references, conditionals)
_FOREIGN = {
    sre_constants.ASSERT,
    sre_constants.ASSERT_NOT,
    sre_constants.GROUPREF,
    sre_constants.GROUPREF_EXISTS,
    sre_constants.CATEGORY,
    sre_constants.AT_BOUNDARY,
    sre_constants.AT_NON_BOUNDARY,
    sre_constants.AT_END,
}
_FINAL_END = (sre_constants.AT, sre_constants.AT_END)


def _opcodes(node: Any) -> Iterator[Any]:
    """Every opcode in a parsed pattern, nested ones included."""
    if isinstance(node, sre_parse.SubPattern):
        node = node.data
    if isinstance(node, type(sre_constants.AT)):
        yield node
    elif isinstance(node, tuple | list):
        for part in node:
            yield from _opcodes(part)


def engine_pattern(pattern: str) -> str | None:
    """The pattern as RE2 should run it to match what Python's ``re.search`` matches, or None
    when RE2 would read it differently. A final ``$`` (Python: the end, or before a final
    newline) becomes ``\\n?$``; ``$`` anywhere else, ``\\s``/``\\d``/``\\w`` (Unicode in Python),
    ``\\b``, look-around and back-references are left to Python."""
    body = list(sre_parse.parse(pattern).data)
    trailing_end = bool(body) and body[-1] == _FINAL_END
    if any(op in _FOREIGN for op in _opcodes(body[:-1] if trailing_end else body)):
        return None
    return pattern[:-1] + r"\n?$" if trailing_end else pattern


def _value(columns: Columns, fields: Fields, name: str) -> exp.Expr:
    return columns.get(*fields[name]) if name in fields else exp.Null()


def _lowered(columns: Columns, fields: Fields, name: str) -> exp.Expr:
    """The lower-cased value, '' when absent (what a rule reads from a missing field)."""
    value = exp.Lower(this=_value(columns, fields, name))
    return exp.Coalesce(this=value, expressions=[text("")])


def file_name(value: exp.Expr) -> exp.Expr:
    """The last part of a path, lower-cased (``/`` read as ``\\``), as ``methods._file_name``."""
    path = exp.func("replace", value, text("/"), text("\\"))
    last = exp.func(
        "list_extract", exp.func("string_split", path, text("\\")), exp.Literal.number(-1)
    )
    return exp.Lower(this=last)


def _any_of(column: exp.Expr, values: Sequence[str]) -> exp.Expr:
    return column.isin(*[text(v) for v in values]) if values else exp.false()


def name_tests(columns: Columns, rule: Rule, fields: Fields) -> list[exp.Expr]:
    """A rule's file-name and substring conditions as filters (cheap: one pass over a value)."""
    tests = []
    for key, names in rule.images.items():
        tests.append(_any_of(file_name(_value(columns, fields, FIELD_OF[key])), sorted(names)))
    for key, parts in rule.substrings.items():
        value = _lowered(columns, fields, FIELD_OF[key])
        tests.append(exp.or_(*[exp.func("contains", value, text(p)) for p in parts]))
    return tests


def rule_filter(columns: Columns, rule: Rule, fields: Fields, logon_type: str) -> exp.Expr:
    """Events ``rule`` could match; ``fields`` names where each field is read (the activity's or
    the logon's projection), ``logon_type`` the field a logon rule's ``logon_type`` tests."""
    tests = name_tests(columns, rule, fields)
    if rule.event:
        tests.append(_any_of(exp.column("EventCode", quoted=True), KIND_CODES.get(rule.event, ())))
    for name, pattern in rule.patterns:
        engine = engine_pattern(pattern.pattern)
        if engine is not None:
            tests.append(
                exp.RegexpLike(this=_lowered(columns, fields, name), expression=text(engine))
            )
    if rule.scope == "logon" and rule.logon_types:
        kind = exp.Coalesce(this=_value(columns, fields, logon_type), expressions=[text("")])
        tests.append(_any_of(kind, sorted(rule.logon_types)))
    return exp.and_(*tests) if tests else exp.true()


def any_rule(
    columns: Columns, rules: Sequence[Rule], fields: Fields, logon_type: str = ""
) -> exp.Expr:
    """Events at least one of ``rules`` could match (none: no event)."""
    if not rules:
        return exp.false()
    return exp.or_(*[rule_filter(columns, r, fields, logon_type) for r in rules])
