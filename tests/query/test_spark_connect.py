"""``--spark-remote sc://host:port``: searches and hunts through a Spark Connect server.

pyspark's wheel carries the Connect server (jars/spark-connect_*.jar), so a local one starts
offline: ``spark-submit --class ...SparkConnectServer`` on a free loopback port, once for the
module (about 20-60 s on this machine). The answers must be DuckDB's. Without a server, or with a
URL that is not one, the CLI exits 1 (EngineError, docs/errors.md) at once, naming the URL.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import TEST_CONF
from tests.query.test_spark_differential import _rows_same, _sorted

from huntbook.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data"
SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_SECONDS = 240
SEARCHES = [  # the hunt below runs plain filters and stats; these add Spark's rewrites
    "index=botsv2 | stats list(EventCode) as codes by host",
    "index=botsv2 | transaction host maxevents=3 | table host, eventcount, EventCode",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Spark Connect server on 127.0.0.1 for this module; skips without pyspark or Java."""
    pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed")
    pytest.importorskip("grpc", reason="pyspark's connect client (grpcio) is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    home = Path(pyspark.__file__).parent
    port = _free_port()
    log = (tmp_path_factory.mktemp("connect") / "server.log").open("wb")
    server = subprocess.Popen(
        [
            str(home / "bin" / "spark-submit"),
            *("--class", SERVER, "--master", "local[1]", "--driver-memory", "1g"),
            *("--conf", f"spark.connect.grpc.binding.port={port}"),
            *("--conf", "spark.connect.grpc.binding.address=127.0.0.1"),
            *("--conf", "spark.ui.enabled=false"),
            *(arg for key, value in TEST_CONF.items() for arg in ("--conf", f"{key}={value}")),
            "spark-internal",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # its executors run this Python, which has huntbook (an ingest's tasks import it)
        env={**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable},
    )
    try:
        _wait_for(server, port)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(60)
        log.close()


def _wait_for(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "the Spark Connect server exited while starting"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the Spark Connect server did not listen within {START_SECONDS} s")


@pytest.fixture(scope="module")
def chain_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from huntbook.ingest import ingest
    from huntbook.store import Store

    path = tmp_path_factory.mktemp("chain-connect") / "store"
    ingest(Store(path), [DATA / "wmi_chain.jsonl"], index="botsv2")
    return path


@pytest.mark.spark
def test_searches_through_spark_connect(chain_store: Path, connect_url: str) -> None:
    for spl in SEARCHES:
        duck = Workspace(chain_store).search(spl)
        remote = Workspace(chain_store, engine="spark", spark_remote=connect_url).search(spl)
        assert "`" in remote.sql  # Spark's SQL ran
        assert duck.columns == remote.columns
        assert _rows_same(_sorted(duck.rows()), _sorted(remote.rows())), spl
        assert duck.rows()


@pytest.mark.spark
def test_hunt_through_spark_connect(chain_store: Path, connect_url: str) -> None:
    duck = Workspace(chain_store).hunt("wmi-lateral-movement")
    remote = Workspace(chain_store, engine="spark", spark_remote=connect_url).hunt(
        "wmi-lateral-movement"
    )
    assert [(q.status, q.hits, q.columns) for q in remote.queries] == [
        (q.status, q.hits, q.columns) for q in duck.queries
    ]
    assert any(q.hits for q in remote.queries)


@pytest.mark.spark
def test_ingest_through_spark_connect(
    chain_store: Path,
    connect_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``huntbook ingest --engine spark --spark-remote``: the Connect server's executors read the
    files (a mapInArrow job) into the store a local ingest makes, then searched through it."""
    from huntbook.cli import main

    store = tmp_path / "store"
    argv = ["ingest", str(DATA / "wmi_chain.jsonl"), "--store", str(store), "--index", "botsv2"]
    argv += ["--engine", "spark", "--spark-remote", connect_url]
    monkeypatch.setattr(sys, "argv", ["huntbook", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    assert done.value.code == 0, out.err
    assert f"read on Spark {connect_url}" in out.out + out.err
    from huntbook.store import Store

    assert _stored(Store(store)) == _stored(Store(chain_store))
    spl = "index=botsv2 | stats count by host, EventCode"
    duck = Workspace(chain_store).search(spl)
    remote = Workspace(store, engine="spark", spark_remote=connect_url).search(spl)
    assert _rows_same(_sorted(duck.rows()), _sorted(remote.rows()))
    assert duck.rows()


def _stored(store: Any) -> tuple[list[Any], list[Any]]:
    """A store's events in order and its batches but their commit times and ids."""
    with store.connect() as con:
        rows = con.execute("SELECT * FROM events ORDER BY _cd").fetchall()
    batches = [
        {k: v for k, v in batch.items() if k not in ("committed", "id")}
        for batch in store.manifest()["batches"]
    ]
    return rows, batches


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--spark-remote", "sc://127.0.0.1:{closed}"], "no Spark Connect server answers at"),
        (["--spark-remote", "http://127.0.0.1:15002"], "is not a Spark Connect URL"),
        (
            ["--spark-remote", "sc://127.0.0.1:{closed}", "--spark-master", "local[4]"],
            "not both",
        ),
    ],
)
def test_spark_remote_refused_with_exit_1(
    options: list[str],
    message: str,
    chain_store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No server, not a Connect URL, or a master as well: exit 1 at once (no Java needed)."""
    from huntbook.cli import main

    closed = _free_port()  # nothing listens there
    argv = ["search", "index=* | stats count", "--engine", "spark", "--store", str(chain_store)]
    argv += [o.format(closed=closed) for o in options]
    monkeypatch.setattr(sys, "argv", ["huntbook", *argv])
    started = time.monotonic()
    with pytest.raises(SystemExit) as done:
        main()
    err = capsys.readouterr().err
    assert done.value.code == 1, err
    assert message in err and "Traceback" not in err
    assert time.monotonic() - started < 30
