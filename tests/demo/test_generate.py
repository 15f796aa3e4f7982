"""generate(): byte-identical for a seed and size, sized as asked, flat in memory."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from huntbook.demo import generate
from huntbook.demo.generator import SYSMON_FILE
from huntbook.errors import HuntbookError


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_and_size_give_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", events=3_000, seed=7)
    generate(tmp_path / "b", events=3_000, seed=7)
    first = digest(tmp_path / "a")
    assert len(first) == 9 * 3 + 1  # three logs per host, plus the manifest
    assert first == digest(tmp_path / "b")


def test_another_seed_gives_other_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", events=3_000, seed=7)
    generate(tmp_path / "b", events=3_000, seed=8)
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a[f"wrk-btun/{SYSMON_FILE}"] != b[f"wrk-btun/{SYSMON_FILE}"]


@pytest.mark.parametrize("size", [5_000, 40_000])
def test_size_is_close_to_the_request(tmp_path: Path, size: int) -> None:
    summary = generate(tmp_path, events=size)
    assert abs(summary.events - size) <= size * 0.02
    manifest = json.loads((tmp_path / ".manifest.json").read_text())
    assert manifest["events"] == summary.events == sum(manifest["files"].values())


def test_negative_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HuntbookError, match="events"):
        generate(tmp_path, events=-1)


def _peak_rss_kib(out: Path, events: int) -> int:
    code = (
        "import resource, sys\n"
        "from huntbook.demo import generate\n"
        f"generate({str(out)!r}, events={events})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_memory_stays_flat_as_size_grows(tmp_path: Path) -> None:
    """200k events must not cost more memory than 20k: events are written as they are made."""
    small = _peak_rss_kib(tmp_path / "small", 20_000)
    large = _peak_rss_kib(tmp_path / "large", 200_000)
    files = sum(p.stat().st_size for p in (tmp_path / "large").rglob("*"))
    assert files > 100 * 2**20  # holding the output in memory would show
    assert large - small < 24 * 1024, (small, large)
