"""Big files cut into pieces that can be read on their own, so several processes share one file.

An EVTX file is a 4 KB file header and 64 KB chunks, and each chunk carries its own string and
template tables: the header followed by any run of chunks is a valid EVTX file that yields exactly
those chunks' records (checked against whole-file parsing in tests/ingest/test_pieces.py). A JSON
lines file is cut after a line break; each piece knows the number of its first line. Formats
without such a cut (archives, compressed files, JSON arrays, multi-line text) are read whole.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from huntbook.ingest.base import Member
from huntbook.ingest.lines import UTF16_BOMS

EVTX_HEADER = 4096
EVTX_CHUNK = 65536


def _evtx_piece(path: str, start: int, end: int) -> io.BytesIO:
    """The file header and the chunks between byte offsets ``start`` and ``end``."""
    with Path(path).open("rb") as fh:
        header = fh.read(EVTX_HEADER)
        fh.seek(start)
        return io.BytesIO(header + fh.read(end - start))


def _evtx_pieces(member: Member, size: int, piece_bytes: int) -> list[Member]:
    assert member.path is not None  # noqa: S101  # only plain files are cut (pieces() checks)
    chunks = (size - EVTX_HEADER) // EVTX_CHUNK
    per_piece = max(1, piece_bytes // EVTX_CHUNK)
    if chunks <= per_piece:
        return [member]
    out = []
    for first in range(0, chunks, per_piece):
        last = min(first + per_piece, chunks)
        start = EVTX_HEADER + first * EVTX_CHUNK
        end = size if last == chunks else EVTX_HEADER + last * EVTX_CHUNK  # slack goes last
        opener = partial(_evtx_piece, member.path, start, end)
        piece = f"chunks {first}-{last - 1}"
        out.append(
            replace(
                member,
                open=opener,
                path=None,
                piece=piece,
                first_chunk=first,
                ends_file=last == chunks,
            )
        )
    return out


def _byte_range(path: str, start: int, end: int) -> io.BytesIO:
    with Path(path).open("rb") as fh:
        fh.seek(start)
        return io.BytesIO(fh.read(end - start))


def _line_cuts(path: str, size: int, piece_bytes: int) -> list[tuple[int, int, int]]:
    """``(start, end, first line)`` of pieces of about ``piece_bytes``, each ending a line."""
    cuts, start, line = [], 0, 1
    with Path(path).open("rb") as fh:
        while start < size:
            fh.seek(start)
            body = fh.read(piece_bytes)
            end = start + len(body)
            if end < size and not body.endswith(b"\n"):
                rest = fh.readline()  # to the end of the line the piece stopped in
                body += rest
                end += len(rest)
            cuts.append((start, end, line))
            line += body.count(b"\n")
            start = end
    return cuts


def _jsonl_pieces(member: Member, size: int, piece_bytes: int) -> list[Member]:
    assert member.path is not None  # noqa: S101  # only plain files are cut (pieces() checks)
    with Path(member.path).open("rb") as fh:
        if fh.read(2) in UTF16_BOMS:  # its line breaks are two bytes: read whole
            return [member]
    return [
        replace(
            member,
            open=partial(_byte_range, member.path, start, end),
            path=None,
            first_line=line,  # positions are the file's own line numbers: no piece to name
        )
        for start, end, line in _line_cuts(member.path, size, piece_bytes)
    ]


SPLITTERS: dict[str, Callable[[Member, int, int], list[Member]]] = {
    "evtx": _evtx_pieces,
    "jsonl": _jsonl_pieces,
}


def pieces(member: Member, fmt: str, piece_bytes: int) -> list[Member]:
    """``member`` cut into pieces of about ``piece_bytes`` (itself alone if it cannot be cut)."""
    split = SPLITTERS.get(fmt)
    if split is None or member.path is None:
        return [member]
    size = Path(member.path).stat().st_size
    return split(member, size, piece_bytes) if size > piece_bytes else [member]


__all__ = ["EVTX_CHUNK", "EVTX_HEADER", "SPLITTERS", "pieces"]
