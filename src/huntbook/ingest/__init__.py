"""Readers of Windows event files: format detection per stream, one reader per format.

``READERS`` maps a format name to its reader; ``detect_format`` picks one from a stream's first
bytes (``--format`` overrides it). Readers yield ``Record`` (to normalize) and ``Skip`` (what
could not be read, with its position); huntbook.store.ingesting drives them file by file.
"""

from __future__ import annotations

from huntbook.ingest.base import DEFAULT_LIMITS, Limits, Member, Reader, Record, Skip
from huntbook.ingest.classic_reader import read_classic
from huntbook.ingest.csv_reader import read_csv
from huntbook.ingest.detect import FORMATS, check_format, detect_format
from huntbook.ingest.evtx_reader import read_evtx
from huntbook.ingest.json_reader import read_json_array, read_jsonl
from huntbook.ingest.sources import check_regular, expand, members, sha256_of
from huntbook.ingest.xml_reader import read_xml

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
    "FORMATS",
    "READERS",
    "Limits",
    "Member",
    "Reader",
    "Record",
    "Skip",
    "check_format",
    "check_regular",
    "detect_format",
    "expand",
    "members",
    "sha256_of",
]
