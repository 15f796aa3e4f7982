"""What an ingest did, file by file: the CLI prints it, the API returns it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huntbook.store.manifest import InputDamage, InputMembers

MAX_SKIP_DETAILS = 100
MAX_DAMAGE_NOTED = 5  # skipped records the manifest keeps per input stored in part


@dataclass(frozen=True)
class Skipped:
    """A record (or the rest of a file) that could not be read; ``position`` says where."""

    path: str
    position: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.position}): {self.reason}"


@dataclass
class FileResult:
    """One input file: how it was read and what came of it."""

    path: str
    sha256: str = ""
    fmt: str = ""
    events: int = 0
    status: str = "pending"  # stored | duplicate | failed | ignored
    error: str = ""
    sourcetypes: Counter[str] = field(default_factory=Counter)
    skipped: list[Skipped] = field(default_factory=list)  # the first MAX_SKIP_DETAILS of them
    skipped_count: int = 0
    ignored: list[str] = field(default_factory=list)  # archive members in no known format
    members: dict[str, int] = field(default_factory=dict)  # archive member -> events, read order

    @property
    def partial(self) -> bool:
        """Stored, but only in part: some records or stretches of it could not be read."""
        return self.status == "stored" and self.skipped_count > 0

    def damage(self) -> InputDamage:
        """What the manifest keeps of a file stored in part (nothing for a whole one)."""
        if not self.partial:
            return {}
        noted = [f"{s.position}: {s.reason}" for s in self.skipped[:MAX_DAMAGE_NOTED]]
        return {"skipped": self.skipped_count, "damage": noted}

    def archive(self) -> InputMembers:
        """What the manifest keeps of an archive's members: their events, in row order."""
        if not self.members:
            return {}
        return {"members": [{"name": n, "events": c} for n, c in self.members.items()]}

    def skip(self, where: str, position: str, reason: str) -> None:
        """Count a skipped record; keep the details of the first few."""
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIP_DETAILS:
            self.skipped.append(Skipped(where, position, reason))

    def absorb(self, other: FileResult) -> None:
        """Add what reading (part of) the same file gave: events, sourcetypes, skipped records."""
        self.fmt = self.fmt or other.fmt
        self.events += other.events
        self.sourcetypes.update(other.sourcetypes)
        self.skipped.extend(other.skipped[: MAX_SKIP_DETAILS - len(self.skipped)])
        self.skipped_count += other.skipped_count
        for name, events in other.members.items():
            self.members[name] = self.members.get(name, 0) + events


@dataclass
class IngestSummary:
    """The outcome of ``huntbook.ingest.ingest``: per file results and totals."""

    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole ingest
    workers: int = 1  # processes that read the files (on Spark: tasks read at once)
    engine: str = "local"  # what read them: this machine's processes, or "Spark <master>"

    def _with(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def stored(self) -> list[FileResult]:
        return self._with("stored")

    @property
    def duplicates(self) -> list[FileResult]:
        """Files whose content (sha256) was already in the store: they add nothing."""
        return self._with("duplicate")

    @property
    def failed(self) -> list[FileResult]:
        """Files that yielded nothing usable; the CLI exits non-zero when there is any."""
        return self._with("failed")

    @property
    def ignored(self) -> list[FileResult]:
        """Files met while walking a folder that are in no known format (licences, readmes...)."""
        return self._with("ignored")

    @property
    def partial(self) -> list[FileResult]:
        """Files stored only in part (damaged or unreadable records); the CLI exits 3."""
        return [f for f in self.files if f.partial]

    @property
    def events(self) -> int:
        return sum(f.events for f in self.stored)

    @property
    def sourcetypes(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.stored:
            total.update(f.sourcetypes)
        return total

    @property
    def skipped(self) -> list[Skipped]:
        return [s for f in self.files for s in f.skipped]

    @property
    def skipped_count(self) -> int:
        return sum(f.skipped_count for f in self.files)

    @property
    def ok(self) -> bool:
        return not self.failed
