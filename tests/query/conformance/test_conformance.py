"""SPL conformance suite: every YAML case here pins one documented rule of spl.md / Splunk's docs.

A case file holds optional file-level ``events`` and ``lookups`` and a list of ``cases``. A case
has ``name``, ``rule`` (the rule it pins, citing the spl.md section and Splunk doc key), ``spl``,
optional ``events`` (normalized events, docs/architecture.md section 1), optional ``generate``
(``{count: N, fields: {...}}``: N events with ``i`` = 0..N-1, one second apart) and ``expect``:
rows (in order unless ``ordered: false``), or ``{count: N}``, or ``{error: regex}``. ``project``
compares only the listed fields, ``columns`` pins the result columns in order, ``exact: true``
compares numbers exactly (for rules about printed precision), and ``xfail`` marks a documented
deviation (reported, not hidden).

Expected values come from the documented rules, never from running the engine. Comparison is
representation-tolerant where SPL itself has no distinction: a number equals its decimal text, a
one-element multivalue equals its single value, and a missing field equals null.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
DEFAULTS = {"index": "main", "host": "h1", "source": "test", "sourcetype": "test"}
CORE_KEYS = {"_time", "_raw", "_cd", "index", "host", "source", "sourcetype"}
REL_TIME = re.compile(r"^(now|@d)([+-]\d+(?:\.\d+)?)?$")
CASE_KEYS = {
    "name",
    "rule",
    "spl",
    "events",
    "generate",
    "lookups",
    "macros",
    "expect",
    "ordered",
    "project",
    "columns",
    "exact",
    "xfail",
}
RULE_TAG = re.compile(r"spl\.md|\[S-[\w -]+|issue 3|architecture\.md")


# --- loading --------------------------------------------------------------------------------------
def _load_cases() -> Iterator[Any]:
    for path in sorted(HERE.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            case = {**case}
            case.setdefault("events", doc.get("events", []))
            case.setdefault("lookups", doc.get("lookups", {}))
            case.setdefault("macros", doc.get("macros", {}))
            case["file"] = path.stem
            marks = [pytest.mark.xfail(reason=case["xfail"])] if "xfail" in case else []
            yield pytest.param(case, id=f"{path.stem}/{case['name']}", marks=marks)


CASES = list(_load_cases())


# --- events ---------------------------------------------------------------------------------------
def _resolve_time(value: Any) -> float:
    """`_time` as epoch seconds; "now-N" / "@d+N" are relative to the wall clock / UTC midnight."""
    if isinstance(value, (int, float)):
        return float(value)
    match = REL_TIME.match(str(value).replace(" ", ""))
    if not match:
        raise ValueError(f"bad _time {value!r}")
    now = time.time()
    base = now if match.group(1) == "now" else now - now % 86400
    return base + float(match.group(2) or 0)


def _text(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def _normalize_event(raw: dict[str, Any]) -> dict[str, Any]:
    """Make a YAML event a normalized event: text values, default fields, a _raw when none given."""
    event: dict[str, Any] = {k: _text(v) for k, v in raw.items() if k != "_time"}
    event["_time"] = _resolve_time(raw["_time"])
    for key, value in DEFAULTS.items():
        event.setdefault(key, value)
    if "_raw" not in event:
        pairs = [
            f"{k}={' '.join(v) if isinstance(v, list) else v}"
            for k, v in event.items()
            if k not in CORE_KEYS
        ]
        event["_raw"] = " ".join(pairs)
    return event


def _generated(spec: dict[str, Any]) -> list[dict[str, Any]]:
    fields = spec.get("fields", {})
    return [{"_time": 1500000000 + i, "i": i, **fields} for i in range(int(spec["count"]))]


def case_events(case: dict[str, Any]) -> list[dict[str, Any]]:
    raw = _generated(case["generate"]) if "generate" in case else case["events"]
    return [_normalize_event(e) for e in raw]


# --- comparison -----------------------------------------------------------------------------------
def _unwrap(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        items = [_unwrap(v) for v in value]
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def values_equal(expected: Any, actual: Any) -> bool:
    expected, actual = _unwrap(expected), _unwrap(actual)
    if isinstance(expected, list) or isinstance(actual, list):
        if not (isinstance(expected, list) and isinstance(actual, list)):
            return False
        return len(expected) == len(actual) and all(map(values_equal, expected, actual))
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, (int, float)) or isinstance(actual, (int, float)):
        a, b = _as_number(expected), _as_number(actual)
        if a is not None and b is not None:
            return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return str(expected) == str(actual)


def _present(row: dict[str, Any], project: list[str] | None) -> dict[str, Any]:
    keys = project if project is not None else list(row)
    return {k: row.get(k) for k in keys if _unwrap(row.get(k)) is not None}


def rows_equal(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    exp = {k: v for k, v in expected.items() if _unwrap(v) is not None}
    return exp.keys() == actual.keys() and all(values_equal(exp[k], actual[k]) for k in exp)


def _unordered_match(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> bool:
    left = list(actual)
    for row in expected:
        hit = next((i for i, a in enumerate(left) if rows_equal(row, a)), None)
        if hit is None:
            return False
        left.pop(hit)
    return not left


def _show(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=1, default=str, ensure_ascii=False)


def check_rows(case: dict[str, Any], actual_rows: list[dict[str, Any]]) -> None:
    expected = case["expect"]
    actual = [_present(r, case.get("project")) for r in actual_rows]
    if case.get("ordered", True):
        same = len(expected) == len(actual) and all(map(rows_equal, expected, actual))
    else:
        same = _unordered_match(expected, actual)
    assert same, f"rule: {case['rule']}\nexpected:\n{_show(expected)}\nactual:\n{_show(actual)}"
    if case.get("exact"):
        _check_exact(case, expected, actual)


def _check_exact(
    case: dict[str, Any], expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> None:
    """Numbers as printed: 72.127329 is not 72.12732919254658 (in order rows only)."""
    for want, got in zip(expected, actual, strict=True):
        for key, value in want.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert _as_number(got.get(key)) == float(value), (
                    f"rule: {case['rule']}\n{key}: expected exactly {value!r}, got {got.get(key)!r}"
                )


# --- running --------------------------------------------------------------------------------------
LOOKUP_DIRS = ("lookups",)
MACRO_DIR = "macros"  # file-level `macros`: files written into the store's macros/ folder


@pytest.fixture(scope="session")
def store_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Stores keyed by their content, so the many cases sharing a file's events share one store."""
    return {"root": tmp_path_factory.mktemp("conformance"), "stores": {}}


def build_store(
    cache: dict[str, Any],
    events: list[dict[str, Any]],
    lookups: dict[str, str],
    macros: dict[str, str] | None = None,
):
    from huntbook.store.testing import make_store

    payload = json.dumps([events, lookups, macros], sort_keys=True, default=str).encode()
    key = hashlib.sha256(payload).hexdigest()[:16]
    if key not in cache["stores"]:
        path = cache["root"] / key
        store = make_store(path, events)
        for name, text in lookups.items():
            for sub in LOOKUP_DIRS:
                (path / sub).mkdir(parents=True, exist_ok=True)
                (path / sub / name).write_text(text, encoding="utf-8")
        for name, text in (macros or {}).items():
            (path / MACRO_DIR).mkdir(parents=True, exist_ok=True)
            (path / MACRO_DIR / name).write_text(text, encoding="utf-8")
        cache["stores"][key] = store
    return cache["stores"][key]


@pytest.mark.parametrize("case", CASES)
def test_conformance(case: dict[str, Any], store_cache: dict[str, Any]) -> None:
    from huntbook.errors import HuntbookError
    from huntbook.query import run_spl

    store = build_store(store_cache, case_events(case), case["lookups"], case["macros"])
    expect = case["expect"]
    if isinstance(expect, dict) and "error" in expect:
        with pytest.raises(HuntbookError, match=expect["error"]):
            run_spl(store, case["spl"]).rows()
        return
    result = run_spl(store, case["spl"])
    rows = result.rows()
    if "columns" in case:
        assert list(result.columns) == case["columns"], f"rule: {case['rule']}"
    if isinstance(expect, dict):
        assert len(rows) == expect["count"], f"rule: {case['rule']}\n{_show(rows)}"
        return
    check_rows(case, rows)


# --- the suite itself -----------------------------------------------------------------------------
def test_cases_are_well_formed() -> None:
    """Every case names its rule with a source, uses known keys, and has a unique name."""
    seen: set[str] = set()
    for param in CASES:
        case = param.values[0]
        assert set(case) - {"file"} <= CASE_KEYS, (case["name"], set(case) - CASE_KEYS)
        assert RULE_TAG.search(case["rule"]), f"{case['name']}: rule cites no source"
        key = f"{case['file']}/{case['name']}"
        assert key not in seen, f"duplicate case {key}"
        seen.add(key)
        assert isinstance(case["expect"], (list, dict)), case["name"]
    assert len(CASES) >= 150


def test_comparison_is_strict_where_it_matters() -> None:
    """The tolerant comparison still tells different answers apart."""
    assert values_equal(3, "3") and values_equal(["a"], "a") and values_equal(2.25, 2.2500000001)
    assert not values_equal("10", "1.0") and values_equal(10, "10.0")
    assert not values_equal(["a", "b"], ["b", "a"])
    assert not values_equal("abc", "ABC")
    assert not rows_equal({"a": 1}, {"a": 1, "b": 2})
    assert not _unordered_match([{"a": 1}], [{"a": 1}, {"a": 1}])
