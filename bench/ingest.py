"""Ingest throughput against the bare parsers, peak memory, and store size (BENCHMARKS.md "Ingest").

    python bench/ingest.py [--data ../shared/data] [--copies N]

Two measurements, each beside its bare baseline over the same files in the same run:

- EVTX: ``huntbook`` ingest of every .evtx under DATA/evtx against a bare loop over
  ``evtx.PyEvtxParser(path).records_json()``.
- ``--big-evtx MB``: the same for one EVTX file of MB megabytes made of the folder's chunks, read
  in pieces (file header and a run of chunks) by several workers.
- JSON lines: ingest of the Security-Datasets recordings (unzipped first, ``--copies`` times, each
  copy made distinct so it is not skipped as a duplicate) against DuckDB's compiled JSON reader
  writing every field of each file to zstd Parquet in one thread (``read_json`` -> Parquet, the
  floor of "JSON lines into a columnar store"), and a bare ``json.loads`` pass per line (and, for
  reference, ``orjson.loads``).

Each ingest runs in a child process so its peak resident memory (ru_maxrss) is its own. Rates are
events per second of wall-clock time and of CPU time (user+sys of the process and its threads); the
CPU figures are the ones to compare on a shared machine. ``--repeat N`` runs every measurement N
times and keeps the fastest (CPU time on shared cores swings by 20% with the neighbours' load).

``--before CHECKOUT`` times JSON lines only: DuckDB's ``read_json`` -> Parquet, the ingest of
another checkout (its own .venv and bench/ingest.py, e.g. main's) and this one's, in turns,
``--repeat`` rounds; each ingest's fastest and median, each ratio against DuckDB's run of the same
round.

``--probe-duckdb`` instead times, in this process, what DuckDB's JSON functions cost over the same
lines (one thread, chunks of 16,384 lines as an Arrow string column): finding each chunk's keys,
extracting every key with ``json_extract_string`` (one call, a JSON Pointer per key), casting to a
struct of VARCHAR with ``json_transform``, and ``read_json`` with the columns declared. It measures
the floor of a vectorized JSON-lines path (BENCHMARKS.md "Ingest").

``--stages`` times, in this process and one process only, the pipeline cut after each stage (each
cut is a full pass of its own over the same files, ``--repeat`` times: fastest and median): EVTX
(the folder, and with ``--big-evtx`` the big file too) from the bare ``records_json`` loop to JSON
decoding, ``_raw`` rendering, normalization and columns written as parts; JSON lines from DuckDB's
``read_json`` -> Parquet (the yardstick) and the bare ``json.loads`` pass to the compiled path of
ingest/columnar.py: runs cut into lines, Arrow's JSON reader, normalized into columns, parts
written. Then the most a whole ingest may cost per event to meet the target (for EVTX also what is
left of it after the parser's own pass, which every ingest pays), and what compiled steps cost
alone: Arrow's converter from normalized events to columns, the zstd Parquet write; for EVTX also
the parser's own XML, that XML made the store's ``_raw`` by compiled ``re`` passes, and Arrow's and
DuckDB's JSON readers over the parser's records; each marked when it alone, at its fastest, is
over what the target leaves (BENCHMARKS.md "Ingest").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import evtx
import orjson

ROOT = Path(__file__).resolve().parents[1]
CHILDREN = resource.RUSAGE_CHILDREN


def _cpu_all() -> float:
    """CPU seconds of this process and of its children that have ended (ingest workers)."""
    return sum(
        u.ru_utime + u.ru_stime
        for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def _timed(fn: Callable[[], int]) -> dict[str, float]:
    before = _cpu_all()
    start = time.perf_counter()
    events = fn()
    wall = time.perf_counter() - start
    return {"events": events, "wall": wall, "cpu": _cpu_all() - before}


def best(runs: int, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run with the least CPU time out of ``runs``."""
    return min((fn() for _ in range(max(runs, 1))), key=lambda m: float(m["cpu"]))


def bare_evtx(files: list[Path]) -> int:
    count = 0
    for path in files:
        for _ in evtx.PyEvtxParser(str(path)).records_json():
            count += 1
    return count


def duckdb_json(files: list[Path], out: Path) -> int:
    """DuckDB, one thread: each file through ``read_json`` (every key a column, the whole file
    sampled for them; a key differing from another only in case gets a ``_1`` column) into a
    zstd Parquet file; the events written."""
    import duckdb
    import pyarrow.parquet as pq

    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET enable_progress_bar = false")
    count = 0
    for n, path in enumerate(files):
        rel = con.sql(DUCKDB_JSON_SQL, params=[str(path)])
        target = out / f"{n:03d}.parquet"
        rel.write_parquet(str(target), compression="zstd")
        count += pq.ParquetFile(target).metadata.num_rows
    return count


def bare_json(files: list[Path], loads: Callable[[bytes], Any]) -> int:
    count = 0
    for path in files:
        with path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    loads(line)
                    count += 1
    return count


PROBE_CHUNK = 16_384
KEYS_SQL = "SELECT DISTINCT unnest(json_keys(line)) FROM chunk"
EXTRACT_SQL = "SELECT json_extract_string(line, ?) AS v FROM chunk"
TRANSFORM_SQL = "SELECT json_transform(line, ?) AS v FROM chunk"
READ_JSON_SQL = "SELECT * FROM read_json(?, format = 'newline_delimited', columns = ?)"
DUCKDB_JSON_SQL = "SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1)"


def _pointer(key: str) -> str:
    """A JSON key as a JSON Pointer (RFC 6901): no quoting, so any key is safe as a path."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _lines(files: list[Path]) -> list[str]:
    """The non-blank lines of ``files``, as text without their line breaks."""
    return [ln.decode() for f in files for ln in f.read_bytes().splitlines() if ln.strip()]


def probe_duckdb(files: list[Path]) -> dict[str, float]:
    """CPU microseconds per line of each DuckDB JSON stage (see the module docstring)."""
    import duckdb
    import pyarrow as pa

    lines = _lines(files)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    spent = dict.fromkeys(("json_keys", "json_extract_string", "json_transform"), 0.0)
    union: dict[str, str] = {}
    for start in range(0, len(lines), PROBE_CHUNK):
        con.register("chunk", pa.table({"line": pa.array(lines[start : start + PROBE_CHUNK])}))
        t = _cpu()
        keys = [row[0] for row in con.sql(KEYS_SQL).fetchall()]
        spent["json_keys"] += _cpu() - t
        t = _cpu()
        con.sql(EXTRACT_SQL, params=[[_pointer(k) for k in keys]]).to_arrow_table()
        spent["json_extract_string"] += _cpu() - t
        folded = {k.lower(): k for k in reversed(keys)}  # a struct's names ignore case
        union.update(folded)
        t = _cpu()
        structure = json.dumps(dict.fromkeys(folded.values(), "VARCHAR"))
        con.sql(TRANSFORM_SQL, params=[structure]).to_arrow_table()
        spent["json_transform"] += _cpu() - t
        con.unregister("chunk")
    t = _cpu()
    columns = dict.fromkeys(union.values(), "VARCHAR")
    for path in files:
        con.sql(READ_JSON_SQL, params=[str(path), columns]).to_arrow_table()
    spent["read_json (declared columns)"] = _cpu() - t
    return {name: seconds / len(lines) * 1e6 for name, seconds in spent.items()}


def _evtx_stages(files: list[Path], cut: int, out: Path) -> int:
    """The EVTX pipeline up to stage ``cut``: 0 bare, 1 JSON decoded, 2 ``_raw``, 3 normalized,
    4 written as parts."""
    from huntbook.ingest.xmlrender import render_event
    from huntbook.normalize import normalize
    from huntbook.store.parts import PartWriter

    writer = PartWriter(out, f"e{cut}")
    count = 0
    for path in files:
        for record in evtx.PyEvtxParser(str(path)).records_json():
            count += 1
            if cut >= 1:
                obj = orjson.loads(record["data"])
            if cut >= 2:
                raw = render_event(obj)
            if cut >= 3:
                event = normalize("event", obj, raw)
            if cut >= 4:
                writer.add(event)
    writer.close()
    return count


def _json_stages(files: list[Path], cut: int, out: Path) -> int:
    """JSON lines up to stage ``cut``: 0 DuckDB read_json -> Parquet (the yardstick), 1 bare
    json.loads, 2 the runs cut into lines (ingest/columnar.py), 3 + Arrow's JSON reader over them,
    4 + normalized into columns (the whole compiled path, ``read_block``), 5 + written as parts."""
    from huntbook.ingest import Member, members
    from huntbook.ingest.base import Skip
    from huntbook.ingest.columnar import _parse, read_block, runs
    from huntbook.store.parts import PartWriter

    if cut == 0:
        duck = out / "duckdb"
        shutil.rmtree(duck, ignore_errors=True)
        duck.mkdir()
        return duckdb_json(files, duck)
    if cut == 1:
        return bare_json(files, json.loads)
    writer = PartWriter(out, f"j{cut}")
    count = 0
    for path in files:
        member: Member = next(members(path))
        for run in runs(member):
            if isinstance(run, Skip):
                raise SystemExit(f"{path}: {run.reason}")
            count += len(run.lines)
            if cut == 3:
                _parse(run, member)
            elif cut >= 4:
                block, _ = read_block(run, member, "main", None)
                if cut >= 5:
                    writer.add_block(block)
    writer.close()
    return count


# The parser's own XML (``records()``) made the store's ``_raw`` form by compiled passes only (the
# ``re`` engine over all of a file's records at once, template replacements, no Python per record):
# the declaration dropped, the indentation between tags dropped, empty elements closed as ``<X/>``,
# attribute values single-quoted (one attribute per pass, repeated until none is left).
XML_DECLARATION = re.compile(r'<\?xml version="1\.0" encoding="utf-8"\?>\n')
XML_INDENT = re.compile(r">\n *<")
XML_EMPTY = re.compile(r"(<[^/<>][^<>]*)></[^<>]+>")
XML_ATTRIBUTE = re.compile(r'(<[^<>"]*=)"([^"<>]*)"')
RECORD_SEPARATOR = "\x00"


def xml_rewrite(text: str) -> str:
    """``records()`` XML (records joined by ``RECORD_SEPARATOR``) in the store's ``_raw`` form."""
    text = XML_INDENT.sub("><", XML_DECLARATION.sub("", text))
    text = XML_EMPTY.sub(r"\1/>", text).replace(">\n" + RECORD_SEPARATOR, ">" + RECORD_SEPARATOR)
    passes = 1
    while passes:
        text, passes = XML_ATTRIBUTE.subn(r"\1'\2'", text)
    return text


def _timings(runs: int, fn: Callable[[], None], count: int) -> list[float]:
    """CPU us per event of ``runs`` calls of ``fn`` (``count`` events each)."""
    out = []
    for _ in range(max(runs, 1)):
        t = _cpu()
        fn()
        out.append((_cpu() - t) / count * 1e6)
    return out


def evtx_compiled_steps(files: list[Path], runs: int, work: Path) -> dict[str, list[float]]:
    """CPU us per record of compiled steps an EVTX path without Python per record would need,
    each alone, ``runs`` times: the parser's own XML (``records()``, a second parse), that XML made
    the store's ``_raw`` form by compiled ``re`` passes (``xml_rewrite``, each file's records at
    once; how many come out exactly as the store's ``_raw`` is printed), and Arrow's and DuckDB's
    JSON readers (one thread) turning the parser's JSON records (made one line each beforehand,
    not timed) into columns, one file at a time."""
    import io

    import duckdb
    import pyarrow as pa
    import pyarrow.json as pj

    from huntbook.ingest.xmlrender import render_event

    parsed = [
        [orjson.loads(r["data"]) for r in evtx.PyEvtxParser(str(path)).records_json()]
        for path in files
    ]
    records = sum(map(len, parsed))
    lines = [b"\n".join(orjson.dumps(p) for p in ps) for ps in parsed if ps]
    for n, data in enumerate(lines):
        (work / f"records-{n:03d}.json").write_bytes(data)
    xml = [
        RECORD_SEPARATOR.join(r["data"] for r in evtx.PyEvtxParser(str(path)).records())
        for path in files
    ]
    wanted = [render_event(p) for ps in parsed for p in ps]
    got = [raw for text in xml for raw in xml_rewrite(text).rstrip("\n").split(RECORD_SEPARATOR)]
    exact = sum(a == b for a, b in zip(got, wanted, strict=True))
    print(f"  (xml_rewrite gave the store's _raw exactly for {exact:,} of {records:,} records)")
    unread: set[int] = set()
    refused: set[int] = set()

    def parse_xml() -> None:
        for path in files:
            for _ in evtx.PyEvtxParser(str(path)).records():
                pass

    def rewrite() -> None:
        for text in xml:
            xml_rewrite(text).split(RECORD_SEPARATOR)

    def arrow() -> None:
        options = pj.ReadOptions(use_threads=False)
        for n, data in enumerate(lines):
            try:
                pj.read_json(io.BytesIO(data), read_options=options)
            except pa.ArrowInvalid:  # a key holding a number in one record, an object in another
                unread.add(n)

    con = duckdb.connect()
    con.execute("SET threads = 1")

    def duck() -> None:
        for n in range(len(lines)):
            path = str(work / f"records-{n:03d}.json")
            try:
                con.sql(DUCKDB_JSON_SQL, params=[path]).to_arrow_table()
            except duckdb.Error:  # a nested key twice, differing in case (Guid, GUID)
                refused.add(n)

    steps = {
        "parser's own XML (records())": _timings(runs, parse_xml, records),
        "its XML -> _raw (compiled re)": _timings(runs, rewrite, records),
        "Arrow's JSON reader (columns)": _timings(runs, arrow, records),
        "DuckDB read_json (columns)": _timings(runs, duck, records),
    }
    print(f"  (Arrow's JSON reader refused {len(unread)} of {len(lines)} EVTX files, DuckDB's")
    print(f"  read_json {len(refused)}; their time is in the figures, up to the refusal)")
    return steps


def _normalized(name: str, files: list[Path]) -> list[dict[str, Any]]:
    """Every event of ``files`` normalized, in memory (for ``compiled_floor``)."""
    from huntbook.ingest import READERS, members
    from huntbook.ingest.base import Record
    from huntbook.normalize import normalize

    reader = READERS["evtx" if name == "EVTX" else "jsonl"]
    records = (r for path in files for r in reader(next(members(path))))
    return [normalize(r.kind, r.payload, r.raw) for r in records if isinstance(r, Record)]


def compiled_floor(events: list[dict[str, Any]], out: Path, runs: int) -> dict[str, list[float]]:
    """CPU us per event of the compiled steps every normalized Python event still goes through,
    whatever Python does before: Arrow's own converter (C++) turning the events of each part
    (8,192) into columns of their fields' types, and the zstd Parquet write of those columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from huntbook.normalize.types import field_type
    from huntbook.store.parts import ARROW_TYPES, PART_ROWS

    spent: dict[str, list[float]] = {"Arrow's converter (columns)": [], "Parquet zstd write": []}
    pa.array([{"a": "b"}])  # pyarrow's pandas shim imports pandas on the first call: not timed
    for _ in range(max(runs, 1)):
        convert = write = 0.0
        for start in range(0, len(events), PART_ROWS):
            chunk = events[start : start + PART_ROWS]
            names: dict[str, Any] = {}
            for event in chunk:
                names.update(event)
            fields = [pa.field(n, ARROW_TYPES[field_type(n)]) for n in names if n != "_cd"]
            t = _cpu()
            table = pa.Table.from_struct_array(pa.array(chunk, pa.struct(fields)))
            convert += _cpu() - t
            t = _cpu()
            pq.write_table(table, out / "floor.parquet", compression="zstd")
            write += _cpu() - t
        spent["Arrow's converter (columns)"].append(convert / len(events) * 1e6)
        spent["Parquet zstd write"].append(write / len(events) * 1e6)
    return spent


# pipeline: its stages (the first the yardstick), the ratio to it the target asks, and whether the
# yardstick is the pipeline's own first step (the EVTX parser: a whole ingest pays it too)
STAGES = {
    "EVTX": (
        _evtx_stages,
        (
            "records_json loop (bare)",
            "+ orjson.loads",
            "+ _raw rendered as XML",
            "+ normalized",
            "+ columns, parts written",
        ),
        0.25,
        True,
    ),
    "JSON lines": (
        _json_stages,
        (
            "DuckDB read_json -> Parquet",
            "json.loads per line (bare)",
            "runs cut into lines (Arrow)",
            "+ Arrow's JSON reader",
            "+ normalized into columns",
            "+ parts written",
        ),
        0.8,
        False,
    ),
}


def _stage_samples(cut: Callable[[], int], runs: int) -> list[float]:
    """CPU us per event of ``runs`` passes of a pipeline ``cut`` (a pass gives its events)."""
    measures = [_timed(cut) for _ in range(max(runs, 1))]
    return [m["cpu"] / m["events"] * 1e6 for m in measures]


def _spread(samples: list[float]) -> str:
    return f"{min(samples):7.1f} {statistics.median(samples):7.1f}"


def stages(inputs: dict[str, tuple[str, list[Path]]], work: Path, runs: int) -> None:
    """Print the CPU cost per event of each cut of each pipeline (see the module docstring):
    ``inputs`` maps a label to its pipeline (a key of STAGES) and files; fastest and median of
    ``runs``."""
    from huntbook.normalize.tables import tables

    tables()
    for label, (name, files) in inputs.items():
        run, labels, target, paid = STAGES[name]
        print(f"{label}, one process, CPU us per event, fastest and median of {runs}:")
        bare: list[float] = []
        for cut, stage in enumerate(labels):
            samples = _stage_samples(partial(run, files, cut, work), runs)
            bare = bare or samples
            print(f"  {stage:<32} {_spread(samples)}")
        budget = [b / target for b in bare]
        left = [b / target - (b if paid else 0.0) for b in bare]
        print(f"  {f'budget of a whole ingest at {target}x':<32} {_spread(budget)}")
        if paid:
            print(f"  {'  of it left after the bare step':<32} {_spread(left)}")
        steps = compiled_floor(_normalized(name, files), work, runs)
        if name == "EVTX":
            steps.update(evtx_compiled_steps(files, runs, work))
        for step, samples in steps.items():
            over = "  over what is left, at the fastest" if min(samples) > max(left) else ""
            print(f"  compiled alone: {step:<30} {_spread(samples)}{over}")


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((ln for ln in status.splitlines() if ln.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1])


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and of its children (the ingest workers), from /proc."""
    children = [
        int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat") if _parent_of(p) == pid
    ]
    return _rss_kib(pid) + sum(map(_rss_kib, children))


def _parent_of(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


class TreeMemory:
    """The peak of the summed resident memory of this process and its children, sampled.

    Each sample reads every process's ``/proc/<pid>/stat`` (~3 ms of CPU with 140 processes, 20
    samples a second); ``cpu`` is what the sampling thread spent, which the ingest's CPU time
    leaves out (it counted as ingest time before: ~2.6 s of a 7 s JSON-lines ingest on a machine
    running 140 processes).
    """

    def __init__(self, every: float = 0.05) -> None:
        self.peak_kib = 0
        self.cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)

    def _sample(self, every: float) -> None:
        while not self._stop.wait(every):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(os.getpid()))
        self.cpu = time.thread_time()

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def big_evtx(sources: list[Path], target: Path, size: int) -> Path:
    """One EVTX file of about ``size`` bytes: a file header, then the chunks of ``sources`` again
    and again (each chunk carries its own tables, so the parser reads them anywhere)."""
    header = sources[0].read_bytes()[:4096]
    chunks = []
    for source in sources:
        data = source.read_bytes()
        chunks += [data[i : i + 65536] for i in range(4096, len(data) - 65535, 65536)]
    body = b"".join(chunks)
    with target.open("wb") as out:
        out.write(header)
        for _ in range(max(1, size // len(body))):
            out.write(body)
    return target


def child_ingest(store: str, workers: int, paths: list[str]) -> None:
    """Run in the child: ingest and print timings and peak RSS as JSON (imports not timed).

    ``maxrss_mib`` is the larger of this process's peak and its biggest worker's (each process
    has its own); ``tree_mib`` is the peak of all of them together, sampled every 50 ms.
    """
    from huntbook.ingest import IngestSettings, ingest  # the readers and normalizers, up front
    from huntbook.normalize.tables import tables
    from huntbook.store import Store

    tables()

    def run() -> int:
        settings = IngestSettings(workers=workers)
        summary = ingest(Store(store), paths, index="bench", settings=settings)
        if summary.failed:
            raise SystemExit(f"failed: {[f.error for f in summary.failed]}")
        return summary.events

    with TreeMemory() as tree:
        result = _timed(run)
    result["cpu"] -= tree.cpu
    result["tree_mib"] = tree.peak_kib / 1024
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, CHILDREN))
    result["maxrss_mib"] = peak / 1024
    print(json.dumps(result))


def ingest(store: Path, paths: list[Path], workers: int, root: Path = ROOT) -> dict[str, Any]:
    """The ingest of ``paths`` by the checkout at ``root`` (its .venv and bench/ingest.py, or
    this one's interpreter for this checkout), in a child process."""
    python = sys.executable if root == ROOT else str(root / ".venv" / "bin" / "python")
    bench = root / "bench" / "ingest.py"
    cmd = [python, str(bench), "--child", str(store), str(workers), *map(str, paths)]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def unzip_recordings(data: Path, out: Path, copies: int) -> list[Path]:
    files = []
    for archive in sorted((data / "security-datasets").glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            name = zf.namelist()[0]
            body = zf.read(name)
        for copy in range(copies):
            path = out / f"{copy:02d}-{Path(name).name}"
            path.write_bytes(body + b"\n" * copy)  # distinct content, same events
            files.append(path)
    return files


def _fresh(store: Path) -> Path:
    """``store``, emptied: a repeated ingest must not find its files already stored."""
    shutil.rmtree(store, ignore_errors=True)
    return store


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _rates(measure: dict[str, float]) -> str:
    return (
        f"{measure['events'] / measure['wall']:>9,.0f} ev/s wall "
        f"{measure['events'] / max(measure['cpu'], 1e-9):>9,.0f} ev/s cpu"
    )


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"nproc {os.cpu_count()}, {cpu}, {pages / 2**30:.1f} GiB RAM, "
        f"Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def report(name: str, bare: dict[str, float], bare_label: str, runs: dict[int, Any]) -> None:
    """Each ingest run (by worker count) beside the baseline, with both ratios."""
    print(f"{name}: {next(iter(runs.values()))['events']:,} events")
    print(f"  {bare_label:<32} {_rates(bare)}")
    for workers, ours in runs.items():
        label = f"huntbook ingest, {workers} process{'es' if workers > 1 else ''}"
        print(
            f"  {label:<32} {_rates(ours)}   peak RSS {ours['maxrss_mib']:.0f} MiB "
            f"(all processes {ours['tree_mib']:.0f} MiB), ratio "
            f"wall {bare['wall'] / ours['wall']:.2f}x, cpu {bare['cpu'] / ours['cpu']:.2f}x"
        )


def compare(files: list[Path], work: Path, workers: int, before: Path, rounds: int) -> None:
    """JSON lines: DuckDB ``read_json`` -> Parquet, the ingest of the checkout at ``before`` and
    this one's, in turns, ``rounds`` times; per ingest its fastest and median rates and ratios
    (each ratio against DuckDB's run of the same round)."""
    (work / "duckdb").mkdir(exist_ok=True)
    names = [
        (f"{label}, {w} process{'es' if w > 1 else ''}", w, root)
        for w in sorted({1, workers})
        for label, root in (("before", before), ("after", ROOT))
    ]
    runs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
        name: [] for name, _, _ in names
    }
    for _ in range(rounds):
        duck = _timed(lambda: duckdb_json(files, work / "duckdb"))
        print(f"  round at load {os.getloadavg()[0]:.1f}: DuckDB {_rates(duck)}")
        for name, w, root in names:
            runs[name].append((duck, ingest(_fresh(work / "json-store"), files, w, root)))
    ducks = [duck for duck, _ in next(iter(runs.values()))]
    print(f"JSON lines, {ducks[0]['events']:,} events, {rounds} rounds (fastest / median):")
    for key in ("wall", "cpu"):
        values = sorted(d[key] for d in ducks)
        fastest, median = values[0], statistics.median(values)
        print(f"  DuckDB read_json -> Parquet {key} s: {fastest:.2f} / {median:.2f}")
    for name, _, _ in names:
        ours = [m for _, m in runs[name]]
        line = []
        for key in ("wall", "cpu"):
            secs = sorted(m[key] for m in ours)
            ratios = sorted((d[key] / m[key] for d, m in runs[name]), reverse=True)
            line.append(
                f"{key} {secs[0]:.2f} / {statistics.median(secs):.2f} s, "
                f"ratio {ratios[0]:.2f} / {statistics.median(ratios):.2f}x"
            )
        peak = max(m["tree_mib"] for m in ours)
        print(f"  {name:<22} {'; '.join(line)}; all processes peak {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--copies", type=int, default=1, help="copies of the JSON recordings")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (fastest kept)")
    parser.add_argument("--probe-duckdb", action="store_true", help="time DuckDB's JSON functions")
    parser.add_argument("--stages", action="store_true", help="time each pipeline stage")
    parser.add_argument(
        "--big-evtx", type=int, default=0, metavar="MB", help="also one EVTX file of MB megabytes"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="reading processes, besides 1"
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="CHECKOUT",
        help="JSON lines only: time the ingest of CHECKOUT (its .venv) in turns with this one",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="huntbook-bench-"))
    try:
        if args.probe_duckdb:
            files = unzip_recordings(args.data, work, 1)
            print(f"DuckDB JSON functions, {len(_lines(files)):,} lines, CPU us per line:")
            for name, micros in probe_duckdb(files).items():
                print(f"  {name:<30} {micros:6.1f}")
            return
        evtx_files = sorted((args.data / "evtx").rglob("*.evtx"))
        n = args.repeat
        if args.before:
            (work / "jsonl").mkdir()
            files = unzip_recordings(args.data, work / "jsonl", args.copies)
            compare(files, work, args.workers, args.before.resolve(), n)
            return
        if args.stages:
            (work / "jsonl").mkdir()
            inputs = {
                "EVTX folder": ("EVTX", evtx_files),
                "JSON lines": ("JSON lines", unzip_recordings(args.data, work / "jsonl", 1)),
            }
            if args.big_evtx:
                big = big_evtx(evtx_files, work / "big.evtx", args.big_evtx << 20)
                inputs[f"One big EVTX file ({args.big_evtx} MB)"] = ("EVTX", [big])
            stages(inputs, work, n)
            return
        bare = best(n, lambda: _timed(lambda: bare_evtx(evtx_files)))
        counts = sorted({1, args.workers})
        runs = {
            w: best(n, lambda w=w: ingest(_fresh(work / "evtx-store"), [args.data / "evtx"], w))
            for w in counts
        }
        report("EVTX", bare, "bare evtx records_json", runs)
        if args.big_evtx:
            big = big_evtx(evtx_files, work / "big.evtx", args.big_evtx << 20)
            bare = best(n, lambda: _timed(lambda: bare_evtx([big])))
            runs = {w: best(n, lambda w=w: ingest(_fresh(work / "big"), [big], w)) for w in counts}
            report(f"One big EVTX file ({args.big_evtx} MB)", bare, "bare evtx records_json", runs)

        jsonl = work / "jsonl"
        jsonl.mkdir()
        files = unzip_recordings(args.data, jsonl, args.copies)
        (work / "duckdb").mkdir()
        duck = best(n, lambda: _timed(lambda: duckdb_json(files, work / "duckdb")))
        bare = best(n, lambda: _timed(lambda: bare_json(files, json.loads)))
        fast = best(n, lambda: _timed(lambda: bare_json(files, orjson.loads)))
        runs = {
            w: best(n, lambda w=w: ingest(_fresh(work / "json-store"), [jsonl], w)) for w in counts
        }
        report("JSON lines", duck, "DuckDB read_json -> Parquet", runs)
        report("JSON lines", bare, "bare json.loads per line", runs)
        print(f"  {'(orjson.loads per line)':<32} {_rates(fast)}")
        json_bytes, store_bytes = _size(jsonl), _size(work / "json-store")
        print(
            f"  store {store_bytes / 2**20:.1f} MiB for {json_bytes / 2**20:.1f} MiB of JSON: "
            f"{json_bytes / store_bytes:.1f}x smaller"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_ingest(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else:
        main()
