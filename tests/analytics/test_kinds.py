"""Event kinds of methods.yaml (analytics/kinds.py) and the rules that read them.

EventCodes collide across channels (Sysmon 21 is a WMI binding, LocalSessionManager 21 an RDP
logon): a kind is its codes *and* its channel, and a rule naming a kind that does not exist is
refused, not silently never matched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from huntbook.analytics.kinds import kind_of
from huntbook.analytics.lateral_movement import find_lateral_movement
from huntbook.analytics.methods import _rule
from huntbook.errors import MappingError
from huntbook.store import Store

from .conftest import SYSMON, logon, security, sysmon

LSM = "WinEventLog:Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
Build = Callable[[Iterable[dict[str, Any]]], Store]


def _lsm(code: int, host: str, t: float, address: str) -> dict[str, Any]:
    return {**security(code, host, t, User="CORP\\bob", Address=address), "source": LSM}


def test_the_same_code_is_a_different_kind_in_each_channel() -> None:
    assert kind_of({"EventCode": "21", "source": SYSMON}) == "wmi_consumer"
    assert kind_of({"EventCode": "21", "source": LSM}) == "rdp"
    assert kind_of({"EventCode": "21", "source": "WinEventLog:Security"}) is None


def test_a_rule_naming_an_unknown_event_kind_is_refused() -> None:
    with pytest.raises(MappingError, match="unknown event kind 'wmi_consumers'"):
        _rule({"scope": "nearby", "event": "wmi_consumers"}, "WMI")


def test_rdp_channels_name_the_client_and_a_console_logon_is_no_move(build_store: Build) -> None:
    edges = find_lateral_movement(
        build_store([_lsm(21, "venus", 0, "10.1.1.7"), _lsm(21, "mars", 0, "LOCAL")])
    )
    assert [(e.source, e.destination, e.account, e.method, e.confidence) for e in edges] == [
        ("10.1.1.7", "venus", "bob", "RDP", "direct")
    ]


def test_a_local_wmi_consumer_without_a_network_logon_is_no_move(build_store: Build) -> None:
    binding = sysmon(21, "venus", 1, EventType="WmiBindingEvent", User="VENUS\\alice")
    assert find_lateral_movement(build_store([binding])) == []
    remote = [logon("venus", 0, "0x7", "bob", ip="10.1.1.7"), binding]
    edges = find_lateral_movement(build_store(remote))
    assert [(e.source, e.method, e.confidence) for e in edges] == [("10.1.1.7", "WMI", "time")]
