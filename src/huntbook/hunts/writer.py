"""Write report.json, report.md and report.html (and detections) so that a failure never leaves a
partial set.

All three are rendered in memory first (a renderer that raises touches nothing), written into a
temporary directory inside ``out`` and only then renamed over the previous reports, one
``os.replace`` each: an earlier report is replaced by a whole new one or not at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from huntbook.errors import HuntbookError
from huntbook.hunts.render import render_html, render_json, render_markdown
from huntbook.hunts.result import HuntResult

REPORTS = ("report.json", "report.md", "report.html")


def write_reports(result: HuntResult, out: Path) -> dict[str, Path]:
    """Render and write the three reports into ``out``; returns name -> path.

    Raises:
        HuntbookError: ``out`` cannot be created or written.
    """
    texts = dict(
        zip(
            REPORTS,
            (render_json(result), render_markdown(result), render_html(result)),
            strict=True,
        )
    )
    return write_texts(out, texts, what="reports")


def write_texts(out: Path, texts: dict[str, str], what: str = "files") -> dict[str, Path]:
    """Write each relative path's text under ``out``, all first into a temporary directory there,
    then each renamed over its old version; returns relative path -> path.

    Raises:
        HuntbookError: ``out`` cannot be created or written (naming ``what`` was being written).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".huntbook-", dir=out))
    except OSError as exc:
        raise HuntbookError(f"cannot write {what} to {out}: {exc}") from exc
    try:
        for name, text in texts.items():
            _write(work / name, text)
            (out / name).parent.mkdir(parents=True, exist_ok=True)  # fails before any rename
        for name in texts:
            (work / name).replace(out / name)
    except OSError as exc:
        raise HuntbookError(f"cannot write {what} to {out}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {name: out / name for name in texts}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
