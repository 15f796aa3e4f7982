"""Splunk's ESCU endpoint detections on huntbook: which run, and what stops the others.

Usage: ``python bench/escu.py [--store DIR] [--write]``

Every detection of ``../shared/data/splunk-content/detections/endpoint`` is compiled and run (with
the content's macros and lookups) on a store of ``../shared/data`` (evtx and lateral-movement;
built under ``.bench/escu-store`` when ``--store`` is not given), its events copied into one
in-memory DuckDB table that every detection reuses (a fresh connection per search costs more than
most searches). A detection
*runs* when its search compiles and DuckDB executes it (hits or not); otherwise the construct that
stopped it is recorded. ``--write`` puts the figures into docs/spl-support.md between the
``escu-survey`` markers; tests/query/test_escu_detections.py checks they are current.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data"
CONTENT = SHARED / "splunk-content"
RECORDINGS = ("evtx", "lateral-movement")  # 37k events; security-datasets would triple the time
DOC = ROOT / "docs" / "spl-support.md"
BEGIN, END = "<!-- escu-survey:begin -->", "<!-- escu-survey:end -->"
TOP = 15  # blockers listed in the doc

#: Error reason -> the construct it names (first match wins); anything else is kept verbatim.
BLOCKERS: tuple[tuple[str, str], ...] = (
    (r"^Splunk's `(\w+)` command", r"command `\1`"),
    (r"^unsupported command '(\w+)'", r"command `\1`"),
    (r"^data model '(\w+)': no events feed", r"data model `\1` (no events feed it)"),
    (r"^data model '?([\w]+)'? ", r"data model `\1`"),
    (r"^dataset '([\w.]+)'", r"dataset `\1`"),
    (r"^macro `([^`]+)` is not defined", r"undefined macro `\1`"),
    (r"^unknown function '?(\w+)", r"function `\1()`"),
    (r"^lookup table '?([\w.]+)'? not found", r"missing lookup `\1`"),
)


@dataclass(frozen=True)
class Outcome:
    file: str
    ran: bool
    blocker: str = ""  # the construct that stopped it
    rows: int = 0


def build_store(path: Path) -> Any:
    from huntbook import Workspace

    workspace = Workspace(path)
    if not path.exists():
        workspace.ingest([SHARED / r for r in RECORDINGS])
    return workspace.store


def survey(store: Any, content: Path = CONTENT) -> list[Outcome]:
    """Compile and run every endpoint detection; one Outcome each, in file order."""
    from huntbook.query import store_macro_table

    files = sorted((content / "detections" / "endpoint").glob("*.yml"))
    macros = store_macro_table(store, (content / "macros",))
    con = store.connect()
    con.execute("CREATE TABLE events_copy AS SELECT * FROM events")
    con.execute("DROP VIEW events")
    con.execute("ALTER TABLE events_copy RENAME TO events")
    schema = (store.fields(), store.columns())
    return [_run(store, con, schema, f, macros) for f in files]


def _run(store: Any, con: Any, schema: Any, path: Path, macros: Any) -> Outcome:
    from huntbook.engines.duckdb import DuckDBEngine
    from huntbook.errors import HuntbookError, SplSyntaxError
    from huntbook.query import compile_spl
    from huntbook.query.escu import load_detection

    detection = load_detection(path)
    lookups = (str(store.path / "lookups"), *(str(p) for p in detection.lookup_dirs))
    try:
        query = compile_spl(
            detection.search,
            schema[0],
            columns=schema[1],
            macros=detection.macros(macros),
            lookup_dirs=lookups,
        )
        result = DuckDBEngine(store, con).execute(query)
        return Outcome(path.name, True, rows=len(result.rows()))
    except SplSyntaxError as err:
        return Outcome(path.name, False, classify(err.reason))
    except HuntbookError as err:
        return Outcome(path.name, False, classify(str(err).splitlines()[0]))


def classify(reason: str) -> str:
    """The construct an error names (``command `foreach```), or the reason's first line."""
    reason = re.sub(r" \(in the expansion of macro `[^`]*`\)", "", reason)
    for pattern, template in BLOCKERS:
        match = re.search(pattern, reason)
        if match:
            return match.expand(template)
    return reason.splitlines()[0][:100]


def markdown(outcomes: list[Outcome]) -> str:
    ran = sum(o.ran for o in outcomes)
    hits = sum(1 for o in outcomes if o.ran and o.rows)
    blockers = Counter(o.blocker for o in outcomes if not o.ran)
    share = f"{ran} run ({100 * ran / len(outcomes):.1f}%)"
    lines = [
        BEGIN,
        f"Of {len(outcomes)} ESCU endpoint detections, **{share}**"
        f" on a store of ../shared/data/evtx and lateral-movement (compiled and executed; {hits}"
        " return rows on those recordings). What stops the others, by detections blocked:",
        "",
        "| blocker | detections |",
        "| --- | --- |",
        *(f"| {_cell(b)} | {n} |" for b, n in blockers.most_common(TOP)),
    ]
    rest = sum(blockers.values()) - sum(n for _, n in blockers.most_common(TOP))
    if rest:
        lines.append(f"| other ({len(blockers) - TOP} constructs) | {rest} |")
    return "\n".join([*lines, END])


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def write_doc(section: str, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    doc.write_text(text[:start] + section + text[end:], encoding="utf-8")


def doc_section(doc: Path = DOC) -> str:
    text = doc.read_text(encoding="utf-8")
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / ".bench" / "escu-store")
    parser.add_argument("--write", action="store_true", help="update docs/spl-support.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    outcomes = survey(build_store(args.store))
    section = markdown(outcomes)
    print(section)
    print(f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    if args.write:
        write_doc(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
