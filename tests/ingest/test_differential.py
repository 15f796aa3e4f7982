"""The compiled JSON-lines path against the reference, over every recording in ../shared/data.

The reference is the Python path (ingest/json_reader.py and huntbook.normalize: a dict per line
and per event, each value put in its column in Python), which the compiled path
(ingest/columnar.py) falls back to and must match. Both ingest the same inputs into stores of
their own; the stores must hold the same files with the same columns, in the same order, of the
same types, with the same values (``_raw`` included), the same catalog and case variants; and
the compiled path must have read the recordings itself, not handed them all to the Python path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from huntbook.ingest import columnar, ingest, reading
from huntbook.ingest.base import IngestSettings
from huntbook.store import Store

pytestmark = pytest.mark.shared


ONE_PROCESS = IngestSettings(workers=1)  # the compiled path's refusals are counted here


@contextmanager
def reference_path() -> Iterator[None]:
    """Ingest by the Python path only, as huntbook did before the compiled path."""
    before = dict(reading.COMPILED)
    reading.COMPILED.clear()
    try:
        yield
    finally:
        reading.COMPILED.update(before)


def _inputs(shared_data: Path) -> list[tuple[Path, str]]:
    """Every log recording: the EVTX folder, each Security-Datasets and lateral-movement zip."""
    zips = sorted((shared_data / "security-datasets").glob("*.zip"))
    zips += sorted((shared_data / "lateral-movement").glob("*.zip"))
    return [(shared_data / "evtx", "evtx")] + [(z, z.stem.lower()) for z in zips]


def _build(root: Path, inputs: list[tuple[Path, str]]) -> Store:
    store = Store(root)
    for path, index in inputs:
        summary = ingest(store, [path], index=index, settings=ONE_PROCESS)
        assert not summary.failed, [f.error for f in summary.failed]
    return store


@pytest.fixture(scope="module")
def stores(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Store]:
    inputs = _inputs(shared_data)
    columnar.REFUSALS.clear()
    columnar.READ.clear()
    fast = _build(tmp_path_factory.mktemp("fast") / "store", inputs)
    with reference_path():
        reference = _build(tmp_path_factory.mktemp("reference") / "store", inputs)
    return fast, reference


def test_the_compiled_path_read_every_json_line(stores: tuple[Store, Store]) -> None:
    fast, _ = stores
    evtx = sum(n for (index, _), n in _counts(fast).items() if index == "evtx")
    assert columnar.REFUSALS == {}
    assert columnar.READ["events"] == fast.event_count() - evtx > 70_000


def _counts(store: Store) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for table in _tables(store):
        counted = table.group_by(["index", "sourcetype"]).aggregate([([], "count_all")])
        for row in counted.to_pylist():
            key = (row["index"], row["sourcetype"])
            out[key] = out.get(key, 0) + row["count_all"]
    return out


def _tables(store: Store) -> list[Any]:
    return [pq.read_table(f) for f in store.files()]


def test_same_columns_types_and_order(stores: tuple[Store, Store]) -> None:
    fast, reference = (_tables(s) for s in stores)
    assert len(fast) == len(reference) > 0
    for mine, theirs in zip(fast, reference, strict=True):
        assert mine.schema == theirs.schema


def test_same_rows_and_values(stores: tuple[Store, Store]) -> None:
    fast, reference = (_tables(s) for s in stores)
    for mine, theirs in zip(fast, reference, strict=True):
        assert mine.num_rows == theirs.num_rows
        for name in theirs.column_names:
            assert mine.column(name).to_pylist() == theirs.column(name).to_pylist(), name


def test_same_catalog_and_variants(stores: tuple[Store, Store]) -> None:
    fast, reference = stores
    assert fast.catalog() == reference.catalog()
    assert fast.columns() == reference.columns()
    assert fast.event_count() == reference.event_count() > 70_000
