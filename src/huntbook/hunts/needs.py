"""Tell a query's zero that comes from missing data from a true zero.

The seed's "WMI Network Connection" search returns 0 because BOTSv2 has no Sysmon Event ID 3 at all
("Visibility Gap: No Sysmone Event ID 3 Logs"), not because nothing connected. The events a query
needs are read off its parsed base search (each ``EventCode`` with the ``index``, ``sourcetype`` or
``source`` AND-ed around it), and a probe search asks the store whether any such event exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from huntbook.hunts import spltree
from huntbook.hunts.pivots import spl_string
from huntbook.hunts.tables import source_label
from huntbook.query.spl import ast


@dataclass(frozen=True)
class Need:
    """Events a query cannot match without: index, sourcetype or source, EventCode (optional)."""

    index: str | None
    sourcetype: str | None
    code: str | None
    source: str | None = None

    @property
    def label(self) -> str:
        """ "Sysmon Event ID 3", "WinRM/Operational Event ID 91", "Windows Event ID 4698"..."""
        if self.source and self.code:
            return f"{self.source.split(':', 1)[-1]} Event ID {self.code}"
        if self.sourcetype or self.code:
            return source_label(self.sourcetype or "WinEventLog", self.code or "")
        return f"{self.source or 'index ' + str(self.index)}"

    def probe(self) -> str:
        """An SPL search that finds one such event (values quoted as literals)."""
        terms = (
            ("index", self.index),
            ("sourcetype", self.sourcetype),
            ("source", self.source),
            ("EventCode", self.code),
        )
        return (
            " ".join(f"{name}={spl_string(value)}" for name, value in terms if value) + " | head 1"
        )


SCOPE_FIELDS = ("index", "sourcetype", "source")


def query_needs(spl: str) -> list[Need]:
    """The events the base search requires, one ``Need`` per ``EventCode``; [] when unknowable.

    Walks the parsed search: an AND's ``index``/``sourcetype``/``source`` terms scope every
    ``EventCode`` under it, so Q3's ``(sourcetype=wineventlog (EventCode=4624 ...)) OR
    (sourcetype=sysmon EventCode=1)`` needs 4624 from WinEventLog and 1 from Sysmon.
    """
    tree = spltree.pipeline(spl)
    expr = spltree.base_expr(tree) if tree is not None else None
    if expr is None:
        return []  # does not parse, or a generating command (| metadata) that reads no events
    scope: dict[str, str | None] = dict.fromkeys(SCOPE_FIELDS)
    needs = list(dict.fromkeys(_walk(expr, scope)))
    top = _scoped(expr, scope)
    if not needs and any(top.values()):
        needs.append(Need(top["index"], top["sourcetype"], None, top["source"]))
    return needs


def _scoped(expr: ast.SearchExpr, scope: dict[str, str | None]) -> dict[str, str | None]:
    """``scope`` updated with the exact (wildcard-free) scope terms AND-ed at this level."""
    inner = dict(scope)
    for part in spltree.conjuncts(expr):
        match = spltree.equals(part) if isinstance(part, ast.Compare) else None
        if match and match[0].lower() in SCOPE_FIELDS and "*" not in match[1][0]:
            inner[match[0].lower()] = match[1][0]
    return inner


def _walk(expr: ast.SearchExpr, scope: dict[str, str | None]) -> Iterator[Need]:
    inner = _scoped(expr, scope)
    for part in spltree.conjuncts(expr):
        match = spltree.equals(part)
        if match and match[0] == "EventCode":
            for code in match[1]:
                if "*" not in code:
                    yield Need(inner["index"], inner["sourcetype"], code, inner["source"])
        elif isinstance(part, ast.SOr):
            for item in part.items:
                yield from _walk(item, inner)


def no_data_note(absent: list[Need]) -> str:
    """ "No Sysmon Event ID 3 logs"; codes of one kind share a label ("Event ID 4698/4702")."""
    kinds: dict[str, list[str]] = {}
    for label in dict.fromkeys(n.label for n in absent):
        kind, _, code = label.rpartition(" ")
        if kind and code.isdigit():
            kinds.setdefault(kind, []).append(code)
        else:
            kinds.setdefault(label, [])
    parts = [f"{kind} {'/'.join(codes)}".strip() for kind, codes in kinds.items()]
    return "No " + " or ".join(parts) + " logs"


def absent_needs(spl: str, count: Callable[[str], int]) -> list[Need]:
    """Needs of ``spl`` for which the store holds no event (``count`` runs a probe search)."""
    return [need for need in query_needs(spl) if count(need.probe()) == 0]
