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
from huntbook.hunts.spltext import base_search
from huntbook.hunts.tables import source_label

_TERM = re.compile(
    r'\b(index|sourcetype|EventCode)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s()|]+)', re.IGNORECASE
)


@dataclass(frozen=True)
class Need:
    """Events a query cannot match without: (index, sourcetype, EventCode), any part optional."""

    index: str | None
    sourcetype: str | None
    code: str | None

    @property
    def label(self) -> str:
        return source_label(self.sourcetype or "", self.code or "") or f"index {self.index}"

    def probe(self) -> str:
        """An SPL search that finds one such event (values quoted as literals)."""
        parts = [
            f"{name}={spl_string(value)}"
            for name, value in (
                ("index", self.index),
                ("sourcetype", self.sourcetype),
                ("EventCode", self.code),
            )
            if value
        ]
        return " ".join(parts) + " | head 1"


def query_needs(spl: str) -> list[Need]:
    """The (index, sourcetype, EventCode) triples the base search requires; [] when unknowable."""
    if spl.lstrip().startswith("|"):
        return []  # a generating command (| metadata) reads no events of its own
    index = sourcetype = None
    needs: list[Need] = []
    for name, raw in _TERM.findall(base_search(spl)):
        value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') else raw
        if "*" in value or "<" in value:
            continue
        key = name.lower()
        if key == "index":
            index = value
        elif key == "sourcetype":
            sourcetype = value
        else:
            needs.append(Need(index, sourcetype, value))
    if not needs and (sourcetype or index):
        needs.append(Need(index, sourcetype, None))
    return list(dict.fromkeys(needs))


def absent_needs(spl: str, count: Callable[[str], int]) -> list[Need]:
    """Needs of ``spl`` for which the store holds no event (``count`` runs a probe search)."""
    return [need for need in query_needs(spl) if count(need.probe()) == 0]
