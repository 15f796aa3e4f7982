"""The real recordings of ../shared/data: everything ingests and PROVENANCE.md's counts hold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from huntbook.store import Store

pytestmark = pytest.mark.shared

NOT_LOGS = re.compile(r"(LICEN[CS]E.*|README\.md|PROVENANCE\.md|.*\.yaml)$")


def provenance(shared_data: Path) -> dict[str, dict[str, int]]:
    """recording -> {events, logon3, sysmon_wmi, sec_wmi}, read from the PROVENANCE.md table."""
    rows = {}
    for line in (shared_data / "PROVENANCE.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("empire_"):
            numbers = [int(c.replace(",", "")) for c in cells[1:5]]
            rows[cells[0]] = dict(
                zip(("events", "logon3", "sysmon_wmi", "sec_wmi"), numbers, strict=True)
            )
    return rows


COUNTS = """
SELECT index,
       count(*) AS events,
       count(*) FILTER (EventCode = '4624' AND Logon_Type = '3') AS logon3,
       count(*) FILTER (EventCode = '1'
                        AND sourcetype = 'XmlWinEventLog:Microsoft-Windows-Sysmon/Operational'
                        AND lower(ParentImage) LIKE '%\\wmiprvse.exe') AS sysmon_wmi,
       count(*) FILTER (EventCode = '4688'
                        AND lower(Creator_Process_Name) LIKE '%\\wmiprvse.exe') AS sec_wmi
FROM events WHERE index LIKE 'empire_%' GROUP BY index
"""


def test_every_log_file_ingests(shared_ingest: dict[str, Any]) -> None:
    files = [f for s in shared_ingest["summaries"] for f in s.files]
    assert not [f.error for f in files if f.status == "failed"]
    assert not [f.path for f in files if f.skipped_count]
    ignored = {Path(f.path).name for f in files if f.status == "ignored"}
    assert ignored and all(NOT_LOGS.match(name) for name in ignored), ignored
    stored = [f for f in files if f.status == "stored"]
    assert all(f.events > 0 for f in stored)
    assert sum(1 for f in stored if f.fmt == "evtx") == 61
    assert sum(1 for f in stored if f.fmt == "jsonl") == 8


def test_provenance_counts(shared_ingest: dict[str, Any], shared_data: Path) -> None:
    store: Store = shared_ingest["store"]
    expected = provenance(shared_data)
    assert len(expected) == 8
    cur = store.connect().execute(COUNTS)
    names = [d[0] for d in cur.description]
    got = {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cur.fetchall()}
    assert got == {recording.lower(): want for recording, want in expected.items()}


def test_same_content_under_another_index_adds_nothing(shared_ingest: dict[str, Any]) -> None:
    again = shared_ingest["summaries"][-1]
    assert again.events == 0 and len(again.duplicates) == 8
    con = shared_ingest["store"].connect()
    assert con.execute("SELECT count(*) FROM events WHERE index = 'again'").fetchone() == (0,)


def test_wmi_chain_through_classic_names(shared_ingest: dict[str, Any]) -> None:
    """PROVENANCE.md's chain: WORKSTATION5 logs on to WORKSTATION6, WmiPrvSE runs -enc there."""
    con = shared_ingest["store"].connect()
    logon = con.execute(
        "SELECT host, Account_Name[2], Source_Network_Address, TaskCategory, Logon_ID, source "
        "FROM events WHERE index = 'empire_wmi_dcerpc_wmi_iwbemservices_execmethod' "
        "AND EventCode = '4624' AND lower(Logon_ID[2]) = '0x32c5cb5'"
    ).fetchall()
    assert logon == [
        (
            "WORKSTATION6",
            "pgustavo",
            "172.18.39.5",
            "Logon",
            ["0x0", "0x32c5cb5"],
            "WinEventLog:Security",
        )
    ]
    child = con.execute(
        "SELECT host, CommandLine FROM events WHERE EventCode = '1' AND LogonId = '0x32c5cb5' "
        "AND ParentImage ILIKE '%wmiprvse.exe'"
    ).fetchall()
    assert len(child) == 1 and child[0][0] == "WORKSTATION6"
    assert child[0][1].startswith(
        "C:\\Windows\\System32\\WindowsPowershell\\v1.0\\powershell -noP -sta -w 1 -enc"
    )


def test_broken_shapes_of_the_real_data(shared_ingest: dict[str, Any]) -> None:
    """windows-data.md's shapes: positional Data, UserData, lower-case channel, host forms."""
    con = shared_ingest["store"].connect()
    positional = con.execute(
        "SELECT Data[1], Data[2] FROM events "
        "WHERE EventCode = '1040' AND Provider_Name = 'MsiInstaller'"
    ).fetchall()
    assert positional and positional[0][1] == "2128", positional
    cleared = con.execute(
        "SELECT count(*), count(SubjectUserName), count(Account_Name) FROM events "
        "WHERE EventCode = '1102' AND source = 'WinEventLog:Security'"
    ).fetchone()
    assert cleared[0] > 0 and cleared[0] == cleared[1] == cleared[2]
    assert con.execute(
        "SELECT DISTINCT source FROM events WHERE lower(source) = 'wineventlog:security'"
    ).fetchall() == [("WinEventLog:Security",)]
    assert con.execute("SELECT count(*) FROM events WHERE host LIKE '%.%'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM events WHERE _time < 946684800").fetchone() == (0,)
