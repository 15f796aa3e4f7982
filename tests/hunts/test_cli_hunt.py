"""The `huntbook hunt` command line: the contract's verbatim forms."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.errors import StoreMissingError
from huntbook.store.testing import make_store

EVENTS = [
    {
        "_time": 1600657000.0 + i,
        "index": "botsv2",
        "host": "WORKSTATION6",
        "EventCode": "1",
        "sourcetype": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        "_raw": "<Event/>",
        "ParentCommandLine": "C:\\windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
        "CommandLine": f"powershell -noP -sta -w 1 -enc SQBG{i}",
        "LogonId": "0x32c5cb5",
    }
    for i in range(2)
]


def test_hunt_playbook_store_out_verbatim(tmp_path: Path, seed_path: Path) -> None:
    make_store(tmp_path / "store", EVENTS)
    args = [
        "hunt",
        str(seed_path),
        "--store",
        str(tmp_path / "store"),
        "--out",
        str(tmp_path / "out"),
        "--param",
        "login_id=0x32c5cb5",
        "--emit-detections",
        str(tmp_path / "det"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "WMI Parent Command-Line" in result.output and "Lateral movement:" in result.output
    assert "report.html" in result.output and "savedsearches.conf" in result.output
    doc = orjson.loads((tmp_path / "out" / "report.json").read_bytes())
    assert [q["title"] for q in doc["queries"]][-1] == "WMI Parent Command-Line"
    assert doc["params"] == {"login_id": "0x32c5cb5"}
    assert (tmp_path / "det" / "sigma" / "encoded-powershell.yml").is_file()


def test_hunt_by_builtin_name_and_run_alias(tmp_path: Path) -> None:
    make_store(tmp_path / "store", EVENTS)
    for args in (["hunt", "encoded-powershell"], ["hunt", "run", "encoded-powershell"]):
        result = CliRunner().invoke(cli, [*args, "--store", str(tmp_path / "store")])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Encoded PowerShell - Execution Hunt")


def test_hunt_list_and_unknown_name(tmp_path: Path) -> None:
    listed = CliRunner().invoke(cli, ["hunt", "list"])
    assert listed.exit_code == 0
    names = [line.split()[0] for line in listed.output.splitlines()]
    assert names == sorted(names) and len(names) == 7 and "wmi-lateral-movement" in names
    unknown = CliRunner().invoke(
        cli, ["hunt", "psexex-service-installation", "--store", str(tmp_path)]
    )
    assert unknown.exit_code != 0


def test_bad_param_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["hunt", "encoded-powershell", "--param", "novalue"])
    assert result.exit_code == 2 and "name=value" in result.output


def test_a_missing_store_is_a_store_missing_error(tmp_path: Path) -> None:
    """Exit 13 through the entry point: tests/test_cli_exit_codes.py."""
    result = CliRunner().invoke(
        cli, ["hunt", "encoded-powershell", "--store", str(tmp_path / "nope")]
    )
    assert isinstance(result.exception, StoreMissingError)
    assert "no event store" in str(result.exception)
