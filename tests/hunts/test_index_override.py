"""``--index NAME``: the playbook's searches run against another index, rewritten on the parsed
search; a no-data zero says where it looked and where the store holds such events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from huntbook.cli import cli
from huntbook.hunts import run_hunt
from huntbook.hunts.needs import Need, no_data_note
from huntbook.hunts.result import IndexOverride
from huntbook.hunts.retarget import retarget
from huntbook.query import run_spl
from huntbook.query.spl.parser import parse
from huntbook.store.testing import make_store
from huntbook.workspace import Workspace

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
WMIPRVSE = "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"


def _event(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "_time": 1503500000.0 + i,
        "index": "main",
        "host": "W6",
        "sourcetype": SYSMON,
        "source": SYSMON,
        "EventCode": "1",
        "_raw": "<Event/>",
        "ParentCommandLine": WMIPRVSE,
        "CommandLine": "powershell -enc SQBFAFgA",
        **fields,
    }


@pytest.fixture
def store(tmp_path: Path) -> Any:
    """Sysmon events in index ``main`` (the seed names ``botsv2``)."""
    return make_store(tmp_path / "store", [_event(i) for i in range(3)])


def test_retarget_rewrites_index_terms_of_the_parsed_search_only() -> None:
    spl = (
        'index=botsv2 CommandLine="index=botsv2" (index IN (a, b) OR host=x) '
        '| search index=c | where index!="d"'
    )
    moved = retarget(parse(spl), "main")
    assert moved.replaced == ("botsv2", "a", "b", "c")
    text = repr(moved.pipeline)
    # the quoted value that merely contains "index=botsv2" is a value, not an index term
    assert "text='index=botsv2'" in text and "text='botsv2'" not in text
    assert "text='c'" not in text
    metadata = retarget(parse("| metadata type=sourcetypes index=botsv2"), "main")
    assert metadata.replaced == ("botsv2",) and "indexes=('main',)" in repr(metadata.pipeline)


def test_a_search_naming_no_index_is_scoped_to_the_override(tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", [_event(0), _event(1, index="other")])
    for spl in ("EventCode=1", "| metadata type=hosts"):
        moved = retarget(parse(spl), "main")
        assert moved.replaced == ()
        rows = run_spl(store, spl, pipeline=moved.pipeline).rows()
        assert sum(int(r.get("totalCount", 1)) for r in rows) == 1, (spl, rows)


def test_a_rewritten_search_runs_on_the_named_index(store: Any) -> None:
    spl = "index=botsv2 EventCode=1"
    assert run_spl(store, spl).rows() == []
    moved = retarget(parse(spl), "main")
    assert len(run_spl(store, spl, pipeline=moved.pipeline).rows()) == 3


def test_seed_on_another_index_says_where_it_looked_and_where_the_data_is(store: Any) -> None:
    result = run_hunt(store, "wmi-lateral-movement")
    parent = result.queries[5]
    assert parent.title == "WMI Parent Command-Line" and parent.status == "no_data"
    assert parent.note == (
        "No Sysmon logs in index botsv2; the store holds Sysmon logs in index main"
    )
    metadata = result.queries[0]
    assert metadata.status == "no_data"
    assert metadata.note == "No events in index botsv2; the store holds events in index main"
    assert result.index_override is None


def test_index_override_runs_every_search_there_and_says_so(store: Any, tmp_path: Path) -> None:
    result = Workspace(store.path).hunt("wmi-lateral-movement", index="main", out=tmp_path / "r")
    parent = result.queries[5]
    assert (parent.status, parent.hits) == ("ok", 3)
    assert result.queries[0].status == "ok" and result.queries[0].hits == 1
    network = result.queries[2]  # no Sysmon 3 anywhere: a real gap, said where it was looked for
    assert network.note == (
        "No Sysmon Event ID 3 logs in index main (nor in any other index of the store)"
    )
    assert result.index_override == IndexOverride("main", ["botsv2"])
    assert result.to_dict()["index_override"] == {"index": "main", "replaced": ["botsv2"]}
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert "Index overridden: every search ran against index main" in markdown
    assert "(botsv2)" in markdown
    assert "Index overridden" in (tmp_path / "r" / "report.html").read_text()


def test_cli_index_option(store: Any, tmp_path: Path) -> None:
    args = ["hunt", "wmi-lateral-movement", "--store", str(store.path), "--index", "main"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert "Index overridden: every search ran against index main" in run.output
    assert "       3  WMI Parent Command-Line" in run.output


def test_note_lists_several_indexes() -> None:
    need = Need("botsv2", SYSMON, "3")
    note = no_data_note([need], {need: ["a", "b"]})
    assert note == (
        "No Sysmon Event ID 3 logs in index botsv2; "
        "the store holds Sysmon Event ID 3 logs in indexes a, b"
    )


def test_header_fills_time_frame_environment_and_hunter_from_the_run(
    store: Any, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    Workspace(store.path).hunt("dcom-lateral-movement", out=out, hunter="A. Hunter")
    markdown = (out / "report.md").read_text()
    assert "| Time Frame | 2017-08-23 14:53:20 - 2017-08-23 14:53:22 UTC (3 events) |" in markdown
    assert f"| Environment | store {store.path}, every index (main); hosts W6 |" in markdown
    assert "| Threat Hunter | A. Hunter |" in markdown
    assert "huntbook     |" not in markdown and "| Threat Hunter | huntbook |" not in markdown
    assert "A. Hunter" in (out / "report.html").read_text()


def test_without_hunter_the_report_says_not_set_and_covers_the_searched_index(
    store: Any, tmp_path: Path
) -> None:
    result = Workspace(store.path).hunt("wmi-lateral-movement", out=tmp_path / "r")
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert "| Threat Hunter | not set |" in markdown
    # the seed searched index botsv2, which holds nothing here: no time frame is claimed
    assert result.coverage.indexes == ["botsv2"] and result.coverage.events == 0
    assert "| Time Frame | no events in the indexes searched |" in markdown
    assert "| Environment | store " in markdown and ", index botsv2; hosts none |" in markdown
    assert "08/23/2017" not in markdown.split("## Hypothesis")[0]


def test_cli_hunter_option(store: Any, tmp_path: Path) -> None:
    args = ["hunt", "wmi-lateral-movement", "--store", str(store.path), "--index", "main"]
    run = CliRunner().invoke(cli, [*args, "--hunter", "kim", "--out", str(tmp_path / "o")])
    assert run.exit_code == 0, run.output
    assert "| Threat Hunter | kim |" in (tmp_path / "o" / "report.md").read_text()
    assert "| Environment | store " in (tmp_path / "o" / "report.md").read_text()
