"""``huntbook detect``: Sigma rules run on the event store, every rule accounted for.

``run_detect`` converts the rule files (``convert``: pySigma parses, huntbook's pipeline names
the fields per log-source branch, ``compile`` turns the condition tree into a sqlglot predicate),
runs them grouped by log source (``scan``; on Spark, ``spark_scan``) and, with ``out``, writes
the reports (``report``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from huntbook.detect.model import LEVELS, RAN, SKIPPED, DetectResult, Rule

if TYPE_CHECKING:
    from huntbook.detect.cache import RuleCache
    from huntbook.detect.spool import HitSpool
    from huntbook.engines import EngineChoice
    from huntbook.engines.base import Limits
    from huntbook.store import Store

__all__ = ["DetectResult", "run_detect"]


def run_detect(
    store: Store,
    rule_paths: Iterable[str | os.PathLike[str]],
    *,
    index: str | None = None,
    level: str | None = None,
    tags: Sequence[str] = (),
    out: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    engine: EngineChoice | None = None,
    limits: Limits | None = None,
) -> DetectResult:
    """Run every Sigma rule under ``rule_paths`` on ``store``; with ``out``, write the reports.
    ``engine`` (default DuckDB) runs the rules' queries, within ``limits`` on Spark."""
    # loaded here, not when the CLI starts; pySigma only when a rule is not in the cache
    from huntbook.detect.cache import RuleCache, default_cache_dir
    from huntbook.detect.correlate import correlate, link
    from huntbook.detect.loader import load_rules
    from huntbook.detect.spool import HitSpool
    from huntbook.engines import EngineChoice

    started = time.perf_counter()
    rule_cache = RuleCache(cache or default_cache_dir())
    rules = load_rules(rule_paths, rule_cache)
    for rule in rules:
        _select(rule, level, [t.lower() for t in tags])
    link(rules)
    hits = HitSpool(rules)  # on disk, read back in time order
    choice = engine or EngineChoice()
    SCANS[choice.name](
        Scan(store, index, rule_cache, choice, limits),
        [r for r in rules if r.runs_on_events()],
        hits,
    )
    hits.add_last(correlate(rules, hits))
    result = DetectResult(rules, hits, time.perf_counter() - started)
    if out is not None:
        from huntbook.detect.report import write_reports

        write_reports(result, Path(out))
    return result


@dataclass(frozen=True)
class Scan:
    """What a scan runs on: the store, the ``--index``, the rules' cache and the engine."""

    store: Store
    index: str | None
    memo: RuleCache
    engine: EngineChoice
    limits: Limits | None


def _duckdb_scan(scan: Scan, rules: list[Rule], hits: HitSpool) -> None:
    from huntbook.detect.scan import Scanner

    Scanner(scan.store, scan.index, memo=scan.memo).run(rules, hits)


def _spark_scan(scan: Scan, rules: list[Rule], hits: HitSpool) -> None:
    from huntbook.detect.spark_scan import SparkScanner
    from huntbook.engines.spark import SparkEngine

    store, choice = scan.store, scan.engine
    spark = SparkEngine(store, master=choice.master, remote=choice.spark_remote, limits=scan.limits)
    SparkScanner(spark, store, scan.index, memo=scan.memo).run(rules, hits)


# The scan per engine name (``huntbook.engines.ENGINES``).
SCANS: dict[str, Callable[[Scan, list[Rule], HitSpool], None]] = {
    "duckdb": _duckdb_scan,
    "spark": _spark_scan,
}


def _select(rule: Rule, level: str | None, tags: list[str]) -> None:
    """Skip (with the reason) a rule below ``level`` or carrying none of ``tags``."""
    if rule.status != RAN:
        return
    if level is not None and _rank(rule.level) < _rank(level):
        rule.status, rule.reason = (
            SKIPPED,
            f"level {rule.level or 'unset'} is below --level {level}",
        )
    elif tags and not {t.lower() for t in rule.tags} & set(tags):
        rule.status, rule.reason = SKIPPED, f"none of the tags {', '.join(tags)}"
    if rule.status == SKIPPED:
        rule.predicate = rule.pending = None


def _rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else -1
