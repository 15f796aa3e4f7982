"""Every input format yields the same normalized event for the same Windows event.

tests/data holds one real WMI chain (empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod: the 4624 type
3, the 4688 and the Sysmon 1 of WmiPrvSE's child) written as NXLog JSON lines, a JSON array,
wevtutil XML, Splunk XmlWinEventLog XML, classic WinEventLog text, Winlogbeat, evtx_dump and Splunk
JSON/CSV exports.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from huntbook.ingest import READERS, detect_format, members
from huntbook.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"
CLASSIC = (
    "Security_ID",
    "Account_Name",
    "Account_Domain",
    "Logon_ID",
    "Logon_Type",
    "Source_Network_Address",
    "Workstation_Name",
    "Logon_Process",
    "Authentication_Package",
    "Process_Command_Line",
    "New_Process_Name",
    "Creator_Process_Name",
    "TaskCategory",
    "Token_Elevation_Type",
    "Mandatory_Label",
    "host",
    "source",
    "sourcetype",
    "dest",
    "src",
    "user",
)
EXPECTED_FORMATS = {
    "wmi_chain.jsonl": "jsonl",
    "wmi_chain_array.json": "json",
    "wmi_chain_wevtutil.xml": "xml",
    "wmi_chain_sysmon.xml": "xml",
    "wmi_chain_security.log": "wineventlog",
    "wmi_chain_winlogbeat.jsonl": "jsonl",
    "wmi_chain_evtx_dump.jsonl": "jsonl",
    "splunk_export.json": "jsonl",
    "splunk_export.csv": "csv",
}


def _lower(value: object) -> object:
    if isinstance(value, list):
        return [str(v).lower() for v in value]
    return value.lower() if isinstance(value, str) else value


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_format_is_detected(name: str) -> None:
    (member,) = members(DATA / name)
    assert detect_format(member) == EXPECTED_FORMATS[name]


def test_readers_cover_the_formats() -> None:
    assert set(READERS) == {"evtx", "xml", "wineventlog", "jsonl", "json", "csv"}


@pytest.mark.parametrize(
    ("code", "copies"),
    [
        ("4624", 7),  # NXLog, array, wevtutil, classic, Winlogbeat, evtx_dump, Splunk JSON
        ("4688", 5),  # NXLog, array, wevtutil, classic, Splunk CSV
    ],
)
def test_security_event_has_the_same_classic_names_in_every_format(
    fixture_store: Store, code: str, copies: int
) -> None:
    present = [c for c in CLASSIC if c.lower() in {f.lower() for f in fixture_store.fields()}]
    rows = _select(fixture_store, present, code)
    assert len(rows) == copies
    # logon ids: the message renders upper-case hex, EventData lower-case (windows-data.md 9)
    first = [_lower(v) for v in rows[0]]
    for row in rows[1:]:
        assert [_lower(v) for v in row] == first


def test_the_4624_fields_the_seed_needs(fixture_store: Store) -> None:
    con = fixture_store.connect()
    got = con.execute(
        "SELECT DISTINCT lower(Logon_ID[2]), Security_ID[2], Logon_Type, host, Account_Name[2] "
        "FROM events WHERE EventCode = '4624'"
    ).fetchall()
    assert got == [
        (
            "0x32c5cb5",
            "S-1-5-21-4228717743-1032521047-1810997296-1104",
            "3",
            "WORKSTATION6",
            "pgustavo",
        )
    ]


def _select(store: Store, fields: list[str], event_code: str) -> list[tuple[object, ...]]:
    """Fields by name, each read from its column (``Store.columns()``: case variants)."""
    columns = store.columns()
    query = (
        exp.select(*[exp.column(columns.get(f, f), quoted=True) for f in fields])
        .from_("events")
        .where(exp.column("EventCode").eq(exp.Literal.string(event_code)))
    )
    return store.connect().execute(query.sql("duckdb")).fetchall()


def test_sysmon_event_in_every_format(fixture_store: Store) -> None:
    fields = [
        "sourcetype",
        "source",
        "host",
        "LogonId",
        "ParentImage",
        "Image",
        "User",
        "CurrentDirectory",
        "user",
    ]
    rows = _select(fixture_store, fields, "1")
    assert len(rows) == 6  # NXLog, array, wevtutil, Splunk XML, Splunk JSON, Splunk CSV
    assert len(set(rows)) == 1
    sourcetype, source, host, logon, parent, image, user, cwd, cim_user = rows[0]
    assert cim_user == "pgustavo"  # the Sysmon add-on's CIM user: User without its domain
    assert sourcetype == source == "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
    assert (host, logon, user) == ("WORKSTATION6", "0x32c5cb5", "THESHIRE\\pgustavo")
    assert parent == "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"
    assert image.lower().endswith("powershell.exe") and cwd == "C:\\windows\\system32\\"


def test_time_agrees_across_formats(fixture_store: Store) -> None:
    """NXLog's local EventTime, moved to UTC, is the same second as TimeCreated in the XML."""
    con = fixture_store.connect()
    seconds = {int(t) for (t,) in con.execute("SELECT _time FROM events").fetchall()}
    assert seconds == {1600661693}  # 2020-09-21T04:14:53Z


def test_raw_is_the_original_record(fixture_store: Store) -> None:
    con = fixture_store.connect()
    raws = dict(
        con.execute(
            "SELECT source, _raw FROM events WHERE EventCode = '4624' AND _raw LIKE '__/__/____ %'"
        ).fetchall()
    )
    assert raws["WinEventLog:Security"].split("\n")[1] == "LogName=Security"
    xml = con.execute("SELECT _raw FROM events WHERE _raw LIKE '<Event %' LIMIT 1").fetchone()[0]
    assert xml.endswith("</Event>")
