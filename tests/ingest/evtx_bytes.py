"""EVTX file headers and empty chunks built here, checksums and all (no third-party file needed).

Layout from libevtx's "Windows XML Event Log (EVTX) format"; the records inside chunks come from
real files in ../shared/data when a test needs them.
"""

from __future__ import annotations

import struct
import zlib

FILE_HEADER = 4096
CHUNK = 65536


def file_header(chunks: int) -> bytes:
    """A file header counting ``chunks`` chunks, with its CRC32."""
    head = bytearray(FILE_HEADER)
    struct.pack_into(
        "<8sQQQIHHHH",
        head,
        0,
        b"ElfFile\x00",
        0,
        max(chunks - 1, 0),
        1,
        128,
        1,
        3,
        FILE_HEADER,
        chunks,
    )
    struct.pack_into("<I", head, 124, zlib.crc32(head[:120]))
    return bytes(head)


def empty_chunk(first_id: int) -> bytes:
    """A chunk holding no records (free space right after its header), with both CRC32s."""
    chunk = bytearray(CHUNK)
    struct.pack_into(
        "<8sQQQQIII",
        chunk,
        0,
        b"ElfChnk\x00",
        first_id,
        first_id - 1,
        first_id,
        first_id - 1,
        128,
        512,
        512,
    )
    struct.pack_into("<I", chunk, 52, zlib.crc32(b""))
    struct.pack_into("<I", chunk, 124, zlib.crc32(chunk[:120] + chunk[128:512]))
    return bytes(chunk)


def evtx_file(chunks: int, slots: int | None = None) -> bytes:
    """A sound file of ``chunks`` empty chunks, then zeroed slots up to ``slots`` (preallocated)."""
    body = b"".join(empty_chunk(1 + n) for n in range(chunks))
    return file_header(chunks) + body + bytes(CHUNK * ((slots or chunks) - chunks))
