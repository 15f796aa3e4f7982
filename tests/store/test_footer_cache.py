"""``store.views.cache_footers``: every DuckDB connection to a store (a hunt's, the findings',
a search's, a detect slice's) reads each Parquet footer once, and still sees a file that changed."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from huntbook.store import Store
from huntbook.store.testing import make_store

EVENT = {"_time": 1.0, "EventCode": "1", "host": "h"}
SETTING = "SELECT current_setting('parquet_metadata_cache')"


def _write(path: Path, rows: int) -> None:
    pq.write_table(pa.table({"n": list(range(rows))}), path)


def test_footers_cached_for_every_cursor_and_a_changed_file_read_again(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    _write(path, 3)
    con = make_store(tmp_path / "store", [EVENT]).connect()
    cursor = con.cursor()
    assert cursor.execute(SETTING).fetchone() == (True,)
    count = "SELECT count(*) FROM read_parquet(?)"
    assert cursor.execute(count, [str(path)]).fetchone() == (3,)
    _write(path, 5)
    later = path.stat().st_mtime + 10
    os.utime(path, (later, later))
    assert con.cursor().execute(count, [str(path)]).fetchone() == (5,)


def test_a_connection_without_the_view_caches_them_too(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store", [EVENT])
    assert Store(store.path).connection().execute(SETTING).fetchone() == (True,)
