"""What an EVTX file says of itself, checked before its records are trusted.

Layout and checksums as libevtx documents the format ("Windows XML Event Log (EVTX) format"): a
4096-byte file header (chunk count at 42, CRC32 of its first 120 bytes at 124), then 64 KB chunks,
each a 512-byte header (first/last record identifier at 24/32, free space offset at 48, CRC32 of
the event records from byte 512 to the free space offset at 52, CRC32 of header bytes 0-120 and
128-512 at 124) and its records. The parser checks none of these, so a cut file or flipped bytes
gave fewer or altered events without a word. Here a chunk that fails a check is left out whole
(its records cannot be trusted) and reported with the records it held; a file shorter than its
header says is reported as cut short. Preallocated chunks past the header's count, all zeros, are
unused space, not damage.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import IO

from huntbook.ingest.base import Member, Skip

FILE_HEADER = 4096
CHUNK = 65536
CHUNK_HEADER = 512
CHUNK_MAGIC = b"ElfChnk\x00"


def _u16(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<H", data, at)[0])


def _u32(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<I", data, at)[0])


def _u64(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<Q", data, at)[0])


@dataclass
class Survey:
    """The damage found in a stream of a file header and chunks; ``bad``: chunks to leave out
    (their index in the stream, from 0)."""

    skips: list[Skip] = field(default_factory=list)
    bad: set[int] = field(default_factory=set)


def _header_count(header: bytes) -> int | None:
    """The file header's chunk count, or None if its CRC32 says it is damaged."""
    if len(header) < 128 or zlib.crc32(header[:120]) != _u32(header, 124):
        return None
    return _u16(header, 42)


def _records(chunk: bytes) -> str:
    first, last = _u64(chunk, 24), _u64(chunk, 32)
    return f"its {last - first + 1:,} records (ids {first:,}-{last:,}) not stored"


def _chunk_problem(chunk: bytes, number: int, count: int | None) -> str | None:
    """Why chunk ``number`` cannot be trusted, or None (also for unused space)."""
    if not chunk.startswith(CHUNK_MAGIC):
        if count is not None and number < count:
            return "no chunk signature where the file header counts a chunk: damaged"
        return None if not chunk.strip(b"\x00") else "no chunk signature: damaged"
    cut = f"cut short ({len(chunk):,} of {CHUNK:,} bytes)"
    if len(chunk) < CHUNK_HEADER:
        return f"{cut}: its records not stored"
    if zlib.crc32(chunk[:120] + chunk[128:CHUNK_HEADER]) != _u32(chunk, 124):
        return "chunk header CRC32 mismatch: damaged, its records not stored"
    if len(chunk) < CHUNK:
        return f"{cut}: {_records(chunk)}"
    free = _u32(chunk, 48)
    if not CHUNK_HEADER <= free <= CHUNK or zlib.crc32(chunk[CHUNK_HEADER:free]) != _u32(chunk, 52):
        return f"event records CRC32 mismatch (altered bytes): {_records(chunk)}"
    return None


def survey(member: Member, fh: IO[bytes]) -> Survey:
    """Check the file header (in the piece holding the file's start), every chunk, and (in the
    piece holding its end) that the file is as long as its header says."""
    out = Survey()
    header = fh.read(FILE_HEADER)
    count = _header_count(header)
    if count is None and member.first_chunk == 0:
        out.skips.append(Skip("file header", "CRC32 mismatch: the header is damaged"))
    index, short = 0, 0
    while chunk := fh.read(CHUNK):
        number = member.first_chunk + index
        problem = _chunk_problem(chunk, number, count)
        if problem:
            out.bad.add(index)
            out.skips.append(Skip(f"chunk {number}", problem))
        index, short = index + 1, int(len(chunk) < CHUNK)
    whole = member.first_chunk + index - short
    if member.ends_file and count is not None and whole < count:
        out.skips.append(
            Skip(
                "end of file",
                f"the file header counts {count} chunks, {whole} are whole: the file was cut "
                f"short, {count - whole} chunk(s) lost",
            )
        )
    return out


def kept(fh: IO[bytes], bad: set[int]) -> bytes:
    """The file header and the chunks not in ``bad``: what the parser may read."""
    parts = [fh.read(FILE_HEADER)]
    index = 0
    while chunk := fh.read(CHUNK):
        if index not in bad:
            parts.append(chunk)
        index += 1
    return b"".join(parts)
