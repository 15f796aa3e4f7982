"""Fixtures for the analytics tests: hand-made stores and the real recordings, ingested once.

Hand-made events follow docs/architecture.md section 1 (Splunk field names, ``_time`` epoch
float). ``security``/``sysmon``/``system`` build one event of that channel; ``classic`` marks an
event that carries only the classic add-on names (the demo's Security logs).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from huntbook.ingest import ingest
from huntbook.store import Store
from huntbook.store.testing import make_store

T0 = 1_600_000_000.0
SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"

_counter = itertools.count()


def security(code: int | str, host: str, t: float, **fields: Any) -> dict[str, Any]:
    """A Security-channel event (sourcetype WinEventLog)."""
    return {
        "_time": T0 + t,
        "host": host,
        "EventCode": str(code),
        "index": "main",
        "source": "WinEventLog:Security",
        "sourcetype": "WinEventLog",
        "_raw": "",
        **fields,
    }


def system(code: int | str, host: str, t: float, **fields: Any) -> dict[str, Any]:
    return {**security(code, host, t, **fields), "source": "WinEventLog:System"}


def sysmon(code: int | str, host: str, t: float, **fields: Any) -> dict[str, Any]:
    return {
        "_time": T0 + t,
        "host": host,
        "EventCode": str(code),
        "index": "main",
        "source": SYSMON,
        "sourcetype": SYSMON,
        "_raw": "",
        **fields,
    }


def logon(
    host: str,
    t: float,
    logon_id: str,
    user: str,
    ip: str | None = None,
    workstation: str | None = None,
    logon_type: str = "3",
) -> dict[str, Any]:
    """4624 in the EVTX/JSON shape."""
    fields = {
        "TargetLogonId": logon_id,
        "SubjectLogonId": "0x0",
        "TargetUserName": user,
        "LogonType": logon_type,
    }
    if ip:
        fields["IpAddress"] = ip
    if workstation:
        fields["WorkstationName"] = workstation
    return security(4624, host, t, **fields)


def proc(
    host: str,
    t: float,
    logon_id: str,
    image: str,
    parent: str,
    cmd: str = "",
    user: str = "CORP\\alice",
) -> dict[str, Any]:
    """Sysmon 1 process creation."""
    return sysmon(
        1,
        host,
        t,
        LogonId=logon_id,
        Image=image,
        ParentImage=parent,
        CommandLine=cmd or image,
        User=user,
    )


def outbound(host: str, t: float, src: str, dst: str, port: str = "135") -> dict[str, Any]:
    """Sysmon 3: ``host`` opened a connection from ``src``."""
    return sysmon(
        3, host, t, SourceIp=src, DestinationIp=dst, DestinationPort=port, Initiated="true"
    )


@pytest.fixture
def build_store(tmp_path: Path) -> Callable[[Iterable[dict[str, Any]]], Store]:
    """Make a store from hand-made events (a fresh directory per call)."""

    def build(events: Iterable[dict[str, Any]]) -> Store:
        return make_store(tmp_path / f"store{next(_counter)}", list(events))

    return build


RECORDINGS = "security-datasets"


@pytest.fixture(scope="session")
def recording(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Store]:
    """A Security-Datasets recording ingested as index botsv2, once per test session."""
    cache: dict[str, Store] = {}

    def get(name: str) -> Store:
        if name not in cache:
            path = shared_data / RECORDINGS / f"{name}.zip"
            if not path.is_file():
                pytest.skip(f"{path} is absent")
            store = Store(tmp_path_factory.mktemp(name[:20]))
            ingest(store, [path], index="botsv2")
            cache[name] = store
        return cache[name]

    return get
