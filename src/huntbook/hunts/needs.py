"""Tell a query's zero that comes from missing data from a true zero.

The seed's "WMI Network Connection" search returns 0 because BOTSv2 has no Sysmon Event ID 3 at all
("Visibility Gap: No Sysmone Event ID 3 Logs"), not because nothing connected. The events a query
needs are read off its base search: each ``EventCode=`` pairs with the latest ``sourcetype=`` before
it (Q3's ``(sourcetype=wineventlog (EventCode=4624 ...)) OR (sourcetype=sysmon EventCode=1)``), and
a probe search asks the store whether any such event exists at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from huntbook.hunts.pivots import spl_string
from huntbook.hunts.spltext import base_search, unquote
from huntbook.hunts.tables import source_label

_TERM = re.compile(
    r'\b(index|sourcetype|source|EventCode)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s()|]+)', re.IGNORECASE
)


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


def query_needs(spl: str) -> list[Need]:
    """The events the base search requires, one ``Need`` per ``EventCode=``; [] when unknowable."""
    if spl.lstrip().startswith("|"):
        return []  # a generating command (| metadata) reads no events of its own
    scope: dict[str, str | None] = {"index": None, "sourcetype": None, "source": None}
    needs: list[Need] = []
    for name, raw in _TERM.findall(base_search(spl)):
        value = unquote(raw)
        if "*" in value or "<" in value:
            continue
        key = name.lower()
        if key == "eventcode":
            needs.append(Need(scope["index"], scope["sourcetype"], value, scope["source"]))
        else:
            scope[key] = value
    if not needs and any(scope.values()):
        needs.append(Need(scope["index"], scope["sourcetype"], None, scope["source"]))
    return list(dict.fromkeys(needs))


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
