"""``huntbook hunt lint``: every problem of a playbook, each with its line in the file.

On top of the loader's structural checks (sections, titles, fences, tables) lint compiles each query
with the SPL engine (placeholders stood in by a literal), and checks placeholder and data-need names
against the tables the runner uses, so what lint accepts is what the runner can do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from huntbook.errors import QueryError, SplSyntaxError, did_you_mean
from huntbook.hunts.loader import parse_file
from huntbook.hunts.model import Playbook, Query
from huntbook.hunts.pivots import fill, find_placeholders
from huntbook.hunts.problems import Collector, ErrorLevel, Problem
from huntbook.hunts.tables import DATA_NEED_ALIASES, PLACEHOLDER_ALIASES, canonical_need
from huntbook.normalize.types import CORE_COLUMNS, field_type
from huntbook.query import CompiledQuery, compile_spl

Compiler = Callable[[str], CompiledQuery]
STAND_IN = "placeholder"


def lint(
    path: str | os.PathLike[str],
    params: Mapping[str, str] | None = None,
    *,
    compiler: Compiler | None = None,
) -> list[Problem]:
    """Every problem of the playbook at ``path``, sorted by line (errors before warnings).

    Args:
        path: the playbook file.
        params: placeholder names the caller will pass with ``--param`` (not unknown then).
        compiler: ``spl -> anything`` raising ``SplSyntaxError``/``QueryError``; defaults to the
            SPL engine's ``compile_spl``.
    """
    playbook, collector = parse_file(path, ErrorLevel.WARN)
    check_playbook(playbook, collector, params or {}, compiler or default_compiler())
    return collector.check()


def check_playbook(
    playbook: Playbook,
    collector: Collector,
    params: Mapping[str, str],
    compiler: Compiler | None,
) -> None:
    """The checks beyond the loader's: data needs, placeholders, and (given a ``compiler``) SPL
    that compiles."""
    for need in playbook.data_needed:
        if canonical_need(need.name) is None:
            hint = did_you_mean(need.name, DATA_NEED_ALIASES)
            collector.error(
                need.line, "unknown-data-need", f"unknown data need '{need.name}'.{hint}"
            )
    if not playbook.techniques:
        collector.warning(playbook.title_line or 1, "no-attack", "no MITRE ATT&CK technique table")
    for technique in playbook.techniques:
        if not technique.ids:
            collector.warning(
                technique.line, "attack-id", f"technique '{technique.name}' has no T-number"
            )
    for query in playbook.queries:
        _check_placeholders(query, params, collector)
        if compiler is not None and query.spl.strip():
            _check_spl(query, compiler, collector)


def _check_placeholders(query: Query, params: Mapping[str, str], collector: Collector) -> None:
    for name, offset in find_placeholders(query.spl):
        if name in PLACEHOLDER_ALIASES or name in params:
            continue
        line = query.spl_line + query.spl.count("\n", 0, offset)
        hint = did_you_mean(name, PLACEHOLDER_ALIASES)
        collector.error(
            line,
            "unknown-placeholder",
            f"unknown placeholder <{name}> in query '{query.title}': nothing can fill it "
            f"(known: {', '.join(sorted(PLACEHOLDER_ALIASES))}; "
            f"or pass --param {name}=VALUE).{hint}",
        )


def _check_spl(query: Query, compiler: Compiler, collector: Collector) -> None:
    stand_ins = {name: STAND_IN for name, _ in find_placeholders(query.spl)}
    try:
        compiled = compiler(fill(query.spl, stand_ins))
    except SplSyntaxError as exc:
        line = query.spl_line + exc.line - 1
        collector.error(line, "spl", f"query '{query.title}': col {exc.col}: {exc.reason}")
    except QueryError as exc:
        collector.error(query.spl_line, "spl", f"query '{query.title}': {exc}")
    else:
        for warning in compiled.warnings:
            collector.warning(query.spl_line, "spl-warning", f"query '{query.title}': {warning}")


def default_compiler() -> Compiler:
    """The engine's ``compile_spl`` on the core columns (other fields compile to NULL)."""
    core = {name: field_type(name) for name in CORE_COLUMNS}
    return lambda text: compile_spl(text, dict(core))
