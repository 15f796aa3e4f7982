"""SPL AST -> one sqlglot SELECT over the table ``events``: one CTE per command.

``COMMANDS`` maps each command node to its compile function ``(node, state) -> state``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from huntbook.query.spl import ast
from huntbook.query.spl.compiler.basic import (
    compile_dedup,
    compile_eval,
    compile_fields,
    compile_fillnull,
    compile_head,
    compile_rename,
    compile_reverse,
    compile_search,
    compile_sort,
    compile_table,
    compile_tail,
    compile_where,
)
from huntbook.query.spl.compiler.charts import compile_bin, compile_chart, compile_timechart
from huntbook.query.spl.compiler.extract import (
    compile_convert,
    compile_fromjson,
    compile_makemv,
    compile_mvexpand,
    compile_regex,
    compile_replace,
    compile_rex,
    compile_spath,
    compile_xmlkv,
)
from huntbook.query.spl.compiler.foreach import compile_foreach
from huntbook.query.spl.compiler.iplocation import compile_iplocation
from huntbook.query.spl.compiler.search import predicate
from huntbook.query.spl.compiler.sources import (
    compile_append,
    compile_appendpipe,
    compile_inputlookup,
    compile_join,
    compile_lookup,
    compile_makeresults,
    compile_outputlookup,
    events_state,
)
from huntbook.query.spl.compiler.state import Context, State, alias
from huntbook.query.spl.compiler.stats import (
    compile_datamodel,
    compile_eventstats,
    compile_metadata,
    compile_stats,
    compile_streamstats,
    compile_top,
    compile_tstats,
)
from huntbook.query.spl.compiler.summaries import compile_addtotals, compile_fieldsummary
from huntbook.query.spl.compiler.transaction import compile_transaction
from huntbook.query.spl.compiler.values import col, lit

CompileFn = Callable[[Any, State], State]

COMMANDS: dict[type[ast.Command], CompileFn] = {
    ast.Search: compile_search,
    ast.Where: compile_where,
    ast.Eval: compile_eval,
    ast.Table: compile_table,
    ast.Fields: compile_fields,
    ast.Rename: compile_rename,
    ast.Sort: compile_sort,
    ast.Reverse: compile_reverse,
    ast.Head: compile_head,
    ast.Tail: compile_tail,
    ast.Dedup: compile_dedup,
    ast.Stats: compile_stats,
    ast.EventStats: compile_eventstats,
    ast.StreamStats: compile_streamstats,
    ast.Top: compile_top,
    ast.Rex: compile_rex,
    ast.Regex: compile_regex,
    ast.Transaction: compile_transaction,
    ast.Metadata: compile_metadata,
    ast.Bin: compile_bin,
    ast.Timechart: compile_timechart,
    ast.Chart: compile_chart,
    ast.FillNull: compile_fillnull,
    ast.MvExpand: compile_mvexpand,
    ast.MakeMv: compile_makemv,
    ast.Spath: compile_spath,
    ast.Join: compile_join,
    ast.Append: compile_append,
    ast.Lookup: compile_lookup,
    ast.InputLookup: compile_inputlookup,
    ast.MakeResults: compile_makeresults,
    ast.Convert: compile_convert,
    ast.TStats: compile_tstats,
    ast.Foreach: compile_foreach,
    ast.XmlKv: compile_xmlkv,
    ast.Replace: compile_replace,
    ast.AppendPipe: compile_appendpipe,
    ast.DataModel: compile_datamodel,
    ast.AddTotals: compile_addtotals,
    ast.FieldSummary: compile_fieldsummary,
    ast.FromJson: compile_fromjson,
    ast.OutputLookup: compile_outputlookup,
    ast.IpLocation: compile_iplocation,
}

#: Commands that create fields from the data: they create only the names later commands read.
_READS_AHEAD = (ast.Transaction, ast.XmlKv, ast.Spath, ast.FromJson)


def compile_commands(
    pipeline: ast.Pipeline, ctx: Context, state: State, limit: int | None = None
) -> State:
    """Compile each command; the last one sees the run's row ``limit`` (``ctx.row_limit``) so a
    command that builds rows (timechart's buckets) can stop at it."""
    commands = pipeline.commands
    for i, cmd in enumerate(commands):
        ctx.needed = needed_after(commands[i + 1 :]) if isinstance(cmd, _READS_AHEAD) else None
        ctx.row_limit = limit if i == len(commands) - 1 else None
        state = COMMANDS[type(cmd)](cmd, state)
    ctx.needed = None
    ctx.row_limit = None
    return state


_PROJECTING = (
    ast.Table,
    ast.Stats,
    ast.Top,
    ast.Chart,
    ast.Timechart,
    ast.TStats,
    ast.FieldSummary,
)


def needed_after(commands: tuple[ast.Command, ...]) -> set[str] | None:
    """Names later commands may read, up to the first command that projects (table, stats...).

    Over-approximates on purpose (every string in those commands counts), so it is safe; None
    means "everything" (no projecting command, or a wildcard). A ``rename`` with wildcards
    (``rename RuleAndFileData.* as *``) is read backwards: a later name its target pattern
    matches needs the source name it came from. It lets transaction skip merging the hundreds
    of fields nothing reads, which keeps it fast on wide stores.
    """
    names: set[str] = set()
    renames: list[tuple[str, str]] = []
    for cmd in commands:
        if isinstance(cmd, ast.Rename):
            renames.extend(cmd.pairs)
            _strings([p for pair in cmd.pairs for p in pair if "*" not in p], names)
        else:
            _strings(cmd, names)
        if isinstance(cmd, _PROJECTING) or (isinstance(cmd, ast.Fields) and not cmd.remove):
            if any("*" in n for n in names):
                return None
            return names | _renamed_from(renames, names)
    return None


def _renamed_from(renames: list[tuple[str, str]], names: set[str]) -> set[str]:
    """The source names wildcard renames turned into ``names`` (latest rename first)."""
    found = set(names)
    for old, new in reversed(renames):
        if "*" not in new:
            continue
        pattern = re.compile("^" + "(.*)".join(re.escape(p) for p in new.split("*")) + "$")
        for name in list(found):
            match = pattern.match(name)
            pieces = old.split("*")
            if match and len(pieces) == len(match.groups()) + 1:
                filled = [p for pair in zip(pieces, match.groups(), strict=False) for p in pair]
                found.add("".join([*filled, pieces[-1]]))
    return found - names


def _strings(node: object, out: set[str]) -> None:
    if isinstance(node, ast.SearchValue):
        return  # the value of a search clause is never a field name (`x IN ("*http*")`)
    if isinstance(node, str):
        out.add(node)
    elif isinstance(node, tuple | list):
        for item in node:
            _strings(item, out)
    elif hasattr(node, "__dataclass_fields__"):
        for name in node.__dataclass_fields__:
            _strings(getattr(node, name), out)


def build_base(
    ctx: Context,
    schema: dict[str, str],
    bounds: list[ast.TimeBound],
    columns: dict[str, str] | None = None,
) -> State:
    """The events relation, restricted to the run's earliest/latest when given."""
    state = events_state(ctx, schema, columns)
    if bounds:
        tests = [predicate(b, state) for b in bounds]
        state = state.then(state.select_from(exp.Star()).where(exp.and_(*tests, copy=False)))
    return state


def final_select(state: State, limit: int | None) -> exp.Select:
    """Project the visible fields under their SPL names, in the pipeline's order."""
    projections: list[exp.Expr] = [alias(col(f.sql), f.name) for f in state.visible()]
    if state.dynamic or not projections:
        projections = [exp.Star()]
    select = state.select_from(*projections)
    if state.order:
        select = select.order_by(*state.order_by(), copy=False)
    if limit is not None:
        select = select.limit(lit(limit), copy=False)
    with_ = state.ctx.with_clause(copy=False)
    if with_ is not None:
        select.set("with_", with_)
    return select


__all__ = ["COMMANDS", "Context", "build_base", "compile_commands", "final_select"]
