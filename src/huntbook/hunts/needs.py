"""Tell a query's zero that comes from missing data from a true zero.

The seed's "WMI Network Connection" search returns 0 because BOTSv2 has no Sysmon Event ID 3 at all
("Visibility Gap: No Sysmone Event ID 3 Logs"), not because nothing connected. The events a query
needs are read off its parsed base search (each ``EventCode`` with the ``index``, ``sourcetype`` or
``source`` AND-ed around it), and a probe search asks the store whether any such event exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

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
        """What the events are, wherever they sit: "Sysmon Event ID 3", "Sysmon",
        "WinRM/Operational Event ID 91"; "" when the query names only an index."""
        if self.source and self.code:
            return f"{self.source.split(':', 1)[-1]} Event ID {self.code}"
        if self.sourcetype or self.code:
            return source_label(self.sourcetype or "WinEventLog", self.code or "")
        return self.source or ""

    def _terms(self, *, with_index: bool) -> str:
        terms = (
            ("index", self.index if with_index else None),
            ("sourcetype", self.sourcetype),
            ("source", self.source),
            ("EventCode", self.code),
        )
        return " ".join(f"{name}={spl_string(value)}" for name, value in terms if value)

    def probe(self) -> str:
        """An SPL search that finds one such event (values quoted as literals)."""
        return self._terms(with_index=True) + " | head 1"

    def locate(self) -> str:
        """An SPL search counting such events per index, over every index of the store."""
        return (self._terms(with_index=False) or "*") + " | stats count by index"


SCOPE_FIELDS = ("index", "sourcetype", "source")


def query_needs(spl: str) -> list[Need]:
    """The events the base search requires, one ``Need`` per ``EventCode``; [] when unknowable.

    Walks the parsed search: an AND's ``index``/``sourcetype``/``source`` terms scope every
    ``EventCode`` under it, so Q3's ``(sourcetype=wineventlog (EventCode=4624 ...)) OR
    (sourcetype=sysmon EventCode=1)`` needs 4624 from WinEventLog and 1 from Sysmon.
    """
    tree = spltree.pipeline(spl)
    if tree is None:
        return []  # does not parse
    expr = spltree.base_expr(tree)
    if expr is None:  # a generating command: | metadata reads the indexes it names
        return [Need(i, None, None) for i in spltree.metadata_indexes(tree)]
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


def no_data_note(absent: list[Need], holders: Mapping[Need, Sequence[str]] | None = None) -> str:
    """Where a query looked and found nothing, and where the store holds such events instead:
    "No Sysmon Event ID 3 logs in index botsv2; the store holds Sysmon Event ID 3 logs in index
    main". Codes of one kind share a label ("Windows Event ID 4698/4702"). ``holders`` maps a need
    to the indexes that hold its events (``Need.locate``)."""
    holders = holders or {}
    looked = _indexes(n.index for n in absent)
    note = f"No {_what(absent)}" + (f" in {looked}" if looked else "")
    found = [n for n in absent if holders.get(n)]
    if found:
        elsewhere = _indexes(i for n in found for i in holders[n])
        note += f"; the store holds {_what(found)} in {elsewhere}"
    elif looked:
        note += " (nor in any other index of the store)"
    return note


def _what(needs: list[Need]) -> str:
    """ "Sysmon Event ID 3 logs", "Windows Event ID 4698/4702 logs"; "events" for index-only."""
    kinds: dict[str, list[str]] = {}
    for label in dict.fromkeys(n.label for n in needs if n.label):
        kind, _, code = label.rpartition(" ")
        if kind and code.isdigit():
            kinds.setdefault(kind, []).append(code)
        else:
            kinds.setdefault(label, [])
    parts = [f"{kind} {'/'.join(codes)}".strip() for kind, codes in kinds.items()]
    return " or ".join(parts) + " logs" if parts else "events"


def _indexes(names: Iterable[str | None]) -> str:
    unique = sorted({n for n in names if n})
    if not unique:
        return ""
    return ("index " if len(unique) == 1 else "indexes ") + ", ".join(unique)


def absent_needs(spl: str, count: Callable[[str], int], index: str | None = None) -> list[Need]:
    """Needs of ``spl`` for which the store holds no event (``count`` runs a probe search);
    ``index`` stands for every index the query names (a run with ``--index``)."""
    needs = query_needs(spl)
    if index is not None:
        needs = [replace(n, index=index) for n in needs]
    return [need for need in dict.fromkeys(needs) if count(need.probe()) == 0]
