"""The shapes that break naive code (windows-data.md), one by one, through huntbook.normalize."""

from __future__ import annotations

import io
from typing import Any

import pytest
from evtx_bytes import evtx_file

from huntbook.errors import IngestError
from huntbook.ingest import Member, evtx_reader
from huntbook.normalize import normalize
from huntbook.normalize.classic import classic_fields, clean_key
from huntbook.normalize.finish import short_host


def _event(system: dict[str, Any], **sections: Any) -> dict[str, Any]:
    base = {
        "TimeCreated": {"#attributes": {"SystemTime": "2020-09-21T04:14:53.5Z"}},
        "Computer": "WORKSTATION6.theshire.local",
        "Channel": "Security",
        "EventID": 4624,
    }
    return {"Event": {"System": {**base, **system}, **sections}}


def test_event_id_object_with_qualifiers() -> None:
    event = normalize(
        "event",
        _event(
            {
                "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 600},
                "Channel": "Windows PowerShell",
            }
        ),
        "raw",
    )
    assert event["EventCode"] == "600"
    assert event["source"] == "WinEventLog:Windows PowerShell"


def test_positional_data_is_the_multivalue_data_field() -> None:
    data = {"Data": {"#text": ["Registry", "Started", "\tProviderName=Registry"]}}
    event = normalize(
        "event", _event({"EventID": 600, "Channel": "Windows PowerShell"}, EventData=data), "raw"
    )
    assert event["Data"] == ["Registry", "Started", "\tProviderName=Registry"]


def test_user_data_and_processing_error_data_fields_under_their_names() -> None:
    user_data = {
        "LogFileCleared": {
            "#attributes": {"xmlns": "x"},
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": "bob",
            "SubjectDomainName": "DOM",
            "SubjectLogonId": "0x3e7",
        }
    }
    event = normalize("event", _event({"EventID": 1102}, UserData=user_data), "raw")
    assert event["SubjectUserName"] == "bob"
    assert event["Account_Name"] == ["bob"] and event["Logon_ID"] == ["0x3e7"]
    assert event["TaskCategory"] == "Log clear"
    errors = {"ErrorCode": 15005, "DataItemName": "Param1", "EventPayload": "0A0B"}
    event = normalize("event", _event({"EventID": 4}, ProcessingErrorData=errors), "raw")
    assert (event["ErrorCode"], event["DataItemName"], event["EventPayload"]) == (
        "15005",
        "Param1",
        "0A0B",
    )


def test_channel_case_is_canonical() -> None:
    event = normalize(
        "event",
        _event({"Channel": "security"}, EventData={"SubjectUserName": "-", "TargetUserName": "x"}),
        "r",
    )
    assert (event["Channel"], event["source"], event["sourcetype"]) == (
        "Security",
        "WinEventLog:Security",
        "WinEventLog",
    )
    assert event["Account_Name"] == ["-", "x"]


@pytest.mark.parametrize(
    ("name", "host"),
    [
        ("WORKSTATION6.theshire.local", "WORKSTATION6"),
        ("WORKSTATION6", "WORKSTATION6"),
        ("172.18.39.5", "172.18.39.5"),
        ("fe80::1", "fe80::1"),
    ],
)
def test_host_is_the_short_name(name: str, host: str) -> None:
    assert short_host(name) == host


def test_time_comes_from_time_created_not_the_record_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One record in ../data has a header time of 1601-01-01 and a different record id."""
    data = (
        '{"Event": {"System": {"EventID": 4624, "EventRecordID": 31794, "Channel": "Security",'
        ' "Computer": "h",'
        ' "TimeCreated": {"#attributes": {"SystemTime": "2022-10-11T19:26:52Z"}}}}}'
    )

    class FakeParser:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def records_json(self) -> Any:
            return iter(
                [{"event_record_id": 4, "timestamp": "1601-01-01 00:00:00 UTC", "data": data}]
            )

    monkeypatch.setattr(evtx_reader.evtx, "PyEvtxParser", FakeParser)
    sound = evtx_file(0)  # a file header alone: the checks pass, the fake parser answers
    member = Member("f.evtx", lambda: io.BytesIO(sound), path="f.evtx")
    (record,) = list(evtx_reader.read_evtx(member))
    event = normalize(record.kind, record.payload, record.raw)
    assert event["_time"] == 1665516412.0 and event["EventRecordID"] == "31794"


def test_record_without_time_is_rejected() -> None:
    obj = {"Event": {"System": {"EventID": 1, "Channel": "Security", "Computer": "h"}}}
    with pytest.raises(IngestError, match="TimeCreated"):
        normalize("event", obj, "raw")


def test_declared_multivalue_is_a_list_even_with_one_value() -> None:
    event = normalize(
        "event",
        _event({"EventID": 4672}, EventData={"SubjectUserName": "SYSTEM", "PrivilegeList": "x"}),
        "r",
    )
    assert event["Account_Name"] == ["SYSTEM"] and event["Privileges"] == "x"


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("\tLogon ID", "Logon_ID"),
        ("Package Name (NTLM only)", "Package_Name__NTLM_only_"),
        ("\tSource Network Address", "Source_Network_Address"),
        ("1st Thing", "st_Thing"),
    ],
)
def test_clean_keys(label: str, key: str) -> None:
    assert clean_key(label) == key


def test_classic_record_parsing_rules() -> None:
    record = "\n".join(
        [
            "08/23/2017 03:31:16 PM",
            "LogName=Security",
            "EventCode=4624",
            "ComputerName=venus.frothly.local",
            "Message=An account was successfully logged on.",
            "",
            "Subject:",
            "\tSecurity ID:\t\tNULL SID",
            "\tAccount Name:\t\t-",
            "\tLogon ID:\t\t0x0",
            "\tProcess Name:\t\tC:\\a.exe",
            "\tWorkstation Name:\t",
            "New Logon:",
            "\tAccount Name:\t\tbob",
            "\tLogon ID:\t\t0x11D8AEF",
            "\tProcess Name:\t\tC:\\second.exe\r",
        ]
    )
    fields, when = classic_fields(record)
    assert when == 1503502276.0
    assert fields["Logon_ID"] == ["0x0", "0x11D8AEF"] and fields["Account_Name"] == ["-", "bob"]
    assert fields["Process_Name"] == "C:\\a.exe"  # not declared multivalue: the first one stays
    assert "Workstation_Name" not in fields  # empty values are dropped
    assert fields["ComputerName"] == "venus.frothly.local"
    event = normalize("classic", record, record)
    assert (event["host"], event["Computer"], event["dest"], event["user"]) == (
        "venus",
        "venus.frothly.local",
        "venus.frothly.local",
        "bob",
    )
