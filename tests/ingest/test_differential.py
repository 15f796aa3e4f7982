"""The fast ingest path against the reference, over every recording in ../shared/data.

The reference is the per-value path kept beside the fast one (``store.parts.table_by_value``: every
value put in its column in Python, as huntbook always did). Both ingest the same inputs into
stores of their own; the stores must hold the same files with the same columns, in the same order,
of the same types, with the same values (``_raw`` included), the same catalog and case variants.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from huntbook.ingest import ingest
from huntbook.store import Store, parts

pytestmark = pytest.mark.shared


@contextmanager
def reference_path() -> Iterator[None]:
    """Ingest as huntbook did before the fast path: columns built value by value in Python."""
    before = parts.BUILDERS
    parts.BUILDERS = (parts.table_by_value,)
    try:
        yield
    finally:
        parts.BUILDERS = before


def _inputs(shared_data: Path) -> list[tuple[Path, str]]:
    """Every log recording: the EVTX folder, each Security-Datasets and lateral-movement zip."""
    zips = sorted((shared_data / "security-datasets").glob("*.zip"))
    zips += sorted((shared_data / "lateral-movement").glob("*.zip"))
    return [(shared_data / "evtx", "evtx")] + [(z, z.stem.lower()) for z in zips]


def _build(root: Path, inputs: list[tuple[Path, str]]) -> Store:
    store = Store(root)
    for path, index in inputs:
        summary = ingest(store, [path], index=index)
        assert not summary.failed, [f.error for f in summary.failed]
    return store


@pytest.fixture(scope="module")
def stores(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Store]:
    inputs = _inputs(shared_data)
    fast = _build(tmp_path_factory.mktemp("fast") / "store", inputs)
    with reference_path():
        reference = _build(tmp_path_factory.mktemp("reference") / "store", inputs)
    return fast, reference


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
