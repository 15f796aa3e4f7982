"""Ingest: read Windows event files, normalize their events, hand them to the store in batches.

``ingest(store, paths, ...)`` (ingest/run.py) drives it file by file. ``READERS`` maps a format
name to its reader; ``detect_format`` picks one from a stream's first bytes (``--format`` overrides
it). Readers yield ``Record`` (to normalize) and ``Skip`` (what could not be read, with its
position). ``ingest`` is loaded on first use, so a reading worker (``python -m
huntbook.ingest.workers``) does not import the module it runs twice.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from huntbook.ingest.base import (
    DEFAULT_LIMITS,
    DEFAULT_SETTINGS,
    IngestSettings,
    Limits,
    Member,
    Reader,
    Record,
    Skip,
)
from huntbook.ingest.classic_reader import read_classic
from huntbook.ingest.csv_reader import read_csv
from huntbook.ingest.detect import FORMATS, check_format, detect_format
from huntbook.ingest.evtx_reader import read_evtx
from huntbook.ingest.json_reader import read_json_array, read_jsonl
from huntbook.ingest.sources import check_regular, expand, members, sha256_of
from huntbook.ingest.summary import FileResult, IngestSummary
from huntbook.ingest.xml_reader import read_xml

if TYPE_CHECKING:
    from huntbook.ingest.run import ingest

READERS: dict[str, Reader] = {
    "evtx": read_evtx,
    "xml": read_xml,
    "wineventlog": read_classic,
    "jsonl": read_jsonl,
    "json": read_json_array,
    "csv": read_csv,
}

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_SETTINGS",
    "FORMATS",
    "READERS",
    "FileResult",
    "IngestSettings",
    "IngestSummary",
    "Limits",
    "Member",
    "Reader",
    "Record",
    "Skip",
    "check_format",
    "check_regular",
    "detect_format",
    "expand",
    "ingest",
    "members",
    "sha256_of",
]


def __getattr__(name: str) -> Any:
    if name == "ingest":
        return import_module("huntbook.ingest.run").ingest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
