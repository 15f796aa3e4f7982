"""Every field the generator writes exists, for that EventCode, in real recordings (../shared/data).

Sysmon: the ``<Data Name>`` of each generated event against the EventData names of real Sysmon
events with the same id. Security: each classic Message line is read back as (block, label), mapped
to its EventData name through security.yaml (a line the template does not know fails), and that
name must appear in real events with the same EventCode. Value shapes are checked too.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import evtx
import orjson
import pytest

from huntbook.demo.generator import SECURITY_FILE, SYSMON_FILE, SYSTEM_FILE
from huntbook.demo.render import security_templates, system_templates

from .replay import classic_records

NXLOG_META = {
    "@timestamp", "@version", "Channel", "EventID", "Hostname", "host", "Keywords", "Message",
    "tags", "EventTime", "EventReceivedTime", "SourceModuleName", "SourceModuleType",
    "SourceName", "ProviderGuid", "Version", "Task", "OpcodeValue", "RecordNumber", "ProcessID",
    "ThreadID", "Category", "Opcode", "Severity", "SeverityValue", "EventType", "Domain",
    "AccountName", "UserID", "AccountType", "ExecutionProcessID", "ExecutionThreadID", "port",
}  # fmt: skip
_DATA_NAME = re.compile(r"<Data Name='([^']*)'>")
_EID = re.compile(r"<EventID>(\d+)</EventID>")


def _channel_kind(channel: str) -> str | None:
    channel = channel.lower()
    if "sysmon" in channel:
        return "sysmon"
    return channel if channel in ("security", "system") else None


def _from_evtx(root: Path, names: dict[tuple[str, int], set[str]]) -> None:
    for path in sorted(root.glob("evtx/**/*.evtx")):
        for record in evtx.PyEvtxParser(str(path)).records_json():
            event = json.loads(record["data"])["Event"]
            system = event["System"]
            eid = system["EventID"]
            eid = eid["#text"] if isinstance(eid, dict) else eid
            kind = _channel_kind(system.get("Channel", ""))
            data = event.get("EventData")
            if kind and isinstance(data, dict) and "Data" not in data:
                names[(kind, int(eid))].update(data)


def _from_security_datasets(root: Path, names: dict[tuple[str, int], set[str]]) -> None:
    for path in sorted(root.glob("security-datasets/*.zip")):
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                for line in zf.open(member):
                    if not line.strip():
                        continue
                    obj = orjson.loads(line)
                    kind = _channel_kind(obj.get("Channel", ""))
                    if kind:
                        names[(kind, int(obj["EventID"]))].update(set(obj) - NXLOG_META)


@pytest.fixture(scope="module")
def real_names(shared_data: Path) -> dict[tuple[str, int], set[str]]:
    names: dict[tuple[str, int], set[str]] = defaultdict(set)
    _from_evtx(shared_data, names)
    _from_security_datasets(shared_data, names)
    return names


def _sysmon_names(demo_dir: Path) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for path in sorted(demo_dir.glob(f"*/{SYSMON_FILE}")):
        for line in path.read_text(encoding="utf-8").splitlines():
            out[int(_EID.search(line).group(1))].update(_DATA_NAME.findall(line))  # type: ignore[union-attr]
    return out


def _security_names(record: str) -> tuple[int, set[str]]:
    """The EventData names a classic record stands for, read back from its Message lines."""
    head, _, message = record.partition("\nMessage=")
    eid = int(re.search(r"^EventCode=(\d+)$", head, re.M).group(1))  # type: ignore[union-attr]
    template = security_templates()[eid]
    known = {
        (b["title"], label): name for b in template["blocks"] for label, name, _ in b["fields"]
    }
    names, title = set(), None
    for line in message.split("\n")[1:]:
        block = re.fullmatch(r"([A-Z][^:\t]*):", line)
        field = re.fullmatch(r"(\t?)([^:\t\n]+):\t+(.*)", line)
        if block:
            title = block.group(1)
        elif field:
            key = (title if field.group(1) else None, field.group(2))
            assert key in known, f"{eid}: line {line!r} is not in the template"
            names.add(known[key])
        elif line == "":
            title = None
    return eid, names


def test_sysmon_fields_exist_in_real_recordings(real_names, demo_dir: Path) -> None:
    generated = _sysmon_names(demo_dir)
    assert set(generated) == {1, 5, 7, 11, 13}
    for eid, names in generated.items():
        assert names <= real_names[("sysmon", eid)], (eid, names - real_names[("sysmon", eid)])


def test_security_fields_exist_in_real_recordings(real_names, demo_dir: Path) -> None:
    seen: dict[int, set[str]] = defaultdict(set)
    for path in sorted(demo_dir.glob(f"*/{SECURITY_FILE}")):
        for record in classic_records(path):
            eid, names = _security_names(record)
            seen[eid] |= names
    assert {4624, 4634, 4648, 4672, 4688, 4689, 4769, 4776} <= set(seen)
    for eid, names in seen.items():
        template = {n for b in security_templates()[eid]["blocks"] for _, n, _ in b["fields"]}
        assert names == template, eid  # every templated field is written, nothing else
        assert names <= real_names[("security", eid)], (eid, names - real_names[("security", eid)])


def test_system_fields_exist_in_real_recordings(real_names, demo_dir: Path) -> None:
    """System messages carry EventData values in their text: each template's slots are real names,
    and every generated record is its template's text filled in."""
    patterns = {}
    for eid, template in system_templates().items():
        slots = set(re.findall(r"\{(\w+)\}", template["text"]))
        assert slots and slots <= real_names[("system", eid)], (eid, slots)
        patterns[eid] = (
            re.escape(template["text"])
            .replace(r"\{param1\}", ".+")
            .replace(r"\{param2\}", "(running|stopped)")
        )
    seen = 0
    for path in sorted(demo_dir.glob(f"*/{SYSTEM_FILE}")):
        for record in classic_records(path):
            eid = int(re.search(r"^EventCode=(\d+)$", record, re.M).group(1))  # type: ignore[union-attr]
            message = record.partition("\nMessage=")[2]
            assert re.fullmatch(patterns[eid], message), message
            seen += 1
    assert seen > 100


def test_value_shapes(demo_events) -> None:
    shapes = {
        "LogonId": r"0x[0-9a-f]+",
        "ProcessGuid": r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-0000-0010[0-9A-F]{8}\}",
        "LogonGuid": r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-0000-0020[0-9A-F]{8}\}",
        "Hashes": r"SHA1=[0-9A-F]{40},MD5=[0-9A-F]{32},SHA256=[0-9A-F]{64},IMPHASH=[0-9A-F]{32}",
        "ProcessId": r"\d+|0x[0-9a-f]+",
        "New_Process_ID": r"0x[0-9a-f]+",
        "Source_Port": r"\d+|-",
        "Logon_GUID": r"\{[0-9a-f-]{36}\}|\{0{8}-0{4}-0{4}-0{4}-0{12}\}",
    }
    checked = 0
    for event in demo_events:
        for field, shape in shapes.items():
            for value in (
                event.get(field, []) if isinstance(event.get(field), list) else [event.get(field)]
            ):
                if value is not None:
                    assert re.fullmatch(shape, value), (field, value)
                    checked += 1
        for value in event.get("Logon_ID", []) if isinstance(event.get("Logon_ID"), list) else []:
            assert re.fullmatch(r"0x[0-9A-F]+", value), value
    assert checked > 10_000
