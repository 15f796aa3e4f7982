"""CIM data models over the events: ``models.yaml`` compiled to one relation per dataset.

    dataset_state(state, "Endpoint.Processes", pos) -> State

A dataset's relation is the UNION ALL of its sources; each source is the events matching its
``where`` search with every CIM field computed by its SPL eval expression (null where the source
does not map it). Fields come out prefixed by the root dataset (``Processes.process_name``), as
Splunk's tstats and ``| datamodel`` name them. A child dataset (``Authentication.
Failed_Authentication``) is its root's relation filtered by its constraint on the CIM fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp

from huntbook.errors import MappingError
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.expr import ExprCompiler
from huntbook.query.spl.compiler.search import predicate
from huntbook.query.spl.compiler.state import Field, State, alias, ordered
from huntbook.query.spl.compiler.values import LIST, NUM, TEXT, Val, as_list, as_text, col
from huntbook.query.spl.cursor import Cursor
from huntbook.query.spl.expressions import parse_eval, parse_search
from huntbook.query.spl.lexer import tokenize

MODELS_FILE = Path(__file__).resolve().parent / "models.yaml"
#: Event fields every dataset row keeps, unprefixed (Splunk's data models inherit them).
INHERITED = ("_time", "host", "source", "sourcetype", "index")


@dataclass(frozen=True)
class Source:
    """Events feeding a dataset: ``where`` (SPL search) and CIM field -> SPL eval expression."""

    name: str
    where: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Dataset:
    model: str
    name: str
    fields: tuple[str, ...]
    sources: tuple[Source, ...]
    children: dict[str, str]  # child dataset -> SPL search over the CIM fields


@lru_cache(maxsize=1)
def load_models() -> dict[str, dict[str, Dataset]]:
    """Model -> root dataset name -> Dataset, from ``models.yaml``."""
    doc = yaml.safe_load(MODELS_FILE.read_text(encoding="utf-8"))
    return {
        model: {name: _dataset(model, name, body) for name, body in datasets.items()}
        for model, datasets in doc["models"].items()
    }


@lru_cache(maxsize=1)
def unfed_models() -> dict[str, str]:
    """CIM model -> why no event of the store can feed it (``unfed`` in ``models.yaml``)."""
    doc = yaml.safe_load(MODELS_FILE.read_text(encoding="utf-8"))
    return dict(doc.get("unfed") or {})


def _dataset(model: str, name: str, body: dict[str, Any]) -> Dataset:
    fields = tuple(body["fields"])
    sources = tuple(Source(s["name"], s["where"], dict(s["fields"])) for s in body["sources"])
    for source in sources:
        unknown = set(source.fields) - set(fields)
        if unknown:
            raise MappingError(f"{model}.{name} ({source.name}): fields not listed: {unknown}")
    return Dataset(model, name, fields, sources, dict(body.get("children") or {}))


def resolve(spec: str) -> tuple[Dataset, str | None]:
    """``Model``, ``Model.Dataset`` or ``Model.Root.Child`` -> (root dataset, child or None).

    Raises:
        UnsupportedSplError: the model or dataset is not one huntbook maps.
    """
    from huntbook.errors import UnsupportedSplError

    models = load_models()
    model, _, rest = spec.partition(".")
    if model in unfed_models():
        raise UnsupportedSplError(f"data model {model!r}: {unfed_models()[model]}")
    if model not in models:
        known = ", ".join(sorted(models))
        raise UnsupportedSplError(
            f"data model {model!r} is not mapped by huntbook (mapped: {known})"
        )
    datasets = models[model]
    parts = [p for p in rest.split(".") if p]
    if not parts:
        if len(datasets) != 1:
            names = ", ".join(f"{model}.{d}" for d in datasets)
            raise UnsupportedSplError(f"data model {model} has several datasets; name one: {names}")
        return next(iter(datasets.values())), None
    for dataset in datasets.values():
        lineage = [dataset.name, *dataset.children]
        if parts[-1] in lineage and all(p in lineage for p in parts):
            child = parts[-1] if parts[-1] != dataset.name else None
            return dataset, child
    known = ", ".join(f"{model}.{d}" for d in _all_names(datasets))
    raise UnsupportedSplError(f"dataset {spec!r} is not mapped by huntbook (mapped: {known})")


def _all_names(datasets: dict[str, Dataset]) -> list[str]:
    return [n for d in datasets.values() for n in (d.name, *d.children)]


def dataset_state(state: State, spec: str, pos: int = 0) -> State:
    """The rows of dataset ``spec`` built from ``state`` (the events relation)."""
    from huntbook.errors import UnsupportedSplError

    try:
        dataset, child = resolve(spec)
    except UnsupportedSplError as err:
        raise UnsupportedSplError(err.reason, state.ctx.text, pos) from None
    parts = [_source_select(dataset, source, state) for source in dataset.sources]
    kinds = _kinds(parts, dataset)
    selects = [_projection(select, values, kinds, dataset) for select, values in parts]
    union: exp.Query = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False)
    name = state.ctx.add_stage(union)
    fields = {n: Field(n, n, NUM if n == "_time" else TEXT) for n in INHERITED}
    for field_name in dataset.fields:
        full = f"{dataset.name}.{field_name}"
        fields[full] = Field(full, full, kinds[field_name])
    out = State(
        state.ctx,
        name,
        fields,
        (ordered(col("_time"), True),),
        frozenset(f.sql.lower() for f in fields.values()),
    )
    if child is not None:
        out = _child(out, dataset, child)
    return out


def _source_select(dataset: Dataset, source: Source, state: State) -> tuple[State, dict[str, Val]]:
    where = _parse_where(source.where)
    filtered = state.then(state.select_from(exp.Star()).where(predicate(where, state), copy=False))
    compiler = ExprCompiler(filtered)
    values = {name: compiler.compile(_parse_expr(text)) for name, text in source.fields.items()}
    return filtered, values


def _kinds(parts: list[tuple[State, dict[str, Val]]], dataset: Dataset) -> dict[str, str]:
    """A field is multivalue when any source makes it one, else text."""
    return {
        name: LIST
        if any(v.get(name, Val(exp.Null(), TEXT)).kind == LIST for _, v in parts)
        else TEXT
        for name in dataset.fields
    }


def _projection(
    state: State, values: dict[str, Val], kinds: dict[str, str], dataset: Dataset
) -> exp.Select:
    columns: list[exp.Expr] = [
        alias(state.get(n).expr if n == "_time" else as_text(state.get(n)), n) for n in INHERITED
    ]
    for name in dataset.fields:
        value = values.get(name)
        convert = as_list if kinds[name] == LIST else as_text
        expr = (
            convert(value)
            if value is not None
            else exp.Cast(
                this=exp.Null(),
                to=exp.DataType.build("VARCHAR[]" if kinds[name] == LIST else "VARCHAR"),
            )
        )
        columns.append(alias(expr, f"{dataset.name}.{name}"))
    return state.select_from(*columns)


def _child(state: State, dataset: Dataset, child: str) -> State:
    """The child's constraint is written on unprefixed CIM fields; rebind them to the prefixed."""
    renamed = {n.removeprefix(f"{dataset.name}."): f for n, f in state.fields.items()}
    view = state.with_fields(renamed)
    test = predicate(_parse_where(dataset.children[child]), view)
    return state.then(state.select_from(exp.Star()).where(test, copy=False))


@lru_cache(maxsize=256)
def _parse_where(text: str) -> ast.SearchExpr:
    expr = parse_search(Cursor(text, tokenize(text, "search")))
    if expr is None:
        raise MappingError(f"empty `where` in {MODELS_FILE.name}")
    return expr


@lru_cache(maxsize=1024)
def _parse_expr(text: str) -> ast.Expr:
    cur = Cursor(text, tokenize(text, "eval"))
    node = parse_eval(cur)
    cur.expect_end()
    return node


def markdown_models() -> str:
    """docs/data-models.md: per dataset, each CIM field and the event field(s) it comes from."""
    lines: list[str] = []
    for model, datasets in load_models().items():
        for dataset in datasets.values():
            lines += _markdown_dataset(model, dataset)
    return "\n".join(lines) + "\n"


def _markdown_dataset(model: str, dataset: Dataset) -> list[str]:
    lines = [f"### {model}.{dataset.name}", ""]
    for source in dataset.sources:
        lines.append(f"- **{source.name}**: `{source.where}`")
    for child, where in dataset.children.items():
        lines.append(f"- child dataset `{model}.{dataset.name}.{child}`: `{where}`")
    header = ["field", *(s.name for s in dataset.sources)]
    lines += ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name in dataset.fields:
        cells = [_cell(s.fields.get(name)) for s in dataset.sources]
        lines.append(f"| `{dataset.name}.{name}` | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _cell(expr: str | None) -> str:
    if expr is None:
        return "—"
    return "`" + expr.replace("|", "\\|") + "`"
