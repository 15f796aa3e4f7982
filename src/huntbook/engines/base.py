"""The engine contract: render a ``CompiledQuery`` in ``dialect`` and execute it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from huntbook.query import CompiledQuery
    from huntbook.query.result import SearchResult


class Engine(ABC):
    """An engine only renders and runs: every engine runs the same sqlglot expression."""

    dialect: ClassVar[str]

    def render(self, query: CompiledQuery) -> str:
        return query.sql(self.dialect)

    @abstractmethod
    def execute(self, query: CompiledQuery) -> SearchResult: ...
