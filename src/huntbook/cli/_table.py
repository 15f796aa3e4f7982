"""Plain text tables for the terminal: one shape for search results, stats and listings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huntbook.engines.result import cell_text

CELL_WIDTH = 60  # wider values are cut with an ellipsis




def _cell_lines(value: Any, width: int | None) -> list[str]:
    lines = cell_text(value).split("\n") or [""]
    if width is None:
        return lines
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def text_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    header: bool = True,
    rule: bool = True,
    cut_last: bool = True,
) -> str:
    """Columns padded to their widest cell; a multivalue cell takes one line per value.

    Cells over ``CELL_WIDTH`` are cut (a 4,000-character encoded command line would bury the rest),
    except in the last column when ``cut_last`` is off (listings whose last column is a title).
    """
    last = len(columns) - 1 if not cut_last else -1
    cells = [
        [_cell_lines(v, None if i == last else CELL_WIDTH) for i, v in enumerate(row)]
        for row in rows
    ]
    widths = [
        max([len(c) if header else 0, *(len(line) for row in cells for line in row[i])])
        for i, c in enumerate(columns)
    ]
    out = []
    if header:
        out.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    if header and rule:
        out.append("  ".join("-" * w for w in widths))
    for row in cells:
        for k in range(max((len(cell) for cell in row), default=1)):
            parts = [
                (cell[k] if k < len(cell) else "").ljust(w)
                for cell, w in zip(row, widths, strict=True)
            ]
            out.append("  ".join(parts).rstrip())
    return "\n".join(out)


def wrap_pairs(items: Sequence[str], width: int, *, indent: int = 0) -> list[str]:
    """``items`` packed into lines of at most ``width`` (two spaces apart, ``indent`` before
    each line); an item wider than a line is cut with an ellipsis."""
    room = max(width - indent, 10)
    lines: list[str] = []
    line = ""
    for item in items:
        item = item if len(item) <= room else item[: room - 1] + "…"
        if line and len(line) + 2 + len(item) > room:
            lines.append(line)
            line = ""
        line = f"{line}  {item}" if line else item
    if line:
        lines.append(line)
    return [" " * indent + line for line in lines]
