"""chainsaw's security_sample.evtx, record 31794 (4624 type 5), field by field against its raw XML.

The XML comes from the ``evtx`` parser's other output (``records()``), read with ElementTree: an
independent path from the JSON the ingest uses.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import evtx
import pytest

from huntbook.ingest import ingest
from huntbook.store import Store

pytestmark = pytest.mark.shared
NS = {"e": "http://schemas.microsoft.com/win/2004/08/events/event"}
RECORD = "31794"


@pytest.fixture(scope="module")
def sample(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ET.Element, dict[str, Any]]:
    path = shared_data / "evtx" / "chainsaw" / "security_sample.evtx"
    xml = next(
        r["data"] for r in evtx.PyEvtxParser(str(path)).records() if f">{RECORD}<" in r["data"]
    )
    store = Store(tmp_path_factory.mktemp("chainsaw"))
    ingest(store, [path], index="chainsaw")
    cur = store.connect().execute("SELECT * FROM events WHERE EventRecordID = ?", [RECORD])
    field_of = {column: field for field, column in store.columns().items()}  # user~1 -> user
    names = [field_of.get(d[0], d[0]) for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1
    event = {k: v for k, v in zip(names, rows[0], strict=True) if v is not None}
    return ET.fromstring(xml.split("?>", 1)[1]), event


def _system(root: ET.Element, tag: str) -> ET.Element:
    elem = root.find(f"e:System/e:{tag}", NS)
    assert elem is not None, tag
    return elem


def _data(root: ET.Element) -> dict[str, str]:
    return {d.get("Name", ""): d.text or "" for d in root.findall("e:EventData/e:Data", NS)}


def test_every_event_data_field_under_its_own_name(
    sample: tuple[ET.Element, dict[str, Any]],
) -> None:
    root, event = sample
    data = _data(root)
    assert len(data) == 27
    for name, value in data.items():
        assert event[name] == value, name


def test_system_fields(sample: tuple[ET.Element, dict[str, Any]]) -> None:
    root, event = sample
    for tag in (
        "EventRecordID",
        "Computer",
        "Channel",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "Version",
    ):
        assert event[tag] == _system(root, tag).text, tag
    assert event["EventCode"] == _system(root, "EventID").text == "4624"
    provider = _system(root, "Provider")
    assert event["Provider_Name"] == provider.get("Name")
    assert event["Provider_Guid"] == provider.get("Guid")
    execution = _system(root, "Execution")
    assert event["Execution_ProcessID"] == execution.get("ProcessID")
    assert event["Execution_ThreadID"] == execution.get("ThreadID")
    stamp = _system(root, "TimeCreated").get("SystemTime", "")
    assert event["_time"] == pytest.approx(dt.datetime.fromisoformat(stamp).timestamp(), abs=1e-6)
    assert event["host"] == event["Computer"] == "DESKTOP-JK4Q86I"
    assert (event["source"], event["sourcetype"], event["index"]) == (
        "WinEventLog:Security",
        "WinEventLog",
        "chainsaw",
    )
    assert (
        event["_raw"].startswith("<Event xmlns=") and f"<EventRecordID>{RECORD}<" in event["_raw"]
    )


def test_classic_names(sample: tuple[ET.Element, dict[str, Any]]) -> None:
    root, event = sample
    data = _data(root)
    pairs = {
        "Security_ID": ("SubjectUserSid", "TargetUserSid"),
        "Account_Name": ("SubjectUserName", "TargetUserName"),
        "Account_Domain": ("SubjectDomainName", "TargetDomainName"),
        "Logon_ID": ("SubjectLogonId", "TargetLogonId"),
    }
    for classic, (subject, target) in pairs.items():
        assert event[classic] == [data[subject], data[target]], classic
    singles = {
        "Logon_Type": "LogonType",
        "Logon_Process": "LogonProcessName",
        "Authentication_Package": "AuthenticationPackageName",
        "Workstation_Name": "WorkstationName",
        "Source_Network_Address": "IpAddress",
        "Source_Port": "IpPort",
        "Process_ID": "ProcessId",
        "Process_Name": "ProcessName",
        "Key_Length": "KeyLength",
        "Linked_Logon_ID": "TargetLinkedLogonId",
    }
    for classic, name in singles.items():
        assert event[classic] == data[name], classic
    assert event["Logon_GUID"] == [data["LogonGuid"]]
    assert event["Impersonation_Level"] == "Impersonation"  # %%1833 as the message shows it
    assert (event["Virtual_Account"], event["Elevated_Token"]) == ("No", "Yes")
    assert event["TaskCategory"] == "Logon"
    assert (event["dest"], event["user"], event["src_user"]) == (
        "DESKTOP-JK4Q86I",
        "SYSTEM",
        "DESKTOP-JK4Q86I$",
    )
    assert "src" not in event  # WorkstationName and IpAddress are "-"
