"""``_sql.cache_footers``: a hunt's or the findings' connection reads each Parquet footer once,
and still sees a file that changed."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from huntbook.analytics._sql import cache_footers


def _write(path: Path, rows: int) -> None:
    pq.write_table(pa.table({"n": list(range(rows))}), path)


def test_footers_cached_for_every_cursor_and_a_changed_file_read_again(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    _write(path, 3)
    con = cache_footers(duckdb.connect())
    cursor = con.cursor()
    setting = "SELECT current_setting('parquet_metadata_cache')"
    assert cursor.execute(setting).fetchone() == (True,)
    count = "SELECT count(*) FROM read_parquet(?)"
    assert cursor.execute(count, [str(path)]).fetchone() == (3,)
    _write(path, 5)
    later = path.stat().st_mtime + 10
    os.utime(path, (later, later))
    assert con.cursor().execute(count, [str(path)]).fetchone() == (5,)


def test_an_engines_own_connection_is_left_as_it_is() -> None:
    class Engine:
        def rows(self, query: object) -> list[dict[str, object]]:
            raise AssertionError("nothing runs")

        def narrowed(self, where: object) -> Engine:
            return self

        def create_table(self, name: str, query: object) -> None:
            raise AssertionError("nothing runs")

        def close(self) -> None:
            pass

    engine = Engine()
    assert cache_footers(engine) is engine
