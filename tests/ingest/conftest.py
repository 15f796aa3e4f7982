"""Stores built once per session: the shared recordings (an index per recording), the fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from huntbook.ingest import IngestSummary, ingest
from huntbook.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"


def index_name(path: Path) -> str:
    """The index a Security-Datasets recording is ingested into: its file name without .zip."""
    return path.name.removesuffix(".zip").lower()


@pytest.fixture(scope="session")
def shared_ingest(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every file of ../shared/data ingested once: EVTX as index ``evtx``, each recording apart."""
    store = Store(tmp_path_factory.mktemp("shared") / "store")
    summaries: list[IngestSummary] = [ingest(store, [shared_data / "evtx"], index="evtx")]
    for recording in sorted((shared_data / "security-datasets").glob("*.zip")):
        summaries.append(ingest(store, [recording], index=index_name(recording)))
    summaries.append(ingest(store, [shared_data / "security-datasets"], index="again"))
    return {"store": store, "summaries": summaries}


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """tests/data ingested once (the WMI chain of one recording, in every supported format)."""
    store = Store(tmp_path_factory.mktemp("fixtures") / "store")
    summary = ingest(store, [DATA], index="fixtures")
    assert not summary.failed, [f.error for f in summary.failed]
    return store
