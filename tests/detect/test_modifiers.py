"""Sigma modifiers, one rule per behaviour, run through ``huntbook detect`` on hand-made events.

Each test names the Sigma specification rule it checks (SigmaHQ/sigma-specification,
Sigma_specification.md "Value modifiers", "Wildcards", "Lists", "null", "Keywords").
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.detect.events import SYSMON, sysmon_event

from huntbook.detect import run_detect
from huntbook.store.testing import make_store

EVENTS = [
    sysmon_event(
        0,
        Image=r"C:\Windows\System32\cmd.exe",
        CommandLine="cmd /c whoami",
        _raw="<Event>cmd /c WHOAMI</Event>",
    ),
    sysmon_event(
        1,
        Image=r"C:\Tools\PsExec.exe",
        CommandLine="psexec -s -accepteula cmd",
        ParentImage=r"C:\Tools\PsExec.exe",
    ),
    sysmon_event(2, Image=r"C:\a\powershell.exe", CommandLine="powershell -enc SQBFAFgA 100%_done"),
    sysmon_event(3, source=SYSMON, EventCode="3", DestinationIp="fe80::1%12", Initiated="true"),
    sysmon_event(4, source=SYSMON, EventCode="3", DestinationIp="::1", Initiated="false"),
    sysmon_event(5, source=SYSMON, EventCode="3", DestinationIp="10.1.2.3"),
    sysmon_event(
        6,
        source="WinEventLog:Security",
        EventCode="4688",
        NewProcessName=r"C:\Windows\System32\whoami.exe",
        CommandLine="whoami /all",
    ),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_store(tmp_path_factory.mktemp("store"), EVENTS)


def _hits(
    store: Any, tmp_path: Path, detection: str, category: str = "process_creation"
) -> list[int]:
    body = textwrap.indent(textwrap.dedent(detection).strip(), "    ")
    rule = (
        "title: t\nid: 00000000-0000-0000-0000-000000000001\n"
        f"logsource: {{product: windows, category: {category}}}\n"
        f"detection:\n{body}\nlevel: high\n"
    )
    path = tmp_path / "rule.yml"
    path.write_text(rule)
    result = run_detect(store, [path], cache=tmp_path / "cache")
    assert [r.status for r in result.rules] == ["ran"], [r.reason for r in result.rules]
    return sorted(int(h.event["_time"]) - 1_600_000_000 for h in result.hits)


def test_plain_string_is_whole_value_case_insensitive(store: Any, tmp_path: Path) -> None:
    # spec "Strings": plain values match the whole field, case-insensitively
    assert _hits(
        store,
        tmp_path,
        r"""
        sel: {Image: 'c:\windows\system32\CMD.EXE'}
        condition: sel""",
    ) == [0]


def test_contains_startswith_endswith(store: Any, tmp_path: Path) -> None:
    # spec "Value modifiers": contains / startswith / endswith
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|contains: 'WHOAMI'}
        condition: a""",
    ) == [0, 6]
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|startswith: 'PSEXEC -s'}
        condition: a""",
    ) == [1]
    assert _hits(
        store,
        tmp_path,
        r"""
        a: {Image|endswith: '\psexec.exe'}
        condition: a""",
    ) == [1]


def test_list_is_or_and_all_is_and(store: Any, tmp_path: Path) -> None:
    # spec "Lists": values of a list are OR'd; the `all` modifier ANDs them
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|contains: ['whoami', '-enc']}
        condition: a""",
    ) == [0, 2, 6]
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|contains|all: ['psexec', '-accepteula']}
        condition: a""",
    ) == [1]


def test_wildcards_and_literal_like_characters(store: Any, tmp_path: Path) -> None:
    # spec "Wildcards": * and ? in values; % and _ are plain characters
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine: 'cmd /c who?mi'}
        condition: a""",
    ) == [0]
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|endswith: '100%_done'}
        condition: a""",
    ) == [2]
    assert (
        _hits(
            store,
            tmp_path,
            """
        a: {CommandLine: 'cmd*%*'}
        condition: a""",
        )
        == []
    )


def test_regex_case_sensitive_unless_i_flag(store: Any, tmp_path: Path) -> None:
    # spec "re": case-sensitive by default, `i` flag, `(?i)` inside a group (RE2)
    assert (
        _hits(
            store,
            tmp_path,
            """
        a: {CommandLine|re: 'PSEXEC'}
        condition: a""",
        )
        == []
    )
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|re|i: 'PSEXEC\\s+-s'}
        condition: a""",
    ) == [1]
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|re: '(zz|(?i:WHOAMI /ALL))'}
        condition: a""",
    ) == [6]


def test_unsupported_regex_skips_the_rule_with_the_reason(store: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(
        textwrap.dedent("""
        title: lookahead
        logsource: {product: windows, category: process_creation}
        detection:
            a: {CommandLine|re: 'who(?=ami)'}
            condition: a
    """)
    )
    (rule,) = run_detect(store, [path], cache=tmp_path / "c").rules
    assert rule.status == "skipped"
    assert "RE2" in rule.reason


def test_cidr_ipv4_and_ipv6(store: Any, tmp_path: Path) -> None:
    # spec "cidr": IPv4 and IPv6 networks
    net = "network_connection"
    assert _hits(store, tmp_path, "a: {DestinationIp|cidr: '10.0.0.0/8'}\ncondition: a", net) == [5]
    assert _hits(store, tmp_path, "a: {DestinationIp|cidr: '::1/128'}\ncondition: a", net) == [4]
    assert _hits(store, tmp_path, "a: {DestinationIp|cidr: 'fe80::/10'}\ncondition: a", net) == [3]


def test_bool_string_matches_text(store: Any, tmp_path: Path) -> None:
    # the store holds text: Initiated 'true' matches a YAML boolean and a string alike
    net = "network_connection"
    assert _hits(store, tmp_path, "a: {Initiated: 'true'}\ncondition: a", net) == [3]
    assert _hits(store, tmp_path, "a: {Initiated: true}\ncondition: a", net) == [3]


def test_null_exists_and_not(store: Any, tmp_path: Path) -> None:
    # spec "null" and the `exists` modifier; NOT of a missing field is true
    assert _hits(
        store,
        tmp_path,
        """
        a: {ParentImage: null}
        condition: a""",
    ) == [0, 2, 6]
    assert _hits(
        store,
        tmp_path,
        """
        a: {ParentImage|exists: true}
        condition: a""",
    ) == [1]
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|contains: 'cmd'}
        f: {ParentImage|endswith: 'psexec.exe'}
        condition: a and not f""",
    ) == [0]


def test_fieldref(store: Any, tmp_path: Path) -> None:
    # spec "fieldref": compare with another field of the same event
    assert _hits(
        store,
        tmp_path,
        """
        a: {Image|fieldref: ParentImage}
        condition: a""",
    ) == [1]


def test_base64offset_and_windash(store: Any, tmp_path: Path) -> None:
    # spec "base64offset" (all three offsets) with "wide" (UTF-16LE) and "windash" (- / – —)
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|wide|base64offset|contains: 'IEX'}
        condition: a""",
    ) == [2]
    assert _hits(
        store,
        tmp_path,
        """
        a: {CommandLine|windash|contains: ' /s '}
        condition: a""",
    ) == [1]


def test_numeric_comparison(store: Any, tmp_path: Path) -> None:
    # spec "gt/gte/lt/lte": numeric comparison of the field
    assert _hits(
        store,
        tmp_path,
        """
        a: {EventCode|gte: 4000}
        condition: a""",
    ) == [6]


def test_keywords_search_the_rawsysmon_event(store: Any, tmp_path: Path) -> None:
    # spec "Keywords": a list of values without a field, case-insensitive, anywhere in the event
    assert _hits(
        store,
        tmp_path,
        """
        keywords: ['whoami']
        condition: keywords""",
    ) == [0]


def test_process_creation_runs_on_security_4688_with_its_names(store: Any, tmp_path: Path) -> None:
    # Hayabusa's mapping: Image is NewProcessName on Security 4688
    assert _hits(
        store,
        tmp_path,
        r"""
        a: {Image|endswith: '\whoami.exe'}
        condition: a""",
    ) == [6]


def test_every_rule_is_accounted_for(store: Any, tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("title: broken\ndetection: {condition: nope}\n")
    (tmp_path / "corr.yml").write_text("title: c\ncorrelation: {type: value_sum}\n")
    (tmp_path / "ls.yml").write_text(
        textwrap.dedent("""
        title: file access
        logsource: {product: windows, category: file_access}
        detection: {a: {TargetFilename: x}, condition: a}
    """)
    )
    result = run_detect(store, [tmp_path], cache=tmp_path / "c")
    states = {r.title: (r.status, r.reason) for r in result.rules}
    assert states["broken"][0] == "failed"
    assert states["c"][0] == "skipped"
    assert "correlation" in states["c"][1]
    assert states["file access"] == (
        "skipped",
        "no log source mapping for product:windows category:file_access",
    )


CORRELATED = """
title: whoami
id: 00000000-0000-0000-0000-00000000000a
name: whoami_run
logsource: {product: windows, category: process_creation}
detection: {a: {CommandLine|contains: whoami}, condition: a}
---
title: psexec
id: 00000000-0000-0000-0000-00000000000b
logsource: {product: windows, category: process_creation}
detection: {a: {CommandLine|contains: psexec}, condition: a}
---
title: whoami all
name: whoami_all
logsource: {product: windows, category: process_creation}
detection: {a: {CommandLine|contains: whoami /all}, condition: a}
"""


@pytest.mark.parametrize(
    ("correlation", "expected"),
    [
        # spec "Event Count": two whoami runs on one host within 10 s
        (
            "{type: event_count, rules: [whoami_run], group-by: [host], timespan: 10s, "
            "condition: {gte: 2}}",
            [(1_600_000_000, 2)],
        ),
        (
            "{type: event_count, rules: [whoami_run], group-by: [host], timespan: 5s, "
            "condition: {gte: 2}}",
            [],
        ),
        # spec "Value Count": distinct EventID values (EventCode in the store)
        (
            "{type: value_count, rules: [whoami_run], group-by: [host], timespan: 1h, "
            "condition: {gte: 2, field: EventID}}",
            [(1_599_998_400, 2)],
        ),
        # spec "Temporal Proximity": both rules within 10 s
        (
            "{type: temporal, rules: [whoami_run, 00000000-0000-0000-0000-00000000000b], "
            "group-by: [host], timespan: 10s}",
            [(1_600_000_000, 2)],
        ),
        # spec "Ordered Temporal Proximity": psexec (t=1) then a whoami (t=6) holds, whoami (t=0)
        # then psexec (t=1) too; psexec after `whoami /all` (t=6) does not
        (
            "{type: temporal_ordered, rules: [00000000-0000-0000-0000-00000000000b, whoami_run], "
            "group-by: [host], timespan: 10s}",
            [(1_600_000_000, 2)],
        ),
        (
            "{type: temporal_ordered, rules: [whoami_run, 00000000-0000-0000-0000-00000000000b], "
            "group-by: [host], timespan: 10s}",
            [(1_600_000_000, 2)],
        ),
        (
            "{type: temporal_ordered, rules: [whoami_all, 00000000-0000-0000-0000-00000000000b], "
            "group-by: [host], timespan: 10s}",
            [],
        ),
    ],
)
def test_correlation_rules(
    store: Any, tmp_path: Path, correlation: str, expected: list[tuple[int, int]]
) -> None:
    (tmp_path / "base.yml").write_text(CORRELATED)
    (tmp_path / "corr.yml").write_text(f"title: corr\ncorrelation: {correlation}\nlevel: high\n")
    result = run_detect(store, [tmp_path], cache=tmp_path / "c")
    (rule,) = [r for r in result.rules if r.title == "corr"]
    assert rule.status == "ran", rule.reason
    got = [(h.event["_time"], h.event["value"]) for h in result.hits if h.rule is rule]
    assert got == expected
