"""``huntbook serve --rules DIR --playbooks DIR``: the detections page runs the folder's Sigma
rules (every rule accounted for, each hit searchable by its ``_cd``); the hunts page lists the
folder's playbooks beside the built-in ones and runs them (a broken one listed with its reason)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from huntbook import Workspace
from huntbook.cli import cli
from huntbook.hunts.builtin import playbook_dir
from huntbook.web import create_app
from huntbook.web.app import Folders
from huntbook.web.detections import NO_RULES
from huntbook.web.server import background

WMI_RULE = r"""
title: WMI Spawned Process
id: 00000000-0000-0000-0000-0000000000a1
logsource: {product: windows, category: process_creation}
detection: {a: {ParentImage|endswith: '\WmiPrvSE.exe'}, condition: a}
level: high
"""
LINUX_RULE = """
title: Linux Shell
id: 00000000-0000-0000-0000-0000000000a2
logsource: {product: linux, category: process_creation}
detection: {a: {Image|endswith: '/sh'}, condition: a}
level: low
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    root = tmp_path_factory.mktemp("folders")
    rules = root / "rules"
    rules.mkdir()
    (rules / "wmi.yml").write_text(WMI_RULE)
    (rules / "linux.yml").write_text(LINUX_RULE)
    (rules / "broken.yml").write_text("title: Broken\ndetection: [\n")
    books = root / "books"
    books.mkdir()
    shutil.copy(playbook_dir() / "wmi-lateral-movement.md", books / "my-wmi.md")
    shutil.copy(playbook_dir() / "wmi-lateral-movement.md", books / "wmi-lateral-movement.md")
    (books / "broken.md").write_text("no front matter, no searches\n")
    return Folders(rules=(rules,), playbooks=(books,))


@pytest.fixture(autouse=True)
def rule_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTBOOK_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def served(workspace: Workspace, folders: Folders) -> Iterator[TestClient]:
    app = create_app(workspace, folders=folders)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def get(client: TestClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_rule_is_accounted_for(served: TestClient) -> None:
    body = get(served, "/api/detections")
    by_title = {r["title"]: r for r in body["rules"]}
    assert body["counts"] == {"ran": 1, "skipped": 1, "failed": 1}
    assert by_title["WMI Spawned Process"]["status"] == "ran"
    assert "no log source mapping" in by_title["Linux Shell"]["reason"]
    assert "not YAML" in by_title["broken"]["reason"]


def test_hits_name_rule_level_time_host_and_their_event(
    served: TestClient, client: TestClient
) -> None:
    hits = get(served, "/api/detections")["hits"]
    assert hits
    assert {(h["rule"], h["level"]) for h in hits} == {("WMI Spawned Process", "high")}
    for hit in hits:
        rows = get(client, f"/api/search?q=index=* _cd={hit['_cd']}")["rows"]
        assert [(r["_time"], r["host"]) for r in rows] == [(hit["time"], hit["host"])]
        assert rows[0]["ParentImage"].lower().endswith("\\wmiprvse.exe")


def test_without_rule_folders_the_page_says_how_to_give_some(client: TestClient) -> None:
    body = get(client, "/api/detections")
    assert body["help"] == NO_RULES
    assert "--rules DIR" in body["help"]
    assert body["rules"] == body["hits"] == []


def test_folder_playbooks_are_listed_beside_the_built_ins(
    served: TestClient, folders: Folders
) -> None:
    catalog = get(served, "/api/hunts")
    sources = {(p["name"], p["source"]): p for p in catalog}
    books = str(folders.playbooks[0])
    assert ("wmi-lateral-movement", "built-in") in sources
    assert "error" not in sources[("my-wmi", books)]
    assert "another playbook" in sources[("wmi-lateral-movement", books)]["error"]
    assert sources[("broken", books)]["error"]


def test_a_folder_playbook_runs_and_a_broken_one_does_not(served: TestClient) -> None:
    report = get(served, "/api/hunts/my-wmi/report")
    assert ("wrk-btun", "venus") in {(e["source"], e["destination"]) for e in report["edges"]}
    assert served.get("/api/hunts/broken/report").status_code == 404


def test_serve_refuses_a_rules_folder_that_does_not_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--rules", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.browser
def test_detections_page_links_a_hit_to_its_event(
    page: Any, workspace: Workspace, folders: Folders
) -> None:
    with background(workspace, folders=folders) as base:
        page.goto(f"{base}/detections")
        page.wait_for_selector("tr.hit")
        assert page.locator("tr.rule.failed").count() == 1
        assert page.locator("tr.rule.skipped").count() == 1
        host = page.locator("tr.hit td").nth(3).inner_text()
        page.locator("a.hit-event").first.click()
        page.wait_for_selector("tr.event")
        assert page.locator("tr.event").count() == 1
        assert host in page.locator("tr.event").inner_text()


@pytest.mark.browser
def test_hunts_page_runs_a_folder_playbook(
    page: Any, workspace: Workspace, folders: Folders
) -> None:
    with background(workspace, folders=folders) as base:
        page.goto(f"{base}/hunts")
        page.wait_for_selector('span.broken[data-name="broken"]')
        page.locator('a[data-name="my-wmi"]').click()
        page.wait_for_selector("#report svg.host-graph g.edge", state="attached")
        assert "run again" in page.locator("#hunt-status").inner_text()
