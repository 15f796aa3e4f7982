"""End to end on the Security-Datasets recordings: ingest as botsv2, run the playbooks, read the
reports. The findings come from huntbook.analytics; the query checks need the SPL engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from huntbook.hunts import run_hunt
from huntbook.ingest import ingest
from huntbook.store import Store

pytestmark = pytest.mark.shared

WMI = "empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod"


def _ingest(shared_data: Path, tmp: Path, name: str) -> Store:
    store = Store(tmp / name)
    ingest(store, [shared_data / "security-datasets" / f"{name}.zip"], index="botsv2")
    return store


@pytest.fixture(scope="module")
def wmi_report(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("wmi")
    store = _ingest(shared_data, tmp, WMI)
    seed = shared_data.parent / "seed" / "wmi-lateral-movement-hunt.md"
    run_hunt(store, seed if seed.is_file() else "wmi-lateral-movement", out=tmp / "out")
    doc: dict[str, Any] = orjson.loads((tmp / "out" / "report.json").read_bytes())
    doc["_markdown"] = (tmp / "out" / "report.md").read_text()
    return doc


def test_seed_finds_the_wmi_lateral_movement(wmi_report: dict[str, Any]) -> None:
    edges = wmi_report["findings"]["lateral_movement"]
    wmi = [e for e in edges if e["method"] == "WMI"]
    assert [(e["source"], e["source_ip"], e["destination"], e["account"]) for e in wmi] == [
        ("WORKSTATION5", "172.18.39.5", "WORKSTATION6", "pgustavo")
    ]
    codes = {ev["EventCode"] for ev in wmi[0]["evidence"]}
    assert "4624" in codes and codes & {"1", "4688"}
    assert wmi[0]["first_seen"].startswith("2020-09-21")


def test_seed_decodes_the_empire_stager(wmi_report: dict[str, Any]) -> None:
    stagers = [
        f for f in wmi_report["findings"]["powershell"] if f["family"] == "PowerShell Empire stager"
    ]
    assert len(stagers) == 1
    script = stagers[0]["script"].lower()
    assert "net.webclient" in script and "iex" in script.replace(" ", "")
    # the stager ran on the destination, and (the attacker's foothold) on the source as well
    assert "WORKSTATION6" in stagers[0]["hosts"]


def test_report_names_hosts_account_method_and_payload(wmi_report: dict[str, Any]) -> None:
    conclusion = wmi_report["findings"]["conclusion"]
    for word in ("WORKSTATION5", "WORKSTATION6", "pgustavo", "WMI", "Empire"):
        assert word in conclusion
    assert [q["title"] for q in wmi_report["queries"]][
        1
    ] == "WMI Process Execution - Destination Host"
    assert all(isinstance(q["hits"], int) for q in wmi_report["queries"])
    assert wmi_report["store"]["inputs"][0]["sha256"] == (
        "96f1dbd9c5b077c8951b6e1f43b7fe01a2620c649889262481f15139a1746d88"
    )
    assert wmi_report["time_range"]["earliest"].startswith("2020-09-21")
    assert (
        "| WORKSTATION5 (172.18.39.5) | WORKSTATION6 | pgustavo | WMI |" in wmi_report["_markdown"]
    )


def test_seed_queries_run_unchanged(wmi_report: dict[str, Any]) -> None:
    """All six searches run verbatim. In this recording WmiPrvSE's command line is bare
    (no "-secured -Embedding"), so the seed's exact-match searches are true zeros; Sysmon 3 of
    svchost as NETWORK SERVICE is there (4 events); the transaction finds pgustavo's session and
    the template pivots on it."""
    queries = wmi_report["queries"]
    assert [q["status"] for q in queries] == ["ok", "zero", "ok", "ok", "ok", "zero"]
    assert queries[2]["hits"] == 4
    assert {r["DestinationPort"] for r in queries[2]["sample"]} == {"135"}  # RPC: WMI over DCOM
    assert queries[0]["hits"] == 2  # sourcetypes: WinEventLog and Sysmon
    sessions = {(r["session"], r["host"]) for r in queries[3]["sample"]}
    assert ("0x32c5cb5", "WORKSTATION6") in sessions
    template = queries[4]
    assert template["pivot"]["source_index"] == 3
    assert {"login_id": "0x32c5cb5", "host": "WORKSTATION6"} in [
        r["values"] for r in template["runs"]
    ]
    assert template["hits"] == sum(r["hits"] for r in template["runs"]) > 0
    assert all(q["sql"] for q in queries if q["status"] != "unfilled")


@pytest.mark.parametrize(
    ("recording", "playbook", "method"),
    [
        ("empire_psexec_dcerpc_tcp_svcctl", "psexec-service-installation", "PsExec/service"),
        ("empire_psremoting_stager", "winrm-powershell-remoting", "WinRM"),
        ("empire_wmic_add_user_backdoor", "wmi-lateral-movement", "WMI"),
    ],
)
def test_builtin_playbooks_find_their_edges(
    shared_data: Path, tmp_path: Path, recording: str, playbook: str, method: str
) -> None:
    result = run_hunt(_ingest(shared_data, tmp_path, recording), playbook)
    edges = [(e["source"], e["destination"], e["account"], e["method"]) for e in result.edges]
    assert ("WORKSTATION5", "WORKSTATION6", "pgustavo", method) in edges
