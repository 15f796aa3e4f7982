"""huntbook detect against Zircolite on the same rule files and inputs (BENCHMARKS.md "Detect").

    python bench/detect.py --zircolite-python /tmp/zv/bin/python [--data ../shared/data]
                           [--rules ../shared/data/sigma/rules] [--repeat 3]

Zircolite (../shared/tools/zircolite, run from a copy outside the project, in a venv of its own as
its README in ../shared/tools says) gets the same SigmaHQ rules converted once with its own
``-r RULES -p sysmon windows-logsources -sr`` (pySigma's SQLite backend), and that saved ruleset
is what each timed run loads, as Zircolite is used. huntbook's converted-rule cache is likewise
warmed once before timing (the cold conversion is timed once and printed too).

Inputs: the EVTX folder of DATA/evtx and the largest Security-Datasets recording (unzipped JSON
lines). Per input, four commands, interleaved, best of ``--repeat`` runs each, whole-process
wall time, peak resident memory and CPU seconds (user + system) from ``/usr/bin/time -v``
(every run is printed as it ends):

- huntbook ingest + detect (a fresh store each run, ``--out`` written),
- the same in one process: ``huntbook detect --ingest SOURCE`` (a fresh store each run),
- huntbook detect alone (on a store ingested beforehand),
- Zircolite (``--evtx`` for EVTX; ``--jsononly`` for JSON lines; ``-o`` written).

Then, rule by rule (by title), the matches of each tool where both ran the rule: every rule where
Zircolite finds more is listed (to be explained in BENCHMARKS.md).

At scale, ``--scale LINES [LINES ...]`` (e.g. ``--scale 1000000 10000000``) runs instead: the eight
Security-Datasets recordings, unzipped into ``--work`` and copied until about LINES JSON lines
(copy k ends with k extra blank lines, so ingest's content hash sees distinct files; both tools skip
blank lines), then each command once: huntbook ingest, huntbook detect alone on that store (their
sum is "ingest + detect") and Zircolite, each with its wall time and the peak resident memory of
its whole process tree (sampled every 0.5 s). Every command runs under ``--cap-minutes`` and
``--cap-gib``: past either it is killed and reported as such. ``--tools`` picks which of the two
run (``huntbook``, ``zircolite``); each result is also appended to ``WORK/results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUNTBOOK = [sys.executable, "-m", "huntbook"]


def timed(command: Sequence[str], cwd: Path | None = None) -> tuple[float, float, float]:
    """Whole-process wall seconds, peak resident MiB and CPU seconds (user + system, children
    included) of ``command`` (``/usr/bin/time -v``)."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 4):  # huntbook detect exits 4 when something matched
        raise SystemExit(f"{command[:4]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)
    assert wall and rss and len(cpu) == 2
    hours, minutes, seconds = wall.groups()
    total = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return total, int(rss.group(1)) / 1024, sum(map(float, cpu))


def _largest_recording(data: Path, work: Path) -> Path:
    zips = sorted((data / "security-datasets").glob("*.zip"))
    sizes = {z: max(i.file_size for i in zipfile.ZipFile(z).infolist()) for z in zips}
    biggest = max(sizes, key=lambda z: sizes[z])
    folder = work / "json"
    with zipfile.ZipFile(biggest) as archive:
        archive.extractall(folder)
    return folder


def _commands(
    source: Path, kind: str, args: argparse.Namespace, work: Path, zircolite: Path
) -> dict[str, tuple[list[str], Path | None]]:
    store, fresh, out = work / f"{kind}-store", work / f"{kind}-fresh", work / f"{kind}-out"
    subprocess.run(
        [*HUNTBOOK, "ingest", str(source), "--store", str(store)], check=True, capture_output=True
    )
    detect = [*HUNTBOOK, "detect", str(args.rules), "--out", str(out)]
    wall, rss, _ = timed([*detect, "--store", str(store)])
    print(
        f"{kind:5s} huntbook detect, first run  {wall:7.2f} s  peak {rss:7.1f} MiB (cache "
        f"{'cold: converts every rule' if kind == 'evtx' else 'warm'})"
    )
    both = (
        f"rm -rf {fresh} && {' '.join(HUNTBOOK)} ingest {source} --store {fresh} >/dev/null "
        f"&& {' '.join(detect)} --store {fresh}; test $? -le 4"
    )
    one = f"rm -rf {fresh} && {' '.join(detect)} --store {fresh} --ingest {source}; test $? -le 4"
    flag = ["--evtx", str(source)] if kind == "evtx" else ["--jsononly", "--evtx", str(source)]
    zc = [
        args.zircolite_python,
        "zircolite.py",
        *flag,
        "-r",
        str(work / "ruleset.json"),
        "-o",
        str(work / f"{kind}-zircolite.json"),
        "-q",
    ]
    return {
        "huntbook ingest+detect": (["sh", "-c", both], None),
        "huntbook detect --ingest": (["sh", "-c", one], None),
        "huntbook detect": ([*detect, "--store", str(store)], None),
        "zircolite": (zc, zircolite),
    }


def _compare(kind: str, out: Path, zircolite_json: Path) -> list[str]:
    """Rule by rule (title): the matches of each tool, every difference listed."""
    summary = json.loads((out / "summary.json").read_text())
    ours = {e["title"]: e["hits"] for e in summary["results"] if e["status"] == "ran"}
    theirs: dict[str, int] = {}
    for entry in json.loads(zircolite_json.read_text()):  # one entry per rule and input file
        theirs[entry["title"]] = theirs.get(entry["title"], 0) + entry["count"]
    lines = [
        f"{kind}: huntbook {sum(ours.values())} matches over {sum(1 for v in ours.values() if v)} "
        f"rules; Zircolite {sum(theirs.values())} over {len(theirs)} rules"
    ]
    for title in sorted(set(ours) | set(theirs)):
        a, b = ours.get(title, 0), theirs.get(title, 0)
        if a != b:
            lines.append(
                f"  {'MORE ' if a > b else 'FEWER'} huntbook {a:4d} zircolite {b:4d}  {title}"
            )
    return lines


def _tree(root: int, read: dict[int, int]) -> tuple[int, float]:
    """Resident KiB and CPU seconds (user + system) of ``root`` and every process under it; the
    bytes each of them has read so far (``/proc/PID/io`` rchar) are recorded in ``read``."""
    parents: dict[int, int] = {}
    usage: dict[int, tuple[int, float]] = {}
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        cpu = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
        usage[pid] = int(fields[21]) * page // 1024, cpu
    tree, grew = {root}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree, grew = tree | more, bool(more)
    found = [usage[p] for p in tree if p in usage]
    for pid in tree:
        try:
            io = (Path("/proc") / str(pid) / "io").read_text()
        except OSError:
            continue
        read[pid] = max(read.get(pid, 0), int(io.split("rchar:")[1].split()[0]))
    return sum(k for k, _ in found), sum(c for _, c in found)


def watched(
    command: Sequence[str], cwd: Path | None, cap_seconds: float, cap_mib: float
) -> dict[str, object]:
    """Run ``command``: its wall time, its tree's peak MiB and CPU seconds (sampled, so a CPU
    figure misses the last half second), the GiB its processes had read by the last sample (all
    they read, input and libraries; of a run killed at a cap, an upper bound of the input it got
    through) and how it ended (killed past a cap)."""
    started = time.perf_counter()
    with subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    ) as process:
        peak, cpu, ended, read = 0.0, 0.0, "finished", dict[int, int]()
        while process.poll() is None:
            kib, seconds = _tree(process.pid, read)
            peak, cpu = max(peak, kib / 1024), max(cpu, seconds)
            elapsed = time.perf_counter() - started
            cap = "time" if elapsed > cap_seconds else "memory" if peak > cap_mib else ""
            if cap:
                os.killpg(process.pid, signal.SIGKILL)  # the session this call started
                ended = f"killed at the {cap} cap"
                break
            time.sleep(0.5)
        _, err = process.communicate()
    if ended == "finished" and process.returncode not in (0, 4):
        ended = f"exit {process.returncode}: {err.decode(errors='replace')[-500:]}"
    wall = round(time.perf_counter() - started, 2)
    gib = round(sum(read.values()) / 2**30, 2)
    return {
        "seconds": wall,
        "cpu": round(cpu, 1),
        "mib": round(peak),
        "read_gib": gib,
        "ended": ended,
    }


def _copies(data: Path, work: Path, lines: int) -> Path:
    """A folder of the recordings repeated to about ``lines`` lines (hard links to one pool)."""
    pool, bodies = work / "pool", {}
    for archive in sorted((data / "security-datasets").glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            bodies[Path(zf.namelist()[0]).name] = zf.read(zf.namelist()[0])
    per_copy = sum(body.count(b"\n") for body in bodies.values())
    copies = max(1, round(lines / per_copy))
    folder = work / f"input-{lines}"
    folder.mkdir(parents=True, exist_ok=True)
    pool.mkdir(exist_ok=True)
    for copy in range(copies):
        for name, body in bodies.items():
            shared, path = pool / f"{copy:04d}-{name}", folder / f"{copy:04d}-{name}"
            if not shared.exists():
                shared.write_bytes(body + b"\n" * copy)  # distinct content, same events
            if not path.exists():
                os.link(shared, path)
    size = sum(f.stat().st_size for f in folder.iterdir()) / 2**30
    print(
        f"{folder}: {copies} copies, {copies * per_copy:,} JSON lines, {size:.2f} GiB", flush=True
    )
    return folder


def _warm(args: argparse.Namespace, work: Path) -> None:
    """Convert the rules once (on one recording's store): the timed detect runs find them cached."""
    store = work / "warm-store"
    if not store.exists():
        source = _largest_recording(args.data, work)
        subprocess.run([*HUNTBOOK, "ingest", str(source), "--store", str(store)], check=True)
    detect = [
        *HUNTBOOK,
        "detect",
        str(args.rules),
        "--store",
        str(store),
        "--out",
        str(work / "warm"),
    ]
    subprocess.run(detect, capture_output=True, check=False)


def scale(args: argparse.Namespace, work: Path, zircolite: Path) -> None:
    """Each ``--scale`` size once: huntbook ingest, huntbook detect, Zircolite under its caps."""
    cap_seconds, cap_mib = args.cap_minutes * 60, args.cap_gib * 1024
    for lines in args.scale:
        source = _copies(args.data, work, lines)
        store, out = work / f"store-{lines}", work / f"out-{lines}"
        runs: dict[str, dict[str, object]] = {}
        if "huntbook" in args.tools:
            shutil.rmtree(store, ignore_errors=True)
            ingest = [*HUNTBOOK, "ingest", str(source), "--store", str(store)]
            detect = [
                *HUNTBOOK,
                "detect",
                str(args.rules),
                "--store",
                str(store),
                "--out",
                str(out),
            ]
            runs["huntbook ingest"] = watched(ingest, None, cap_seconds, cap_mib)
            if runs["huntbook ingest"]["ended"] == "finished":
                runs["huntbook detect"] = watched(detect, None, cap_seconds, cap_mib)
        if "zircolite" in args.tools:
            (work / f"zircolite-{lines}.json").unlink(missing_ok=True)
            command = [
                args.zircolite_python, "zircolite.py", "--jsononly", "--evtx", str(source),
                "-r", str(work / "ruleset.json"), "-o", str(work / f"zircolite-{lines}.json"), "-q",
            ]  # fmt: skip
            runs["zircolite"] = watched(command, zircolite, cap_seconds, cap_mib)
            if runs["zircolite"]["ended"] != "finished":  # what it wrote is not the whole answer
                (work / f"zircolite-{lines}.json").unlink(missing_ok=True)
        load = os.getloadavg()
        for name, run in runs.items():
            print(f"{lines:>10,} {name:16s} {run}  load {load[0]:.2f}", flush=True)
            entry = {"lines": lines, "command": name, **run, "load": load}
            with (work / "results.jsonl").open("a") as log:
                log.write(json.dumps(entry) + "\n")
        if (out / "summary.json").exists() and _finished(work, lines):  # both ran, now or before
            result = work / f"zircolite-{lines}.json"
            print("\n".join(_compare(f"{lines:,} lines", out, result)), flush=True)


def _finished(work: Path, lines: int) -> bool:
    """Whether a Zircolite run on ``lines`` lines finished (``results.jsonl``): another run may
    still be writing its output."""
    log = work / "results.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return any(
        e["lines"] == lines and e["command"] == "zircolite" and e["ended"] == "finished"
        for e in entries
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--rules", type=Path, default=None)
    parser.add_argument(
        "--zircolite", type=Path, default=ROOT.parent / "shared" / "tools" / "zircolite"
    )
    parser.add_argument("--zircolite-python", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--inputs", nargs="+", choices=["evtx", "json"], default=["evtx", "json"])
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="JSON lines (at scale)")
    parser.add_argument("--tools", nargs="+", default=["huntbook", "zircolite"])
    parser.add_argument("--cap-minutes", type=float, default=30.0)
    parser.add_argument("--cap-gib", type=float, default=8.0)
    parser.add_argument("--work", type=Path, default=None, help="kept, and reused, when given")
    args = parser.parse_args()
    args.rules = args.rules or args.data / "sigma" / "rules"
    work = args.work or Path(tempfile.mkdtemp(prefix="huntbook-detect-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    zircolite = work / "zircolite"
    if not zircolite.exists():
        shutil.copytree(args.zircolite, zircolite, copy_function=shutil.copyfile)
        for folder, _, _ in os.walk(zircolite):  # the shared copy is read-only; Zircolite writes
            Path(folder).chmod(0o755)
    if not (work / "ruleset.json").exists():
        _zircolite_ruleset(args, work, zircolite)
    os.environ["HUNTBOOK_CACHE"] = str(work / "cache")  # converted rules: cold once, then warm
    if args.scale:
        if "huntbook" in args.tools:
            _warm(args, work)
        scale(args, work, zircolite)
        return
    sources = {
        "evtx": lambda: args.data / "evtx",
        "json": lambda: _largest_recording(args.data, work),
    }
    inputs = {kind: sources[kind]() for kind in args.inputs}
    print(f"work folder {work}")
    for kind, source in inputs.items():
        commands = _commands(source, kind, args, work, zircolite)
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(args.repeat):
            for name, (command, cwd) in commands.items():
                run = timed(command, cwd)
                best[name] = min(best.get(name, run), run)  # the fastest run, with its memory
                print(f"  {kind} {name}: {run[0]:.2f} s, {run[2]:.2f} CPU-s", flush=True)
        for name, (wall, rss, cpu) in best.items():
            print(f"{kind:5s} {name:24s} {wall:7.2f} s  peak {rss:7.1f} MiB  {cpu:6.2f} CPU-s")
        print("\n".join(_compare(kind, work / f"{kind}-out", work / f"{kind}-zircolite.json")))


def _zircolite_ruleset(args: argparse.Namespace, work: Path, zircolite: Path) -> None:
    """The SigmaHQ rules converted once by Zircolite itself, saved as the timed runs' ruleset."""
    subprocess.run(
        [
            args.zircolite_python,
            "zircolite.py",
            "--evtx",
            str(args.data / "evtx" / "chainsaw"),
            "-r",
            str(args.rules),
            "-p",
            "sysmon",
            "windows-logsources",
            "-sr",
            "-q",
            "-n",
            "-o",
            str(work / "convert.json"),
        ],
        cwd=zircolite,
        capture_output=True,
        check=True,
    )
    (next(zircolite.glob("ruleset-*.json"))).replace(work / "ruleset.json")


if __name__ == "__main__":
    main()
