"""Terms on fields a group's events cannot hold, decided before DuckDB plans the query: the folded
predicate gives what DuckDB gives for the original on every row (three-valued logic included)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp
from tests.detect.events import sysmon_event

from huntbook.detect import run_detect
from huntbook.detect.fold import absent_columns, fold, share
from huntbook.query.spl.compiler.values import (
    any_element,
    col,
    fn,
    is_null,
    lit,
    not_null,
    null_safe_not,
    try_double,
)
from huntbook.store.testing import make_store

ABSENT = absent_columns(["X", "L"])  # X text, L a list: NULL on every row


def x() -> exp.Expr:
    return col("l:X")


def y() -> exp.Expr:
    return col("l:Y")


def on_x() -> exp.Expr:
    return fn("contains", x(), lit("a"))


def on_y() -> exp.Expr:
    return fn("contains", y(), lit("a"))


def in_list() -> exp.Expr:
    return any_element(col("v:L"), exp.EQ(this=exp.column("__v"), expression=lit("a")), "__v")


def x_is(value: str) -> exp.Expr:
    return exp.EQ(this=x(), expression=lit(value))


PREDICATES = {
    "term": on_x,
    "not": lambda: null_safe_not(on_x()),
    "plain not": lambda: exp.Not(this=x_is("a")),
    "is null": lambda: is_null(col("v:X")),
    "exists": lambda: not_null(col("v:X")),
    "exists false": lambda: exp.Not(this=not_null(col("v:X"))),
    "or": lambda: exp.or_(on_x(), on_y()),
    "and": lambda: exp.and_(on_x(), on_y()),
    "not of or": lambda: null_safe_not(exp.or_(on_x(), on_y())),
    "not of and": lambda: null_safe_not(exp.and_(on_x(), on_y())),
    "plain not of and": lambda: exp.Not(this=exp.and_(on_y(), x_is("a"))),
    "plain not of or": lambda: exp.Not(this=exp.or_(on_y(), x_is("a"))),
    "list": in_list,
    "not list": lambda: null_safe_not(in_list()),
    "compare": lambda: exp.GT(this=try_double(col("v:X")), expression=lit(3)),
    "like": lambda: exp.Like(this=x(), expression=lit("%a%")),
    "regex": lambda: exp.RegexpLike(this=x(), expression=lit("a|b")),
    "fieldref": lambda: exp.EQ(this=x(), expression=y()),
    "coalesce kept": lambda: exp.EQ(
        this=exp.Coalesce(this=x(), expressions=[lit("d")]), expression=lit("d")
    ),
    "mixed": lambda: exp.or_(exp.and_(on_y(), null_safe_not(on_x())), is_null(col("v:X")), on_x()),
}


@pytest.fixture(scope="module")
def rows() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (NULL, NULL, NULL, NULL, NULL, NULL), "
        "(NULL, NULL, 'a', NULL, NULL, NULL), (NULL, NULL, 'b', NULL, NULL, NULL)) "
        'v("v:X", "l:X", "l:Y", "v:L", "n:X", "x:X")'
    )
    con.execute('ALTER TABLE t ALTER "v:L" TYPE VARCHAR[]')
    con.execute('ALTER TABLE t ALTER "v:X" TYPE VARCHAR')
    con.execute('ALTER TABLE t ALTER "l:X" TYPE VARCHAR')
    return con


def _values(con: duckdb.DuckDBPyConnection, predicate: exp.Expr) -> list[object]:
    query = exp.select(predicate.copy()).from_("t")
    return [row[0] for row in con.execute(query.sql(dialect="duckdb")).fetchall()]


@pytest.mark.parametrize("name", sorted(PREDICATES))
def test_folded_gives_what_duckdb_gives(rows: duckdb.DuckDBPyConnection, name: str) -> None:
    predicate = PREDICATES[name]()
    exact = fold(predicate, ABSENT, falsy=False)
    assert _values(rows, exact) == _values(rows, predicate)
    as_match = fold(predicate, ABSENT)  # where NULL reads as FALSE: the rule's own match
    matched = [v is True for v in _values(rows, predicate)]
    assert [v is True for v in _values(rows, as_match)] == matched


def test_what_folds_and_what_is_left() -> None:
    assert fold(on_x(), ABSENT) == exp.false()
    assert fold(null_safe_not(on_x()), ABSENT) == exp.true()
    assert fold(exp.Not(this=not_null(col("v:X"))), ABSENT) == exp.true()
    live = on_y()
    assert fold(exp.or_(on_x(), live, copy=False), ABSENT) is live  # the live term, not a copy
    kept = PREDICATES["coalesce kept"]()
    assert fold(kept, ABSENT) is kept
    assert fold(exp.Not(this=x_is("a")), ABSENT) == exp.Null()  # NOT NULL is NULL


def test_shared_terms_are_computed_once_with_the_same_values(
    rows: duckdb.DuckDBPyConnection,
) -> None:
    def starts() -> exp.Expr:
        return fn("starts_with", y(), lit("b"))

    trees = [
        exp.and_(on_y(), null_safe_not(starts())),
        exp.or_(starts(), x_is("a")),
        on_y(),
        exp.Not(this=x_is("a")),
    ]
    rewritten, terms = share([t.copy() for t in trees], lambda n: f"t:{n}")
    assert terms == [on_y(), starts(), x_is("a")]  # each found twice; in order of first use
    assert rewritten[2] == exp.column("t:0", quoted=True)
    assert [t.sql() for t in rewritten[:2]] == [
        '"t:0" AND NOT COALESCE("t:1", FALSE)',
        '"t:1" OR "t:2"',
    ]
    with_terms = exp.select(
        exp.Star(), *(exp.alias_(t, f"t:{n}", quoted=True) for n, t in enumerate(terms))
    ).from_("t")
    for tree, new in zip(trees, rewritten, strict=True):
        query = exp.select(new).from_(exp.Subquery(this=with_terms.copy(), alias="s"))
        got = [r[0] for r in rows.execute(query.sql(dialect="duckdb")).fetchall()]
        assert got == _values(rows, tree)


RULE = """
title: {title}
id: {id}
logsource: {{product: windows, category: process_creation}}
detection:
  sel: {{CommandLine|contains: whoami}}
  other: {other}
  condition: {condition}
"""
CASES = {  # title -> (the detection over Foo, a field no event has; condition; hits)
    "missing field matches nothing": ("{Foo|contains: x}", "other", 0),
    "not of a missing field holds": ("{Foo: x}", "sel and not other", 1),
    "null matches a missing field": ("{Foo: null}", "sel and other", 1),
    "exists false holds": ("{Foo|exists: false}", "sel and other", 1),
    "exists true does not": ("{Foo|exists: true}", "sel and other", 0),
    "or keeps the live side": ("{Foo|startswith: x}", "sel or other", 1),
}


def test_rules_on_a_field_the_store_lacks(tmp_path: Path) -> None:
    event = sysmon_event(CommandLine="cmd /c whoami")
    store = make_store(tmp_path / "store", [event])
    folder = tmp_path / "rules"
    folder.mkdir()
    for n, (title, (other, condition, _)) in enumerate(CASES.items()):
        text = RULE.format(
            title=title, id=f"00000000-0000-0000-0000-{n:012d}", other=other, condition=condition
        )
        (folder / f"{n}.yml").write_text(textwrap.dedent(text))
    result = run_detect(store, [folder], cache=tmp_path / "cache")
    got = {r.title: (r.status, r.hits) for r in result.rules}
    assert got == {title: ("ran", hits) for title, (_, _, hits) in CASES.items()}
