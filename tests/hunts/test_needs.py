"""What a query needs, read off its base search, and how a no-data zero is worded."""

from __future__ import annotations

from huntbook.hunts.needs import Need, no_data_note, query_needs

SYSMON = "xmlwineventlog:microsoft-windows-sysmon/operational"


def test_each_eventcode_is_scoped_by_the_terms_anded_around_it() -> None:
    spl = (
        'index="botsv2" (sourcetype=wineventlog (EventCode=4624 Logon_Type=3)) OR '
        f'(sourcetype="{SYSMON}" EventCode=1) | eval x=1 | search EventCode=9'
    )
    assert query_needs(spl) == [Need("botsv2", "wineventlog", "4624"), Need("botsv2", SYSMON, "1")]


def test_generating_commands_and_wildcards_need_nothing_knowable() -> None:
    # | metadata reads only the indexes it names: a missing index is a no-data zero, not a true one
    assert query_needs("| metadata type=sourcetypes index=botsv2") == [Need("botsv2", None, None)]
    assert query_needs("| metadata type=hosts") == []
    assert query_needs('index=x EventCode=46* host="h"') == [Need("x", None, None)]
    assert query_needs("index=x host=<host>") == []  # an unfilled template does not parse


def test_probe_quotes_every_value() -> None:
    need = Need("bots", 'odd"type', "3", None)
    assert need.probe() == 'index="bots" sourcetype="odd\\"type" EventCode="3" | head 1'
    assert need.locate() == 'sourcetype="odd\\"type" EventCode="3" | stats count by index'


def test_notes() -> None:
    assert no_data_note([Need(None, SYSMON, "3")]) == "No Sysmon Event ID 3 logs"
    assert no_data_note([Need("b", SYSMON, "3")]) == (
        "No Sysmon Event ID 3 logs in index b (nor in any other index of the store)"
    )
    both = [Need(None, None, "4698"), Need(None, None, "4702")]
    assert no_data_note(both) == "No Windows Event ID 4698/4702 logs"
    winrm = Need(None, None, "91", "WinEventLog:Microsoft-Windows-WinRM/Operational")
    assert no_data_note([winrm]) == "No Microsoft-Windows-WinRM/Operational Event ID 91 logs"


def test_in_lists_or_groups_and_search_precedence() -> None:
    """In ``search`` OR binds tighter than AND: the sourcetype scopes both sides of the OR."""
    spl = (
        "sourcetype=WinEventLog (EventCode=4698 OR EventCode=4702) "
        "OR (source=x EventCode IN (6, 91))"
    )
    assert query_needs(spl) == [
        Need(None, "WinEventLog", "4698"),
        Need(None, "WinEventLog", "4702"),
        Need(None, "WinEventLog", "6", "x"),
        Need(None, "WinEventLog", "91", "x"),
    ]
