"""Sigma text -> ``Rule``: parsed by pySigma, field names by huntbook's pipeline per branch, the
condition tree compiled to one predicate. Every document comes back, ready or with why not.
Imported only when a rule file is not in the cache (``huntbook.detect.loader``): pySigma is slow
to import.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sqlglot import exp

from huntbook.detect.compile import Compiled, compile_condition
from huntbook.detect.correlate import parse_correlation
from huntbook.detect.mapping import Mapping, load_mapping
from huntbook.detect.model import FAILED, SKIPPED, Rule
from huntbook.errors import SigmaRuleError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Top-level keys of documents that are not single-event rules, and why they do not run.
NOT_RULES = {
    "action": "rule collections (action: global/reset/repeat) are not supported",
    "filter": "Sigma filters (meta filters) are not supported",
}


def convert_text(path: str, text: str) -> list[Rule]:
    """Every rule of one Sigma file's text, converted (ready, skipped or failed)."""
    return list(_documents(path, text, load_mapping()))


def _documents(path: str, text: str, mapping: Mapping) -> Iterator[Rule]:
    try:
        documents = [d for d in yaml.load_all(text, Loader=_LOADER) if d is not None]  # noqa: S506
    except yaml.YAMLError as exc:
        yield Rule(path, "", Path(path).stem, status=FAILED, reason=f"not YAML: {exc}")
        return
    for document in documents:
        yield convert_document(path, document, mapping)


def convert_document(path: str, document: Any, mapping: Mapping) -> Rule:
    """One YAML document -> a ready, skipped or failed ``Rule``."""
    started = time.perf_counter()
    if not isinstance(document, dict):
        return Rule(
            path, "", Path(path).stem, status=FAILED, reason="not a Sigma rule (no mapping)"
        )
    rule = Rule(path, str(document.get("id", "")), str(document.get("title", Path(path).stem)))
    rule.name = str(document.get("name", ""))
    kind = next((k for k in NOT_RULES if k in document), None)
    if kind is not None:
        rule.status, rule.reason = SKIPPED, NOT_RULES[kind]
        return rule
    if "correlation" in document:
        return _correlation(rule, document)
    try:
        parsed = SigmaRule.from_dict(document)
    except SigmaError as exc:
        rule.status, rule.reason = FAILED, f"pySigma cannot parse it: {exc}"
        return rule
    _describe(rule, parsed)
    try:
        _compile(rule, parsed, mapping)
    except SigmaRuleError as exc:
        rule.status, rule.reason = SKIPPED, str(exc)
    except SigmaError as exc:
        rule.status, rule.reason = FAILED, f"pySigma cannot process it: {exc}"
    rule.seconds = time.perf_counter() - started
    return rule


def _correlation(rule: Rule, document: dict[str, Any]) -> Rule:
    rule.level = str(document.get("level", ""))
    rule.tags = [str(t) for t in document.get("tags") or []]
    rule.logsource = "correlation"
    try:
        rule.correlation = parse_correlation(document)
    except SigmaRuleError as exc:
        rule.status, rule.reason = SKIPPED, str(exc)
    return rule


def _describe(rule: Rule, parsed: SigmaRule) -> None:
    rule.level = parsed.level.name.lower() if parsed.level else ""
    rule.tags = [f"{t.namespace}.{t.name}" for t in parsed.tags]
    source = parsed.logsource
    parts = (
        ("product", source.product),
        ("category", source.category),
        ("service", source.service),
    )
    rule.logsource = " ".join(f"{k}:{v}" for k, v in parts if v)


def _compile(rule: Rule, parsed: SigmaRule, mapping: Mapping) -> None:
    branches = mapping.branches(parsed.logsource)
    if branches is None:
        raise SigmaRuleError(f"no log source mapping for {rule.logsource or 'an empty logsource'}")
    mapping.pipeline().apply(parsed)
    used = Compiled()
    conditions = [compile_condition(c.parsed, used) for c in parsed.detection.parsed_condition]
    rule.predicate = exp.or_(*conditions, copy=False) if len(conditions) > 1 else conditions[0]
    rule.branches = list(branches)
    rule.fields = sorted(used.fields)
    rule.lowered = sorted(used.lowered)
    rule.ipv4 = sorted(used.ipv4)
    rule.ipv6 = sorted(used.ipv6)
