"""Address resolution: which host owns an IP, learnt only from the events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huntbook.analytics._sql import Columns
from huntbook.analytics.addresses import (
    WEIGHTS,
    AddressBook,
    address_book,
    connections,
    normalize_ip,
    short_host,
    usable_ip,
)

from .conftest import logon, outbound, security, sysmon


def _book(store):
    columns = Columns.of(store)
    con = store.connect()
    return address_book(con, columns, connections(con, columns))


def test_sysmon_and_5156_reveal_a_hosts_own_address(build_store):
    store = build_store(
        [
            outbound("wrk-btun", 1.0, "10.0.2.15", "10.0.1.7"),
            # inbound Sysmon 3 on venus: the destination address is venus's own
            sysmon(
                3, "venus", 1.1, SourceIp="10.0.2.15", DestinationIp="10.0.1.7", Initiated="false"
            ),
            # 5156 inbound (%%14592) on wrk-klagerf: DestAddress is its own
            security(
                5156,
                "wrk-klagerf",
                2.0,
                SourceAddress="10.0.2.15",
                DestAddress="10.0.3.3",
                Direction="%%14592",
            ),
            # classic 5156 outbound
            security(
                5156,
                "mercury",
                2.5,
                Source_Address="10.0.4.4",
                Destination_Address="10.0.1.7",
                Direction="Outbound",
            ),
        ]
    )
    book = _book(store)
    assert book.to_dict() == {
        "10.0.1.7": "venus",
        "10.0.2.15": "wrk-btun",
        "10.0.3.3": "wrk-klagerf",
        "10.0.4.4": "mercury",
    }
    assert book.addresses_of("WRK-BTUN") == {"10.0.2.15"}


def test_logon_workstation_name_counts_less_than_a_hosts_own_events(build_store):
    store = build_store(
        [
            logon("venus", 1.0, "0x1", "a", ip="10.0.2.15", workstation="LIAR"),
            logon("venus", 2.0, "0x2", "a", ip="10.0.9.9", workstation="WRK-NEW"),
            outbound("wrk-btun", 3.0, "10.0.2.15", "10.0.1.7"),
        ]
    )
    book = _book(store)
    assert book.host_for("10.0.2.15") == "wrk-btun"  # own traffic outweighs a logon's claim
    assert book.host_for("10.0.9.9") == "WRK-NEW"  # only a claim: still better than nothing


def test_loopback_broadcast_and_multicast_are_ignored(build_store):
    store = build_store(
        [
            outbound("venus", 1.0, "127.0.0.1", "127.0.0.1"),
            outbound("venus", 1.0, "::1", "::1"),
            sysmon(
                3, "venus", 1.0, SourceIp="10.0.1.255", DestinationIp="10.0.1.7", Initiated="true"
            ),
            sysmon(
                3, "venus", 1.0, SourceIp="224.0.0.251", DestinationIp="10.0.1.7", Initiated="true"
            ),
        ]
    )
    assert _book(store).to_dict() == {}


def test_resolve_prefers_the_address_then_the_workstation_in_store_spelling():
    book = AddressBook(["WORKSTATION5", "WORKSTATION6"])
    book.add("172.18.39.5", "workstation5", 10)
    assert book.resolve("172.18.39.5", None) == "WORKSTATION5"
    assert book.resolve("::ffff:172.18.39.5", None) == "WORKSTATION5"
    assert book.resolve("10.9.9.9", "workstation6.corp.local") == "WORKSTATION6"
    assert book.resolve("10.9.9.9", "-") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("fe80::1%12", "fe80::1"),
        ("-", None),
        ("WORKSTATION5", None),
    ],
)
def test_normalize_ip(text, expected):
    assert normalize_ip(text) == expected


def test_usable_ip_and_short_host():
    assert usable_ip("0.0.0.0") is None
    assert usable_ip("172.18.39.5") == "172.18.39.5"
    assert short_host("WORKSTATION6.theshire.local") == "WORKSTATION6"
    assert short_host("172.18.39.5") == "172.18.39.5"


@given(
    owners=st.dictionaries(
        st.ip_addresses(v=4).map(str).filter(usable_ip),
        st.sampled_from(["venus", "mercury", "wrk-btun", "wrk-klagerf"]),
        min_size=1,
        max_size=8,
    ),
    liars=st.lists(st.sampled_from(["LIAR1", "LIAR2"]), max_size=9),
)
def test_own_traffic_outvotes_up_to_nine_false_claims(owners, liars):
    book = AddressBook(["venus", "mercury", "wrk-btun", "wrk-klagerf"])
    for ip, host in owners.items():
        book.add(ip, host, WEIGHTS["own"])
        for liar in liars:
            book.add(ip, liar, WEIGHTS["claimed"])
    assert all(book.host_for(ip) == host for ip, host in owners.items())
    assert book.to_dict() == dict(sorted(owners.items()))


def test_logons_naming_their_source_are_counted_in_the_engine(build_store, monkeypatch):
    """Fifty logons naming the same (address, workstation) arrive as one row weighing fifty."""
    import huntbook.analytics.addresses as addresses

    fetched: list[int] = []
    real_rows = addresses.rows

    def counting(con, query):
        found = real_rows(con, query)
        fetched.append(len(found))
        return found

    monkeypatch.setattr(addresses, "rows", counting)
    logons = [logon("venus", float(i), f"0x{i}", "bob", "10.0.0.9", "WRK-A") for i in range(50)]
    logons += [
        logon("venus", 60.0 + i, f"0x{60 + i}", "eve", "10.0.0.9", "WRK-B") for i in range(3)
    ]
    book = _book(build_store(logons))
    assert book.votes["10.0.0.9"] == {"WRK-A": 50 * WEIGHTS["claimed"], "WRK-B": 3}
    assert fetched[-1] == 2  # the pairs, not the 53 logons
