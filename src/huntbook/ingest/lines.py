"""Lines of a text stream, in bounded memory and at C speed over blank stretches.

``text_blocks`` hands a stream's bytes over as UTF-8 (a UTF-8 byte-order mark dropped, UTF-16 with
a byte-order mark transcoded); ``lines`` cuts them into numbered lines that are not blank. A run
of blank lines is skipped by one regular-expression search, not one Python step a line (a zip of
2 GB of line breaks took minutes that way), and a line longer than the member's
``Limits.line_bytes`` raises InputLimitError instead of filling memory.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from typing import IO

from huntbook.errors import InputLimitError
from huntbook.ingest.base import Member

BLOCK = 1 << 20
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_INK = re.compile(rb"\S")  # the first character of a line that is not blank


def text_blocks(fh: IO[bytes]) -> Iterator[bytes]:
    """The stream in blocks of UTF-8 (or single-byte) text, without a byte-order mark."""
    first = fh.read(BLOCK)
    if first[:2] in UTF16_BOMS:
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        block = first
        while block:
            yield decoder.decode(block).encode()
            block = fh.read(BLOCK)
        return
    yield first.removeprefix(UTF8_BOM)
    while block := fh.read(BLOCK):
        yield block


def _too_long(member: Member, line_no: int) -> InputLimitError:
    limit = member.limits.line_bytes
    return InputLimitError(
        f"{member.name}: line {line_no} is longer than {limit:,} bytes (--max-line-bytes): "
        "not a log this reader knows, or a damaged one"
    )


def lines(member: Member, blocks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of every line that is not blank; line breaks are cut off."""
    limit = member.limits.line_bytes
    line_no = member.first_line  # the number of the line starting at ``pos``
    rest = b""
    for block in blocks:
        data = rest + block if rest else block
        end = data.rfind(b"\n") + 1  # whole lines end here; the rest waits for the next block
        pos = 0
        while ink := _INK.search(data, pos, end):
            start = data.rfind(b"\n", pos, ink.start()) + 1
            line_no += data.count(b"\n", pos, start)
            stop = data.find(b"\n", ink.start(), end)
            if stop - start > limit:
                raise _too_long(member, line_no)
            yield line_no, data[start:stop]
            pos = stop
        line_no += data.count(b"\n", pos, end)
        rest = data[end:]
        if len(rest) > limit:
            raise _too_long(member, line_no)
    if rest.strip():
        yield line_no, rest
