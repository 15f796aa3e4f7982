"""``huntbook findings`` and ``Workspace.findings``: every analytic on a store or one index, each
evidence event named by its file and record."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.store import Store

from .conftest import logon, proc

SYS32 = "C:\\Windows\\System32\\"
WMI = SYS32 + "wbem\\WmiPrvSE.exe"
CMD = SYS32 + "cmd.exe"


def _wmi_move(index: str, host: str, t: float) -> list[dict[str, object]]:
    events = [
        logon(host, t, "0x5", "bob", ip="10.9.9.9"),
        proc(host, t + 0.2, "0x5", CMD, WMI, "cmd.exe /c whoami"),
    ]
    return [{**e, "index": index, "EventRecordID": str(100 + n)} for n, e in enumerate(events)]


def _store(path: Path) -> Path:
    """Two batches: index ``a`` holds a WMI move (ingested from ``a.evtx``), ``b`` another."""
    store = Store(path)
    for index, host in (("a", "venus"), ("b", "mars")):
        with store.writing(create=True):
            store.write_batch(
                _wmi_move(index, host, 1.0),
                inputs=[
                    {"path": f"/logs/{index}.evtx", "sha256": index, "index": index, "events": 2}
                ],
            )
    return path


def _findings(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["findings", *args])
    return result.exit_code, result.output


def test_json_has_every_analytic_and_edges_name_their_events(tmp_path: Path) -> None:
    code, out = _findings("--store", str(_store(tmp_path / "s")), "--format", "json")
    assert code == 0
    found = json.loads(out)
    assert {"lateral_movement", "powershell", "visibility", "conclusion", "errors"} <= set(found)
    edges = {
        (e["destination"], e["method"], e["attack"], e["confidence"])
        for e in found["lateral_movement"]
    }
    assert edges == {("venus", "WMI", "T1047", "logon_id"), ("mars", "WMI", "T1047", "logon_id")}
    venus = next(e for e in found["lateral_movement"] if e["destination"] == "venus")
    assert [(ev["file"], ev["record"]) for ev in venus["evidence"]] == [
        ("/logs/a.evtx", "100"),
        ("/logs/a.evtx", "101"),
    ]
    assert venus["source"] == "10.9.9.9" and venus["source_kind"] == "address"


def test_index_limits_the_findings_to_that_index(tmp_path: Path) -> None:
    code, out = _findings(
        "--store", str(_store(tmp_path / "s")), "--index", "b", "--format", "json"
    )
    assert code == 0
    edges = json.loads(out)["lateral_movement"]
    assert [(e["destination"], e["evidence"][0]["file"]) for e in edges] == [
        ("mars", "/logs/b.evtx")
    ]


def test_table_lists_edges_and_the_conclusion(tmp_path: Path) -> None:
    code, out = _findings("--store", str(_store(tmp_path / "s")), "--index", "a")
    assert code == 0
    assert "Lateral movement: 1 edge\n" in out and "T1047" in out and "logon_id" in out
    assert "Conclusion:" in out


def test_an_index_without_events_finds_nothing(tmp_path: Path) -> None:
    code, out = _findings("--store", str(_store(tmp_path / "s")), "--index", "nothing")
    assert code == 0
    assert "No lateral movement found." in out


def test_a_hunt_pointed_at_an_index_finds_only_its_moves(tmp_path: Path) -> None:
    """The built-in hunts run the same engine, on the index their searches read."""
    from huntbook.workspace import Workspace

    workspace = Workspace(_store(tmp_path / "s"))
    everywhere = workspace.hunt("wmi-lateral-movement").edges
    only_b = workspace.hunt("wmi-lateral-movement", index="b").edges
    assert sorted(e["destination"] for e in everywhere) == ["mars", "venus"]
    assert [(e["destination"], e["evidence"][0]["file"]) for e in only_b] == [
        ("mars", "/logs/b.evtx")
    ]


def test_evidence_names_the_archive_member_and_search_selects_it(tmp_path: Path) -> None:
    """A zip of two recordings: each edge's events name the zip, their member and their record,
    and ``huntbook search '_cd=N'`` gives the event back (the derived fixtures, zipped)."""
    derived = Path(__file__).resolve().parents[1] / "truth" / "derived"
    archive = tmp_path / "moves.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(derived / "rdp_channels.json", "x/first.json")
        out.write(derived / "dcom_excel.json", "second.json")
    store = tmp_path / "s"
    assert CliRunner().invoke(cli, ["ingest", "--store", str(store), str(archive)]).exit_code == 0
    code, out = _findings("--store", str(store), "--format", "json")
    assert code == 0
    where = {
        e["method"]: {(ev["file"], ev["member"], ev["record"]) for ev in e["evidence"]}
        for e in json.loads(out)["lateral_movement"]
    }
    assert where["DCOM"] == {
        (str(archive), "second.json", record) for record in ("429410", "900000001", "900000002")
    }
    assert {member for _, member, _ in where["RDP"]} == {"x/first.json"}
    dcom = next(e for e in json.loads(out)["lateral_movement"] if e["method"] == "DCOM")
    cd = dcom["evidence"][1]["_cd"]
    found = CliRunner().invoke(
        cli, ["search", "--store", str(store), f"_cd={cd} | table RecordNumber, NewProcessName"]
    )
    assert found.exit_code == 0
    assert "900000001" in found.output and "EXCEL.EXE" in found.output
