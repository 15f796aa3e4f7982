"""Stores on object storage (issue 13): a store copied to a local S3-compatible server (moto's
server mode, on 127.0.0.1; never the internet) is searched, hunted and checked through
``s3://bucket/prefix`` with the same answers as the local copy; writing to it is refused.

DuckDB reads it through pyarrow's S3 filesystem (the duckdb wheel has no httpfs); Spark needs
Hadoop's S3A connector, which pyspark's wheel does not carry: without it the Spark engine says so,
and with it (``make test-jars`` and ``SPARK_CONF_DIR``, as .ci/run does) searches and the seed
hunt on Spark read the store from moto with DuckDB's answers.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from huntbook.errors import EngineError, StoreDamagedError, StoreError, StoreMissingError
from huntbook.ingest import ingest
from huntbook.store import Store
from huntbook.store.location import RemotePath, remote_path, spark_location, store_path
from huntbook.workspace import Workspace

moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

DATA = Path(__file__).resolve().parents[1] / "data"
BUCKET = "hunts"
SEARCHES = [
    "index=botsv2 | stats count by host, EventCode",
    "index=botsv2 EventCode=1 | table _time, host, Image, CommandLine",
    "index=botsv2 | transaction host maxevents=3 | table host, eventcount",
]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A moto S3 server on a free loopback port, the environment pointing at it, one bucket."""
    import pyarrow.fs as pafs

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        fs = pafs.S3FileSystem(
            endpoint_override=env["AWS_ENDPOINT_URL"],
            access_key="testing",
            secret_key="testing",
            region="us-east-1",
            allow_bucket_creation=True,
        )
        fs.create_dir(BUCKET)
        yield fs
    server.stop()


@pytest.fixture(scope="module")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("object-storage") / "store"
    ingest(Store(path), [DATA / "wmi_chain.jsonl"], index="botsv2")
    return path


def upload(s3: Any, local: Path, prefix: str) -> str:
    """Copy a local store to ``s3://BUCKET/prefix``; returns that URI."""
    import pyarrow.fs as pafs

    pafs.copy_files(str(local), f"{BUCKET}/{prefix}", destination_filesystem=s3)
    return f"s3://{BUCKET}/{prefix}"


@pytest.fixture(scope="module")
def remote(s3: Any, local_store: Path) -> str:
    return upload(s3, local_store, "copy")


def test_store_paths_name_object_storage() -> None:
    assert str(store_path("s3://b/p/")) == "s3://b/p"
    assert str(store_path(Path("s3://b/p")) / "events" / "x.parquet") == "s3://b/p/events/x.parquet"
    assert str(store_path("abfss://c@acct.dfs.core.windows.net/p")) == (
        "abfss://c@acct.dfs.core.windows.net/p"
    )
    assert isinstance(store_path("gs://b"), RemotePath)
    assert remote_path("./s3/store") is None and remote_path("/data/store") is None
    assert spark_location("s3://b/p/f.parquet") == "s3a://b/p/f.parquet"
    assert spark_location("/data/f.parquet") == "/data/f.parquet"


@pytest.mark.parametrize("spl", SEARCHES)
def test_search_on_s3_same_as_local(spl: str, remote: str, local_store: Path) -> None:
    local = Workspace(local_store).search(spl)
    on_s3 = Workspace(remote).search(spl)
    assert on_s3.rows() == local.rows()
    assert local.rows()


def test_stats_and_fields_on_s3(remote: str, local_store: Path) -> None:
    assert Workspace(remote).stats() == Workspace(local_store).stats()
    assert Workspace(remote).store.fields() == Workspace(local_store).store.fields()


def test_hunt_on_s3_same_as_local(remote: str, local_store: Path, tmp_path: Path) -> None:
    """The seed playbook, searches and analytics, from the store on S3; the report names it."""
    local = Workspace(local_store).hunt("wmi-lateral-movement")
    on_s3 = Workspace(remote).hunt("wmi-lateral-movement", out=tmp_path / "report")
    assert [(q.status, q.hits, q.sample) for q in on_s3.queries] == [
        (q.status, q.hits, q.sample) for q in local.queries
    ]
    assert any(q.hits for q in on_s3.queries)
    assert on_s3.findings == local.findings
    assert remote in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")


def test_findings_for_one_index_on_s3(remote: str, local_store: Path) -> None:
    assert Workspace(remote).findings(index="botsv2") == Workspace(local_store).findings(
        index="botsv2"
    )


def test_writing_to_s3_refused(remote: str) -> None:
    with pytest.raises(StoreError, match="on object storage, which huntbook only reads"):
        Workspace(remote).ingest([DATA / "wmi_chain.jsonl"])
    with pytest.raises(StoreError, match="only reads"):
        Workspace(remote).compact()


def test_missing_store_on_s3(s3: Any) -> None:
    with pytest.raises(StoreMissingError, match=f"no event store at s3://{BUCKET}/nothing"):
        Workspace(f"s3://{BUCKET}/nothing").search("index=* | stats count")


def test_damaged_store_on_s3(s3: Any, local_store: Path) -> None:
    uri = upload(s3, local_store, "damaged")
    batch = Store(local_store).manifest()["batches"][0]
    s3.delete_file(f"{BUCKET}/damaged/{batch['files'][0]}")
    with pytest.raises(StoreDamagedError, match=f"batch {batch['id']}: .* is missing"):
        Workspace(uri).search("index=* | stats count")
    assert [d.batch["id"] for d in Workspace(uri).store.damage()] == [batch["id"]]


SIGMA = """
title: wmi child
logsource: {product: windows, category: process_creation}
detection: {a: {ParentImage|endswith: '\\\\WmiPrvSE.exe'}, condition: a}
"""


@pytest.mark.parametrize(
    ("argv", "code", "shown"),
    [
        (["search", "index=botsv2 | stats count", "--format", "json"], 0, '{"count":3}'),
        (["stats", "--format", "json"], 0, '"index": "botsv2"'),
        (["findings"], 0, "Lateral movement: 1 edge"),
        (["detect", "{rule}"], 4, "wmi child"),
        (["ingest", str(DATA / "wmi_chain.jsonl")], 13, "only reads"),
        (["repair"], 13, "only reads"),
    ],
)
def test_cli_on_s3(
    argv: list[str],
    code: int,
    shown: str,
    remote: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from huntbook.cli import main

    (tmp_path / "rule.yml").write_text(SIGMA)
    monkeypatch.setenv("HUNTBOOK_CACHE", str(tmp_path / "cache"))
    argv = [a.format(rule=tmp_path / "rule.yml") for a in argv]
    monkeypatch.setattr(sys, "argv", ["huntbook", *argv, "--store", remote])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    assert done.value.code == code, out.err
    assert "Traceback" not in out.err
    assert shown in (out.out if code in (0, 4) else out.err)


def _spark_has_s3a() -> bool:
    """Whether the process's Spark session (local[2]) has Hadoop's S3A connector; skips without
    pyspark or Java."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    from huntbook.engines.spark import spark_session

    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("OFF")  # failures are asserted, not logged
    try:
        session.sparkContext._jvm.java.lang.Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem")
    except Exception:  # py4j's error for a class that is not there
        return False
    return True


@pytest.fixture(scope="module")
def spark_s3a() -> None:
    """Spark with the S3A connector; skips, naming how to add it, when it has none."""
    if not _spark_has_s3a():
        pytest.skip(
            "Spark has no S3A connector (hadoop-aws): run `make test-jars` and export "
            "SPARK_CONF_DIR=~/.cache/huntbook/s3a-jars/conf before pytest, as .ci/run does"
        )


@pytest.mark.spark
def test_spark_on_s3_names_the_missing_connector(remote: str) -> None:
    """pyspark's wheel has no S3A connector (hadoop-aws), and nothing may download it at run time:
    the Spark engine refuses the store by naming what Spark lacks, rather than a Java trace."""
    if _spark_has_s3a():
        pytest.skip("this Spark has the S3A connector: the tests below read the store with it")
    with pytest.raises(EngineError, match=r"s3a:// files: .*hadoop-aws"):
        Workspace(remote, engine="spark").search("index=* | stats count")


@pytest.mark.spark
@pytest.mark.parametrize("spl", SEARCHES)
def test_search_on_spark_on_s3_same_as_duckdb(
    spl: str, remote: str, local_store: Path, spark_s3a: None
) -> None:
    from tests.query.test_spark_differential import _rows_same, _sorted

    duck = Workspace(local_store).search(spl)
    on_spark = Workspace(remote, engine="spark").search(spl)
    assert "`" in on_spark.sql  # Spark's SQL ran
    assert on_spark.columns == duck.columns
    assert _rows_same(_sorted(duck.rows()), _sorted(on_spark.rows())), spl
    assert duck.rows()


@pytest.mark.spark
def test_hunt_on_spark_on_s3_same_as_duckdb(
    remote: str, local_store: Path, spark_s3a: None
) -> None:
    """The seed playbook's searches and analytics, all on Spark reading the store from moto."""
    duck = Workspace(local_store).hunt("wmi-lateral-movement")
    on_spark = Workspace(remote, engine="spark").hunt("wmi-lateral-movement")
    assert [(q.status, q.hits, q.columns) for q in on_spark.queries] == [
        (q.status, q.hits, q.columns) for q in duck.queries
    ]
    assert any(q.hits for q in on_spark.queries)
    assert on_spark.findings == duck.findings


@pytest.mark.parametrize(
    ("environment", "location", "options"),
    [
        (
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1"},
            "s3a://b/p/f.parquet",
            {
                "fs.s3a.endpoint": "http://127.0.0.1:9000",
                "fs.s3a.endpoint.region": "eu-west-1",
                "fs.s3a.path.style.access": "true",
                "fs.s3a.connection.ssl.enabled": "false",
            },
        ),
        (
            {
                "AWS_ENDPOINT_URL": "http://elsewhere:1",
                "AWS_ENDPOINT_URL_S3": "https://minio.example:9000",
                "AWS_DEFAULT_REGION": "us-east-2",
                "AWS_ACCESS_KEY_ID": "id",
                "AWS_SECRET_ACCESS_KEY": "secret",
            },
            "s3a://b/p/f.parquet",
            {
                "fs.s3a.endpoint": "https://minio.example:9000",
                "fs.s3a.endpoint.region": "us-east-2",
                "fs.s3a.access.key": "id",
                "fs.s3a.secret.key": "secret",
                "fs.s3a.path.style.access": "true",
                "fs.s3a.connection.ssl.enabled": "true",
            },
        ),
        ({"AWS_REGION": "eu-west-1"}, "s3a://b/f", {"fs.s3a.endpoint.region": "eu-west-1"}),
        ({}, "s3a://b/f", {}),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, "/data/f.parquet", {}),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, "gs://b/f.parquet", {}),
    ],
)
def test_spark_reads_s3_where_the_aws_environment_says(
    environment: dict[str, str],
    location: str,
    options: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Spark's read of an s3a:// store takes the endpoint, region and keys DuckDB's side takes
    from the environment (Hadoop's connector reads none of them); nothing else is touched."""
    from huntbook.engines.spark import S3A_ENVIRONMENT, storage_options

    for name in {n for names in S3A_ENVIRONMENT.values() for n in names}:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert storage_options(location) == options


def test_reads_keep_a_position_per_thread(remote: str, local_store: Path) -> None:
    """DuckDB reads one file from several threads through one handle, each seeking then reading
    (two calls): a seek in one thread must not move another's read (it did through fsspec's
    own file, and a 200,000-event store failed with "only N bytes returned")."""
    import threading

    from huntbook.store.remote import RemoteStore, _DuckDBFiles

    store = Workspace(remote).store
    assert isinstance(store, RemoteStore)
    name = store.manifest()["batches"][0]["files"][0]
    expected = (local_store / name).read_bytes()
    handle = _DuckDBFiles(store._files).open(f"{remote}/{name}", "rb")
    handle.seek(4)
    other = threading.Thread(target=lambda: (handle.seek(100), handle.read(50)))
    other.start()
    other.join()
    assert handle.read(16) == expected[4:20]
    assert handle.seek(-8, os.SEEK_END) == len(expected) - 8
    assert handle.read() == expected[-8:] and handle.read(5) == b""
