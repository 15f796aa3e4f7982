"""Collect-or-raise for playbook problems, after sqlglot's ``ErrorLevel``.

``huntbook hunt lint`` wants *every* problem at once (``WARN``); ``huntbook hunt`` wants to stop
before running anything when the document is broken (``RAISE``); a debugger wants the first one with
its traceback (``IMMEDIATE``). One collector serves all three so the loader has a single code path.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from huntbook.errors import PlaybookError, SourceLocation


class ErrorLevel(enum.Enum):
    """What to do with a problem: drop it, collect it, raise all at the end, or raise at once."""

    IGNORE = "ignore"
    WARN = "warn"
    RAISE = "raise"
    IMMEDIATE = "immediate"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a playbook, at a 1-based line of its file."""

    line: int
    message: str
    severity: str = "error"
    code: str = ""
    path: str = ""

    def __str__(self) -> str:
        return f"{self.path or '<playbook>'}:{self.line}: {self.severity}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class Collector:
    """Gathers problems for one document and applies the ``ErrorLevel`` policy."""

    path: str = ""
    level: ErrorLevel = ErrorLevel.RAISE
    problems: list[Problem] = field(default_factory=list)

    def error(self, line: int, code: str, message: str) -> None:
        self._add(Problem(line, message, "error", code, self.path))

    def warning(self, line: int, code: str, message: str) -> None:
        self._add(Problem(line, message, "warning", code, self.path))

    def _add(self, problem: Problem) -> None:
        if self.level is ErrorLevel.IGNORE:
            return
        self.problems.append(problem)
        if self.level is ErrorLevel.IMMEDIATE and problem.severity == "error":
            raise _as_error([problem])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def check(self) -> list[Problem]:
        """Raise ``PlaybookError`` with every error under RAISE; else return the problems."""
        if self.level in (ErrorLevel.RAISE, ErrorLevel.IMMEDIATE) and self.errors:
            raise _as_error(self.errors)
        return sorted(self.problems, key=lambda p: (p.line, p.severity != "error"))


def _as_error(problems: list[Problem]) -> PlaybookError:
    first = problems[0]
    lines = "\n".join(f"  {p}" for p in problems)
    message = f"{len(problems)} problem(s) in playbook {first.path or '<playbook>'}:\n{lines}"
    located = [(SourceLocation(p.path or None, p.line), p.message) for p in problems]
    return PlaybookError(message, located)
