"""Compilation state: the fields visible at a point of the pipeline, and the row order.

Every command turns one ``State`` into the next by adding a CTE. Fields map SPL names (case
sensitive) to internal column names that are unique *case-insensitively*, because DuckDB folds
identifier case (``User`` and ``user`` would collide). Hidden helper columns start with ``__``.
The row order is explicit (spl.md §7b): SQL subqueries have no order, so every order-sensitive
command (head, dedup, transaction, first() ...) uses ``State.order`` and the final SELECT
re-applies it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from sqlglot import exp

from huntbook.engines.grid import GridCheck
from huntbook.errors import QueryError
from huntbook.query.spl.compiler.runtime import LookupWrite, PythonFunction, RowCheck
from huntbook.query.spl.compiler.values import NULL, Val, col, null_val


def fresh_name(base: str, used: set[str]) -> str:
    """``base`` (``f``-prefixed if it starts with ``__``, kept for hidden columns), numbered
    ``__2``, ``__3``... until no name in ``used`` (lower-cased) folds to it."""
    base = f"f{base}" if base.startswith("__") else base
    candidate = base
    n = 2
    while candidate.lower() in used:
        candidate = f"{base}__{n}"
        n += 1
    return candidate


def aliased_table(name: str, as_: str | exp.Identifier) -> exp.Table:
    """``name AS as_``: a stage (or the events view) under a join alias."""
    alias_id = as_ if isinstance(as_, exp.Identifier) else exp.to_identifier(as_)
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=alias_id))


def columns_equal(left: str, right: str, names: list[str]) -> exp.Expr:
    """``left.n = right.n AND ...`` for each name: a join on equal columns."""
    return exp.and_(
        *[
            exp.EQ(
                this=exp.column(n, table=left, quoted=True),
                expression=exp.column(n, table=right, quoted=True),
            )
            for n in names
        ],
        copy=False,
    )


def reserve_name(base: str, taken: set[str]) -> str:
    """``fresh_name`` for ``taken``, and added to it."""
    candidate = fresh_name(base, taken)
    taken.add(candidate.lower())
    return candidate


class Field(NamedTuple):
    """A field: its SPL name, its internal column, its kind (a NamedTuple: built by the hundred)."""

    name: str  # the SPL field name
    sql: str  # the internal column name
    kind: str  # text | int | num | list


@dataclass
class Context:
    """Shared by every stage of one compilation (and its subsearches)."""

    text: str
    now: float
    lookup_dirs: tuple[str, ...] = ()
    ctes: list[tuple[str, exp.Expr]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    base: State | None = None  # the events relation (subsearches start from it)
    recursive: bool = False  # a CTE refers to itself (transaction maxspan)
    needed: set[str] | None = None  # fields later commands may read; None = all (see needed_after)
    row_limit: int | None = None  # the run's --limit, set while the last command compiles
    grids: list[GridCheck] = field(default_factory=list)  # charts to size before running
    not_on_spark: list[str] = field(default_factory=list)  # constructs Spark refuses, by name
    output_dir: str | None = None  # the folder outputlookup writes into (None: it may not)
    checks: list[RowCheck] = field(default_factory=list)  # subsearch sizes, before running
    writes: list[LookupWrite] = field(default_factory=list)  # outputlookup, before running
    functions: list[PythonFunction] = field(default_factory=list)  # Python functions the SQL calls

    def add_stage(self, select: exp.Expr) -> str:
        name = f"s{next(self.counter)}"
        self.ctes.append((name, select))
        return name

    def with_clause(self, copy: bool = True) -> exp.With | None:
        """``WITH`` every stage added so far (copied unless the compilation is over)."""
        ctes = [
            exp.CTE(
                this=body.copy() if copy else body,
                alias=exp.TableAlias(this=exp.to_identifier(name)),
            )
            for name, body in self.ctes
        ]
        return exp.With(expressions=ctes, recursive=self.recursive or None) if ctes else None

    def refuse_on_spark(self, construct: str) -> None:
        """Name a construct the Spark engine refuses before running (no Spark rendering)."""
        if construct not in self.not_on_spark:
            self.not_on_spark.append(construct)

    def hidden(self, base: str) -> str:
        return f"__{base}{next(self.counter)}"

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def error(self, message: str, pos: int = 0) -> QueryError:
        from huntbook.errors import SplSyntaxError

        return SplSyntaxError(message, self.text, pos)


@dataclass(frozen=True)
class State:
    """Where the pipeline stands: the relation (a CTE name), its fields, its order."""

    ctx: Context
    source: str
    fields: dict[str, Field]
    order: tuple[exp.Ordered, ...]
    physical: frozenset[str]  # lower-cased internal column names present in ``source``
    hidden_fields: frozenset[str] = frozenset()  # fields kept for order/time but not shown
    dynamic: bool = False  # columns known only at run time (PIVOT): the final SELECT uses *

    # ---- reading fields
    def get(self, name: str) -> Val:
        """The value of a field; an unknown field is NULL (spl.md: absent fields are null)."""
        f = self.fields.get(name)
        if f is None:
            return null_val(NULL)
        return Val(col(f.sql), f.kind)

    def has(self, name: str) -> bool:
        return name in self.fields

    def visible(self) -> list[Field]:
        return [f for n, f in self.fields.items() if n not in self.hidden_fields]

    # ---- making the next state
    def fresh_sql(self, base: str, taken: set[str] | None = None) -> str:
        """An internal column name based on ``base`` that no physical column folds to."""
        return fresh_name(base, set(self.physical) | (taken or set()))

    def table(self) -> exp.Table:
        return exp.Table(this=exp.to_identifier(self.source))

    def select_from(self, *projections: exp.Expr) -> exp.Select:
        return exp.Select(expressions=list(projections)).from_(self.table(), copy=False)

    def then(
        self,
        select: exp.Expr,
        *,
        fields: dict[str, Field] | None = None,
        order: tuple[exp.Ordered, ...] | None = None,
        added: list[str] | None = None,
        physical: frozenset[str] | None = None,
        hidden_fields: frozenset[str] | None = None,
    ) -> State:
        """Register ``select`` as the next CTE; ``added`` lists new physical column names."""
        name = self.ctx.add_stage(select)
        phys = physical if physical is not None else self.physical
        if added:
            phys = phys | {a.lower() for a in added}
        return replace(
            self,
            source=name,
            fields=self.fields if fields is None else fields,
            order=self.order if order is None else order,
            physical=phys,
            hidden_fields=self.hidden_fields if hidden_fields is None else hidden_fields,
        )

    def with_fields(self, fields: dict[str, Field], hidden: frozenset[str] | None = None) -> State:
        """Same relation, different view of it (table, fields, rename need no SQL)."""
        return replace(self, fields=fields, hidden_fields=hidden or frozenset())

    def order_by(self) -> list[exp.Ordered]:
        return [o.copy() for o in self.order]

    def row_number(self, partition: list[exp.Expr] | None = None) -> exp.Expr:
        order = exp.Order(expressions=self.order_by()) if self.order else None
        return exp.Window(this=exp.RowNumber(), partition_by=partition or None, order=order)


def ordered(e: exp.Expr, desc: bool, nulls_last: bool = True) -> exp.Ordered:
    """An ORDER BY term with explicit null placement (DuckDB and Spark defaults differ)."""
    return exp.Ordered(this=e, desc=desc, nulls_first=not nulls_last)


def flip(o: exp.Ordered) -> exp.Ordered:
    return exp.Ordered(
        this=o.this.copy(), desc=not o.args.get("desc"), nulls_first=not o.args.get("nulls_first")
    )


def alias(e: exp.Expr, name: str) -> exp.Alias:
    return exp.Alias(this=e, alias=exp.Identifier(this=name, quoted=True))
