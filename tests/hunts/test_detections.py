"""--emit-detections: saved searches for every event query, Sigma where Sigma can say it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from huntbook.errors import HuntbookError
from huntbook.hunts import load_playbook
from huntbook.hunts.detections import emit_detections
from huntbook.hunts.sigma import to_sigma

DAY = dt.date(2026, 1, 2)


def _stanzas(text: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("["):
            current = found.setdefault(line.strip("[]"), {})
        elif " = " in line and current is not None:
            key, value = line.split(" = ", 1)
            current[key] = value
    return found


def test_seed_detections(tmp_path: Path, seed_path: Path) -> None:
    emit_detections(load_playbook(seed_path), tmp_path, DAY)
    stanzas = _stanzas((tmp_path / "savedsearches.conf").read_text())
    # 3 behaviour queries (not | metadata, not the template, not the every-logon pivot) + encoded
    assert len(stanzas) == 4
    assert sum(name.endswith(" - Encoded PowerShell") for name in stanzas) == 1
    rules = sorted(p.name for p in (tmp_path / "sigma").iterdir())
    assert rules == [
        "encoded-powershell.yml",
        "wmi-network-connection-destination-host.yml",
        "wmi-parent-command-line.yml",
        "wmi-process-execution-destination-host.yml",
    ]


def test_detections_are_written_unscheduled_for_review(tmp_path: Path, seed_path: Path) -> None:
    emit_detections(load_playbook(seed_path), tmp_path, DAY)
    conf = (tmp_path / "savedsearches.conf").read_text()
    stanzas = _stanzas(conf)
    assert stanzas and all(s["enableSched"] == "0" for s in stanzas.values())
    assert conf.count("# unscheduled: review and tune on your data, then set enableSched = 1") == 4
    assert "review and tune on your own data, then set enableSched = 1" in conf


def test_a_hunt_pivot_is_not_an_alerting_detection(tmp_path: Path, seed_path: Path) -> None:
    """The seed's transaction over every network logon (and e.g. every service install) would
    fire on every logon: it is a pivot for the hunter, not an alert for the SOC."""
    emitted = emit_detections(load_playbook(seed_path), tmp_path, DAY)
    conf = (tmp_path / "savedsearches.conf").read_text()
    assert "Systems with Network 4624" not in conf
    notes = "\n".join(emitted.notes)
    assert (
        "Systems with Network 4624 Event followed by Sysmon Process Creations - Destination Host: "
        "saved search no, Sigma no (a hunt pivot: it selects every event of its kind" in notes
    )
    assert "WMI Parent Command-Line: saved search yes; Sigma yes" in notes
    root = Path(__file__).resolve().parents[2] / "src/huntbook/playbooks"
    psexec = load_playbook(root / "psexec-service-installation.md")
    out = tmp_path / "psexec"
    emit_detections(psexec, out, DAY)
    names = set(_stanzas((out / "savedsearches.conf").read_text()))
    assert not any("Services Installed" in n or "Network Logons" in n for n in names)
    assert any("Service Binary Is a Command Line" in n for n in names)
    assert not (out / "sigma" / "network-logons-destination-host.yml").exists()


def test_sigma_rule_content(tmp_path: Path, seed_path: Path) -> None:
    emit_detections(load_playbook(seed_path), tmp_path, DAY)
    rule = yaml.safe_load((tmp_path / "sigma" / "wmi-parent-command-line.yml").read_text())
    assert rule["logsource"] == {"product": "windows", "service": "sysmon"}
    assert rule["detection"] == {
        "selection": {
            "ParentCommandLine": "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"
        },
        "condition": "selection",
    }
    assert rule["tags"] == ["attack.t1047"] and rule["date"] == "2026-01-02"
    assert re.fullmatch(r"[0-9a-f-]{36}", rule["id"])
    encoded = yaml.safe_load((tmp_path / "sigma" / "encoded-powershell.yml").read_text())
    assert encoded["detection"]["condition"] == "all of selection_*"


def test_wildcards_and_or_groups_become_modifiers_and_lists() -> None:
    book = load_playbook(
        Path(__file__).resolve().parents[2] / "src/huntbook/playbooks/dcom-lateral-movement.md"
    )
    query = book.queries[1]  # Shells Started by mmc.exe or explorer.exe - Destination Host
    rule = to_sigma(book, query, DAY).rule
    assert rule is not None
    assert rule["detection"]["selection"] == {
        "EventID": 1,
        "ParentImage|endswith": ["\\mmc.exe", "\\explorer.exe"],
        "Image|endswith": [
            "\\cmd.exe",
            "\\powershell.exe",
            "\\mshta.exe",
            "\\rundll32.exe",
            "\\wscript.exe",
        ],
    }


def test_sigma_refuses_what_it_cannot_express(seed_path: Path, fixture_path) -> None:
    book = load_playbook(seed_path)
    reasons = [to_sigma(book, q, DAY).reason for q in book.queries]
    assert "generating command" in reasons[0]
    assert "transaction" in reasons[3] or "eval" in reasons[3]
    assert "template" in reasons[4]
    stats = load_playbook(fixture_path("minimal"))
    assert to_sigma(stats, stats.queries[0], DAY).rule is not None


def test_not_terms_become_filters() -> None:
    book = load_playbook(
        Path(__file__).resolve().parents[2] / "src/huntbook/playbooks/dcom-lateral-movement.md"
    )
    logons = next(q for q in book.queries if q.title == "Network Logons - Destination Host")
    rule = to_sigma(book, logons, DAY).rule
    assert rule is not None and rule["logsource"] == {"product": "windows", "service": "security"}
    assert rule["detection"] == {
        "selection": {"EventID": 4624, "LogonType": "3"},
        "filter_1": {"TargetUserName|endswith": "$"},
        "condition": "selection and not 1 of filter_*",
    }


def test_not_on_the_log_source_is_refused(fixture_path) -> None:
    book = load_playbook(fixture_path("minimal"))
    query = book.queries[0]
    negated = type(query)(0, "q", "index=main NOT sourcetype=x EventCode=1", 1, 1)
    assert "cannot negate" in to_sigma(book, negated, DAY).reason


def test_a_failed_write_leaves_the_earlier_detections_whole(
    tmp_path: Path, seed_path: Path
) -> None:
    book = load_playbook(seed_path)
    emit_detections(book, tmp_path, DAY)
    before = (tmp_path / "savedsearches.conf").read_text()
    shutil.rmtree(tmp_path / "sigma")
    (tmp_path / "sigma").write_text("a file where the rules' folder goes")
    (tmp_path / "savedsearches.conf").write_text(before + "# edited by hand\n")
    with pytest.raises(HuntbookError, match="cannot write detections"):
        emit_detections(book, tmp_path, DAY)
    assert (tmp_path / "savedsearches.conf").read_text() == before + "# edited by hand\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".huntbook-")]
