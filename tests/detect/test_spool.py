"""Hits spooled to disk: read back in the reports' order, and a run's memory does not hold them."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest
from tests.detect.events import sysmon_event

from huntbook.detect import run_detect, scan, spool
from huntbook.detect.model import Hit, Rule
from huntbook.detect.spool import HitSpool, order
from huntbook.store.testing import make_store


@pytest.mark.parametrize("run", [1, 3, 1_000])
def test_reading_back_is_one_stable_sort_of_every_hit(run: int) -> None:
    rules = [Rule(path="r.yml", id=str(n), title=f"rule {n % 3}") for n in range(6)]
    shuffle = random.Random(run)
    jobs = [
        [Hit(shuffle.choice(rules), {"_time": shuffle.choice([None, 1, 2, 3]), "n": n}) for n in a]
        for a in (range(0, 40), range(40, 45), range(45, 90))
    ]
    last = [Hit(rules[0], {"_time": 2, "n": 90}), Hit(rules[5], {"_time": None, "n": 91})]
    hits = HitSpool(rules, run=run)
    for number in (2, 0, 1):  # threads finish in any order: the job's number places it
        hits.write((0, number, -1), iter(jobs[number]))
    hits.add_last(last)
    expected = sorted([h for job in jobs for h in job] + last, key=order)
    assert [(h.rule.id, h.event["n"]) for h in hits] == [
        (h.rule.id, h.event["n"]) for h in expected
    ]
    assert len(hits) == 92
    assert [h.event["n"] for h in hits][:3] == [h.event["n"] for h in expected][:3]  # re-readable


def test_a_failed_query_leaves_nothing_spooled() -> None:
    rule = Rule(path="r.yml", id="1", title="t")

    def broken() -> object:
        yield Hit(rule, {"_time": 1})
        raise RuntimeError("the query failed half-way")

    hits = HitSpool([rule], run=1)
    with pytest.raises(RuntimeError):
        hits.write((0, 0, -1), broken())  # type: ignore[arg-type]
    hits.drop((0, 0, -1))
    assert (len(hits), list(hits)) == (0, [])


def test_a_failed_rule_has_no_hits_whichever_queries_spooled_them() -> None:
    """A rule failed on one view of the store's files loses the hits other views found."""
    kept, failed = (Rule(path="r.yml", id=str(n), title=f"t{n}") for n in range(2))
    hits = HitSpool([kept, failed], run=2)
    for view in range(3):
        hits.write((view, 0, -1), iter([Hit(kept, {"_time": view}), Hit(failed, {"_time": 9})]))
    assert (len(hits), hits.count(kept), hits.count(failed)) == (6, 3, 3)
    hits.fail(failed)
    assert (len(hits), hits.count(kept), hits.count(failed)) == (3, 3, 0)
    assert [(h.rule.id, h.event["_time"]) for h in hits] == [("0", 0), ("0", 1), ("0", 2)]


RULE = """
title: Big Command
id: 00000000-0000-0000-0000-0000000000d1
logsource: {product: windows, category: process_creation}
detection: {a: {CommandLine|contains: whoami}, condition: a}
level: high
"""


def test_detect_memory_does_not_hold_the_hits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 hits of 200 KB each (40 MB): a run holds a few at a time, not all of them."""
    monkeypatch.setattr(spool, "RUN", 4)
    monkeypatch.setattr(scan, "FETCH", 4)
    events = [sysmon_event(n, CommandLine=f"whoami {n} " + "x" * 200_000) for n in range(200)]
    store = make_store(tmp_path / "store", events)
    del events
    (tmp_path / "rule.yml").write_text(RULE)
    cache = tmp_path / "cache"
    run_detect(store, [tmp_path / "rule.yml"], cache=cache)  # converts the rule: not measured
    tracemalloc.start()
    try:
        result = run_detect(store, [tmp_path / "rule.yml"], cache=cache, out=tmp_path / "out")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(result.hits) == 200
    assert peak < 12 * 2**20, peak
    lines = (tmp_path / "out" / "detections.jsonl").read_text().splitlines()
    assert [line[line.index("whoami") :][:10] for line in lines[:2]] == ["whoami 0 x", "whoami 1 x"]


def test_reading_back_opens_at_most_fan_in_run_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of runs (a store of thousands of files) must not open thousands of files at once
    (a common limit is 1,024 per process): over ``FAN_IN`` they are merged into files first, and
    the order is still one stable sort."""
    monkeypatch.setattr(spool, "FAN_IN", 3)
    rules = [Rule(path="r.yml", id=str(n), title="t") for n in range(2)]
    shuffle = random.Random(7)
    made = [Hit(rules[n % 2], {"_time": shuffle.choice([1, 2, 3]), "n": n}) for n in range(40)]
    hits = HitSpool(rules, run=1)
    for number, hit in enumerate(made):  # 40 runs of one hit each
        hits.write((0, number, -1), iter([hit]))
    hits.fail(rules[1])
    fds = Path("/proc/self/fd")
    before = len(list(fds.iterdir())) if fds.exists() else 0
    reading = iter(hits)
    first = next(reading)
    if fds.exists():
        assert len(list(fds.iterdir())) - before <= 3
    expected = sorted([h for h in made if h.rule is rules[0]], key=order)
    assert [first.event["n"], *(h.event["n"] for h in reading)] == [h.event["n"] for h in expected]
