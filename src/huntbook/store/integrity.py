"""Is every committed batch whole? A look at each batch file, when a store is opened.

Per file: it exists, has the size the manifest recorded (``bytes``), starts and ends with the
Parquet magic and its footer fits in it: about 20-60 us a batch. The *deep* check also parses the
footers and adds up their row counts against the batch's ``events``: 16 ms for a batch of 110,000
events and 240 columns (many row groups), so it runs in ``repair`` and for batches of stores
written before sizes were recorded (a writer then records them), not on every open. A batch that
fails is *damaged*: ``Store.repair`` drops it from the manifest so its input files can be
ingested again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from huntbook.errors import StoreDamagedError
from huntbook.store.manifest import BatchEntry

MAGIC = b"PAR1"
TAIL = 8  # the footer's length (4 bytes, little-endian), then the magic
LISTED_INPUTS = 5  # input files named per batch in the error; `huntbook repair` lists them all


class _Broken(Exception):
    """Why a batch file is not whole."""


@dataclass(frozen=True)
class Damage:
    """A committed batch whose files are missing or not whole, and why."""

    batch: BatchEntry  # its manifest entry
    reason: str

    @property
    def inputs(self) -> list[str]:
        """The input files the batch holds events of (to be ingested again)."""
        return [entry["path"] for entry in self.batch["inputs"]]


def sizes(root: Path, files: Iterable[str]) -> list[int]:
    """The size in bytes of each file (recorded in the manifest as the batch's ``bytes``)."""
    return [(root / name).stat().st_size for name in files]


def _whole(path: Path, recorded: int | None) -> None:
    """_Broken when the file is missing, not its recorded size, or has no Parquet footer."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            if recorded is not None and size != recorded:
                raise _Broken(f"{size:,} bytes, the manifest says {recorded:,}")
            if size < len(MAGIC) + TAIL:
                raise _Broken(f"truncated ({size} bytes)")
            fh.seek(0)
            head = fh.read(len(MAGIC))
            fh.seek(size - TAIL)
            tail = fh.read(TAIL)
    except FileNotFoundError as exc:
        raise _Broken("missing") from exc
    footer = int.from_bytes(tail[:4], "little")
    if head != MAGIC or tail[4:] != MAGIC or footer + TAIL + len(MAGIC) > size:
        raise _Broken(f"truncated or overwritten (no Parquet footer in its {size} bytes)")


def _rows(path: Path) -> int:
    try:
        return int(pq.read_metadata(path).num_rows)
    except (OSError, pa.ArrowException) as exc:
        raise _Broken(f"unreadable footer ({exc})") from exc


def batch_damage(root: Path, batch: BatchEntry, *, deep: bool) -> Damage | None:
    """What is wrong with one committed batch, or None when its files are whole.

    ``deep`` (or no recorded sizes): the footers' row counts must add up to its events.
    """
    recorded: Sequence[int | None] = batch.get("bytes") or [None] * len(batch["files"])
    deep = deep or "bytes" not in batch
    rows = 0
    for name, size in zip(batch["files"], recorded, strict=True):
        try:
            _whole(root / name, size)
            rows += _rows(root / name) if deep else 0
        except _Broken as exc:
            return Damage(batch, f"{name} is {exc}")
    if deep and rows != batch["events"]:
        return Damage(batch, f"its files hold {rows:,} rows, the manifest says {batch['events']:,}")
    return None


def damaged_batches(
    root: Path, batches: Iterable[BatchEntry], *, deep: bool = False
) -> list[Damage]:
    """Every damaged batch among ``batches``."""
    found = (batch_damage(root, b, deep=deep) for b in batches)
    return [d for d in found if d is not None]


def _named(damage: Damage) -> str:
    inputs = damage.inputs
    shown = ", ".join(inputs[:LISTED_INPUTS])
    more = f" and {len(inputs) - LISTED_INPUTS} more" if len(inputs) > LISTED_INPUTS else ""
    held = f"; it holds {shown}{more}" if inputs else ""
    return f"batch {damage.batch['id']}: {damage.reason}{held}"


def damage_error(root: Path, damaged: list[Damage]) -> StoreDamagedError:
    """The error for a damaged store: each batch, its input files, and how to repair."""
    listed = "\n  ".join(_named(d) for d in damaged)
    return StoreDamagedError(
        f"the store {root} is damaged:\n  {listed}\n"
        f"Run `huntbook repair --store {root}` to drop the damaged batches, "
        "then ingest their files again."
    )
