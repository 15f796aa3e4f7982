"""Sigma correlation rules over the hits of the rules they name (``event_count``,
``value_count``, ``temporal``, ``temporal_ordered``), with ``group-by`` and ``timespan``.

Windows are fixed buckets of ``timespan`` seconds aligned on the epoch (as Splunk's
``bin _time span=`` does in pySigma's Splunk backend), per group-by value combination; a bucket
whose count meets the condition is one correlation hit. ``temporal`` needs every named rule (or
the condition's count of them) to match in the bucket; ``temporal_ordered`` needs them in order.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

from huntbook.detect.mapping import load_mapping
from huntbook.detect.model import RAN, SKIPPED, Hit, Rule
from huntbook.errors import SigmaRuleError

SUPPORTED = {"event_count", "value_count", "temporal", "temporal_ordered"}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "eq": operator.eq,
    "neq": operator.ne,
}


def parse_correlation(document: dict[str, Any]) -> dict[str, Any]:
    """The parts of a correlation rule huntbook evaluates; SigmaRuleError when unsupported."""
    from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationRule
    from sigma.exceptions import SigmaError

    try:
        parsed = SigmaCorrelationRule.from_dict(document)
    except SigmaError as exc:
        raise SigmaRuleError(f"pySigma cannot parse the correlation: {exc}") from exc
    kind = parsed.type.name.lower()
    if kind not in SUPPORTED:
        raise SigmaRuleError(f"correlation type {kind} is not supported")
    if parsed.aliases.aliases:
        raise SigmaRuleError("correlation field aliases are not supported")
    names = load_mapping().common
    references = [r.reference for r in parsed.rules or []]
    condition = parsed.condition
    if condition is not None and not isinstance(condition, SigmaCorrelationCondition):
        raise SigmaRuleError("extended correlation conditions are not supported")
    field = condition.fieldref if condition is not None else None
    return {
        "type": kind,
        "rules": references,
        "group_by": [names.get(f, f) for f in parsed.group_by or []],
        "timespan": parsed.timespan.seconds,
        "op": condition.op.name.lower() if condition is not None else "gte",
        "count": condition.count if condition is not None else len(references),
        "field": names.get(field, field) if isinstance(field, str) else None,
    }


def link(rules: list[Rule]) -> None:
    """Resolve each correlation's rule references; the named rules also read its fields."""
    known = {key: r for r in rules if r.status == RAN for key in (r.id, r.name) if key}
    for rule in rules:
        spec = rule.correlation
        if rule.status != RAN or spec is None:
            continue
        missing = [ref for ref in spec["rules"] if ref not in known]
        if missing:
            rule.status = SKIPPED
            rule.reason = f"names rules not given or not run: {', '.join(missing)}"
            continue
        extra = [*spec["group_by"], *([spec["field"]] if spec["field"] else [])]
        for ref in spec["rules"]:
            base = known[ref]
            base.fields = sorted({*base.fields, *extra})


def correlate(rules: list[Rule], hits: Iterable[Hit]) -> list[Hit]:
    """The correlation hits of every correlation rule that ran (of ``hits``, only those of the
    rules a correlation names are held)."""
    known = {key: r for r in rules for key in (r.id, r.name) if key}
    wanted = {
        id(known[ref])
        for rule in rules
        if rule.status == RAN and rule.correlation is not None
        for ref in rule.correlation["rules"]
    }
    by_rule: dict[int, list[Hit]] = {}
    for hit in hits if wanted else ():
        if id(hit.rule) in wanted:
            by_rule.setdefault(id(hit.rule), []).append(hit)
    found: list[Hit] = []
    for rule in rules:
        if rule.status == RAN and rule.correlation is not None:
            named = [known[ref] for ref in rule.correlation["rules"]]
            events = [(i, h) for i, base in enumerate(named) for h in by_rule.get(id(base), [])]
            rule_hits = _evaluate(rule, rule.correlation, events)
            rule.hits = len(rule_hits)
            found.extend(rule_hits)
    return found


def _evaluate(rule: Rule, spec: dict[str, Any], events: list[tuple[int, Hit]]) -> list[Hit]:
    buckets: dict[tuple[Any, ...], list[tuple[int, Hit]]] = {}
    span = spec["timespan"]
    for number, hit in events:
        start = int(float(hit.event["_time"]) // span * span)
        group = tuple(str(hit.event.get(f)) for f in spec["group_by"])
        buckets.setdefault((start, *group), []).append((number, hit))
    test = _OPS[spec["op"]]
    out = []
    for bucket, members in sorted(buckets.items(), key=lambda kv: str(kv[0])):
        value = _MEASURES[spec["type"]](spec, members)
        if test(value, spec["count"]):
            event = {"_time": bucket[0], **dict(zip(spec["group_by"], bucket[1:], strict=True))}
            event.update({"correlation": spec["type"], "value": value, "events": len(members)})
            out.append(Hit(rule, event))
    return out


def _event_count(spec: dict[str, Any], members: list[tuple[int, Hit]]) -> int:
    return len(members)


def _value_count(spec: dict[str, Any], members: list[tuple[int, Hit]]) -> int:
    return len({h.event.get(spec["field"]) for _, h in members} - {None})


def _temporal(spec: dict[str, Any], members: list[tuple[int, Hit]]) -> int:
    return len({number for number, _ in members})


def _temporal_ordered(spec: dict[str, Any], members: list[tuple[int, Hit]]) -> int:
    """How many of the named rules match one after another, in the order named."""
    times: dict[int, list[float]] = {}
    for number, hit in members:
        times.setdefault(number, []).append(float(hit.event["_time"]))
    last, matched = float("-inf"), 0
    for number in range(len(spec["rules"])):
        later = [t for t in times.get(number, []) if t >= last]
        if not later:
            break
        last, matched = min(later), matched + 1
    return matched


_MEASURES: dict[str, Callable[[dict[str, Any], list[tuple[int, Hit]]], int]] = {
    "event_count": _event_count,
    "value_count": _value_count,
    "temporal": _temporal,
    "temporal_ordered": _temporal_ordered,
}
