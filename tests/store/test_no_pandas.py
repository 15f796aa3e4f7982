"""Ingest builds its Arrow arrays without ``pa.array``, which imports pandas where installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from huntbook.store.parts import numbers, string_lists, strings

INGEST = """
import sys
from huntbook.ingest import IngestSettings, ingest
from huntbook.store import Store
summary = ingest(Store(sys.argv[1]), [sys.argv[2]], settings=IngestSettings(workers=1))
assert summary.events == 2, summary.events
print("pandas" in sys.modules)
"""


def test_an_ingest_does_not_import_pandas(tmp_path: Path) -> None:
    data = tmp_path / "two.jsonl"
    line = '{"EventID": 4688, "Hostname": "H", "@timestamp": "2020-09-18T13:07:51.000Z"}\n'
    data.write_text(line * 2)
    run = subprocess.run(
        [sys.executable, "-c", INGEST, str(tmp_path / "store"), str(data)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "False"


def test_the_builders_give_what_pa_array_gives() -> None:
    texts = ["a", None, "", "é"]
    assert strings(texts).equals(pa.array(texts, pa.string()))
    lists = [["x", "y"], None, ["z"], None, None, None, None, None, None, ["w"]]
    assert string_lists(lists).equals(pa.array(lists, pa.list_(pa.string())))
    assert numbers([1.5, 2.0], "d", pa.float64()).equals(pa.array([1.5, 2.0], pa.float64()))
    assert numbers(range(3, 6), "q", pa.int64()).equals(pa.array([3, 4, 5], pa.int64()))
