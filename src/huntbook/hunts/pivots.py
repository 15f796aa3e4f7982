"""Placeholders (``<login_id>``, ``<host>``) in a playbook's SPL: find, fill safely, pivot.

The seed's "All Events for Host by Logon ID" search is a template: the hunter fills in a logon
id and a host seen in an earlier search. The runner does the same from ``--param`` or from the
rows of the latest earlier query carrying those fields (``tables.PLACEHOLDER_ALIASES``). A value
always enters the SPL as one quoted string literal, so no value can change the query's structure.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from huntbook.hunts.tables import PLACEHOLDER_ALIASES

# ``<name>`` but not a regex named group ``(?<name>`` / ``(?P<name>``; an optional pair of quotes
# around it is swallowed so ``host="<host>"`` and ``host=<host>`` fill the same way.
_PLACEHOLDER = re.compile(r'"<([A-Za-z_]\w*)>"|(?<![?P\w])<([A-Za-z_]\w*)>')

DEFAULT_CAP = 10


@dataclass(frozen=True)
class Pivot:
    """Where a templated query's values came from and which value tuples it runs with."""

    source: str
    source_index: int
    columns: dict[str, str]
    values: list[dict[str, str]]
    distinct: int


def find_placeholders(spl: str) -> list[tuple[str, int]]:
    """Every placeholder as (name, offset in ``spl``), in order of appearance."""
    return [(m.group(1) or m.group(2), m.start()) for m in _PLACEHOLDER.finditer(spl)]


def placeholder_names(spl: str) -> list[str]:
    """Distinct placeholder names in order of first appearance."""
    return list(dict.fromkeys(name for name, _ in find_placeholders(spl)))


def spl_string(value: str) -> str:
    """``value`` as a double-quoted SPL string literal (``\\`` and ``"`` escaped, spl.md §1.5)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fill(spl: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder with its value as a quoted literal; unknown names are left alone."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return spl_string(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(substitute, spl)


def pivot(
    names: Sequence[str],
    earlier: Sequence[tuple[str, Sequence[str], Sequence[Mapping[str, Any]]]],
    cap: int = DEFAULT_CAP,
) -> Pivot | None:
    """Values for ``names`` from the latest earlier query whose rows carry all of them.

    Args:
        names: the placeholders still to fill.
        earlier: (title, columns, rows) of the queries already run, in playbook order.
        cap: at most this many runs (distinct value tuples, in row order).

    Returns:
        The pivot, or None when no earlier query yields every field with a value.
    """
    for index in range(len(earlier) - 1, -1, -1):
        title, columns, rows = earlier[index]
        mapping = _columns_for(names, columns)
        if mapping is None:
            continue
        tuples = list(dict.fromkeys(_value_tuples(names, mapping, rows)))
        if tuples:
            values = [dict(zip(names, t, strict=True)) for t in tuples[:cap]]
            return Pivot(title, index, mapping, values, len(tuples))
    return None


def _columns_for(names: Sequence[str], columns: Sequence[str]) -> dict[str, str] | None:
    lowered = {c.lower(): c for c in columns}
    mapping = {}
    for name in names:
        aliases = PLACEHOLDER_ALIASES.get(name, (name,))
        found = next((c for c in aliases if c in columns), None)
        found = found or next((lowered[a.lower()] for a in aliases if a.lower() in lowered), None)
        if found is None:
            return None
        mapping[name] = found
    return mapping


def _value_tuples(
    names: Sequence[str], mapping: Mapping[str, str], rows: Iterable[Mapping[str, Any]]
) -> Iterable[tuple[str, ...]]:
    for row in rows:
        options = [_texts(row.get(mapping[name])) for name in names]
        if all(options):
            yield from itertools.product(*options)


def _texts(value: Any) -> list[str]:
    """A field value as its distinct texts: a multivalue field pivots on each of its values."""
    items = value if isinstance(value, list | tuple) else [value]
    texts = [str(v) for v in items if v is not None and str(v) not in ("", "NULL")]
    return list(dict.fromkeys(texts))
