"""huntbook detect against Zircolite on the same rule files and inputs (BENCHMARKS.md "Detect").

    python bench/detect.py --zircolite-python /tmp/zv/bin/python [--data ../shared/data]
                           [--rules ../shared/data/sigma/rules] [--repeat 3]

Zircolite (../shared/tools/zircolite, run from a copy outside the project, in a venv of its own as
its README in ../shared/tools says) gets the same SigmaHQ rules converted once with its own
``-r RULES -p sysmon windows-logsources -sr`` (pySigma's SQLite backend), and that saved ruleset
is what each timed run loads, as Zircolite is used. huntbook's converted-rule cache is likewise
warmed once before timing (the cold conversion is timed once and printed too).

Inputs: the EVTX folder of DATA/evtx and the largest Security-Datasets recording (unzipped JSON
lines). Per input, three commands, interleaved, best of ``--repeat`` runs each, whole-process
wall time and peak resident memory from ``/usr/bin/time -v``:

- huntbook ingest + detect (a fresh store each run, ``--out`` written),
- huntbook detect alone (on a store ingested beforehand),
- Zircolite (``--evtx`` for EVTX; ``--jsononly`` for JSON lines; ``-o`` written).

Then, rule by rule (by title), the matches of each tool where both ran the rule: every rule where
Zircolite finds more is listed (to be explained in BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUNTBOOK = [sys.executable, "-m", "huntbook"]


def timed(command: Sequence[str], cwd: Path | None = None) -> tuple[float, float]:
    """Whole-process wall seconds and peak resident MiB of ``command`` (``/usr/bin/time -v``)."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 4):  # huntbook detect exits 4 when something matched
        raise SystemExit(f"{command[:4]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss
    hours, minutes, seconds = wall.groups()
    total = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return total, int(rss.group(1)) / 1024


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
    wall, rss = timed([*detect, "--store", str(store)])
    print(
        f"{kind:5s} huntbook detect, first run  {wall:7.2f} s  peak {rss:7.1f} MiB (cache "
        f"{'cold: converts every rule' if kind == 'evtx' else 'warm'})"
    )
    both = (
        f"rm -rf {fresh} && {' '.join(HUNTBOOK)} ingest {source} --store {fresh} >/dev/null "
        f"&& {' '.join(detect)} --store {fresh}; test $? -le 4"
    )
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
        "huntbook detect": ([*detect, "--store", str(store)], None),
        "zircolite": (zc, zircolite),
    }


def _compare(kind: str, work: Path) -> list[str]:
    summary = json.loads((work / f"{kind}-out" / "summary.json").read_text())
    ours = {e["title"]: e["hits"] for e in summary["results"] if e["status"] == "ran"}
    theirs = {
        d["title"]: d["count"] for d in json.loads((work / f"{kind}-zircolite.json").read_text())
    }
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--rules", type=Path, default=None)
    parser.add_argument(
        "--zircolite", type=Path, default=ROOT.parent / "shared" / "tools" / "zircolite"
    )
    parser.add_argument("--zircolite-python", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    args.rules = args.rules or args.data / "sigma" / "rules"
    work = Path(tempfile.mkdtemp(prefix="huntbook-detect-bench-"))
    zircolite = work / "zircolite"
    shutil.copytree(args.zircolite, zircolite, copy_function=shutil.copyfile)
    for folder, _, _ in os.walk(zircolite):  # the shared copy is read-only; Zircolite writes here
        Path(folder).chmod(0o755)
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
    os.environ["HUNTBOOK_CACHE"] = str(work / "cache")  # converted rules: cold once, then warm
    inputs = {"evtx": args.data / "evtx", "json": _largest_recording(args.data, work)}
    print(f"work folder {work}")
    for kind, source in inputs.items():
        commands = _commands(source, kind, args, work, zircolite)
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.repeat):
            for name, (command, cwd) in commands.items():
                run = timed(command, cwd)
                best[name] = min(best.get(name, run), run)  # the fastest run, with its memory
        for name, (wall, rss) in best.items():
            print(f"{kind:5s} {name:24s} {wall:7.2f} s  peak {rss:7.1f} MiB")
        print("\n".join(_compare(kind, work)))


if __name__ == "__main__":
    main()
