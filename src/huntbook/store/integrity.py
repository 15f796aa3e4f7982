"""Is every committed batch whole? A cheap look at each batch file, when a store is opened.

Per file: it exists, starts and ends with the Parquet magic, its footer fits in it, and the row
count in the footer adds up to the events the manifest gives the batch. Only the footer is read
(about 0.1 ms a file), not the data. A batch that fails is *damaged*: ``Store.repair`` drops it
from the manifest so its input files can be ingested again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from huntbook.errors import StoreDamagedError

MAGIC = b"PAR1"
TAIL = 8  # the footer's length (4 bytes, little-endian), then the magic
LISTED_INPUTS = 5  # input files named per batch in the error; `huntbook repair` lists them all


class _Broken(Exception):
    """Why a batch file is not whole."""


@dataclass(frozen=True)
class Damage:
    """A committed batch whose files are missing or not whole, and why."""

    batch: dict[str, Any]  # its manifest entry
    reason: str

    @property
    def inputs(self) -> list[str]:
        """The input files the batch holds events of (to be ingested again)."""
        return [entry["path"] for entry in self.batch["inputs"]]


def _rows(path: Path) -> int:
    """Rows in a Parquet file, from its footer; _Broken when the file is missing or not whole."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
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
    try:
        return int(pq.read_metadata(path).num_rows)
    except (OSError, pa.ArrowException) as exc:
        raise _Broken(f"unreadable footer ({exc})") from exc


def batch_damage(root: Path, batch: dict[str, Any]) -> Damage | None:
    """What is wrong with one committed batch, or None when its files are whole."""
    rows = 0
    for name in batch["files"]:
        try:
            rows += _rows(root / name)
        except _Broken as exc:
            return Damage(batch, f"{name} is {exc}")
    if rows != batch["events"]:
        return Damage(batch, f"its files hold {rows:,} rows, the manifest says {batch['events']:,}")
    return None


def damaged_batches(root: Path, batches: Iterable[dict[str, Any]]) -> list[Damage]:
    """Every damaged batch among ``batches``."""
    return [d for d in (batch_damage(root, b) for b in batches) if d is not None]


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
