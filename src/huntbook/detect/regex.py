"""Sigma ``re`` values checked against RE2 (DuckDB's engine) when the rule is converted, so a
pattern RE2 cannot run (look-arounds, back-references) skips its rule with the reason."""

from __future__ import annotations

import functools

import duckdb
from sqlglot import exp

from huntbook.errors import SigmaRuleError
from huntbook.query.spl.compiler.values import lit


@functools.cache
def _checker() -> duckdb.DuckDBPyConnection:
    """One in-memory connection for the checks, opened on first use (not at import)."""
    return duckdb.connect()


def checked(pattern: str, flags: str) -> str:
    """``pattern`` with its flags as a leading ``(?ims)`` group; SigmaRuleError if RE2 rejects it.

    RE2 honours inline flags anywhere, ``(?i)`` inside a group included.
    """
    full = f"(?{flags}){pattern}" if flags else pattern
    probe = exp.select(exp.RegexpLike(this=lit(""), expression=lit(full)))
    try:
        _checker().execute(probe.sql(dialect="duckdb")).fetchall()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise SigmaRuleError(
            f"regular expression {pattern!r} does not run in RE2: {reason}"
        ) from exc
    return full
