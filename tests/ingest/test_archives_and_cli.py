"""Archives (.zip, .tar.gz, .gz) and the ``ingest``/``stats`` commands' output contract."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.ingest import ingest
from huntbook.store import Store
from huntbook.store.testing import make_store

DATA = Path(__file__).resolve().parents[1] / "data"
MEMBERS = ("wmi_chain_security.log", "wmi_chain_sysmon.xml", "wmi_chain.jsonl")
EXPECTED = {"wmi_chain_security.log": 2, "wmi_chain_sysmon.xml": 1, "wmi_chain.jsonl": 3}


def _count(store: Store) -> int:
    return int(store.connect().execute("SELECT count(*) FROM events").fetchone()[0])


def test_zip_and_tar_gz_members_are_detected_one_by_one(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "logs.zip", "w") as zf:
        for name in MEMBERS:
            zf.write(DATA / name, f"host1/{name}")
        zf.writestr("host1/README.txt", "not a log")
    with tarfile.open(tmp_path / "logs.tar.gz", "w:gz") as tf:
        for name in MEMBERS[:2]:
            tf.add(DATA / name, f"host2/{name}")
    store = Store(tmp_path / "s")
    summary = ingest(store, [tmp_path / "logs.zip", tmp_path / "logs.tar.gz"])
    zipped, tarred = summary.files
    assert (zipped.status, zipped.events, zipped.fmt) == ("stored", 6, "wineventlog")
    assert any("README.txt" in reason for reason in zipped.ignored)  # noted, not fatal
    assert not zipped.partial  # a readme beside the logs is no damage
    assert (tarred.status, tarred.events) == ("stored", 3)
    assert _count(store) == 9
    assert [i["events"] for i in store.inputs()] == [6, 3]


def test_gzip_file_is_read_through(tmp_path: Path) -> None:
    path = tmp_path / "sysmon.xml.gz"
    path.write_bytes(gzip.compress((DATA / "wmi_chain_sysmon.xml").read_bytes()))
    (result,) = ingest(Store(tmp_path / "s"), [path]).files
    assert (result.status, result.fmt, result.events) == ("stored", "xml", 1)


def test_ingest_then_stats_json_and_table(tmp_path: Path) -> None:
    store = tmp_path / "s"
    for name in MEMBERS:
        shutil.copy(DATA / name, tmp_path / name)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "ingest",
            *[str(tmp_path / n) for n in MEMBERS],
            "--index",
            "botsv2",
            "--store",
            str(store),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Ingested 6 events from 3 files" in result.output
    assert re.search(r"in \d+\.\d s, [\d,]+ events/s, one process", result.output)
    assert "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" in result.output
    result = runner.invoke(cli, ["stats", "--store", str(store), "--format", "json"])
    rows = json.loads(result.output)
    assert {tuple(sorted(r)) for r in rows} == {
        ("count", "first_time", "host", "index", "last_time", "source", "sourcetype")
    }
    by_source = {r["source"]: r for r in rows}
    security = by_source["WinEventLog:Security"]
    assert (security["index"], security["host"], security["count"]) == ("botsv2", "WORKSTATION6", 4)
    assert security["first_time"] == "2020-09-21T04:14:53Z"
    assert sum(r["count"] for r in rows) == 6
    table = runner.invoke(cli, ["stats", "--store", str(store)]).output.splitlines()
    assert table[0].split() == [
        "index",
        "sourcetype",
        "host",
        "source",
        "count",
        "first_time",
        "last_time",
    ]
    assert len(table) == 1 + len(rows)


def test_stats_of_an_empty_store(tmp_path: Path) -> None:
    make_store(tmp_path / "none", [])
    result = CliRunner().invoke(
        cli, ["stats", "--store", str(tmp_path / "none"), "--format", "json"]
    )
    assert result.exit_code == 0 and json.loads(result.output) == []
