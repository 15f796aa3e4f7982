"""The findings page: ``huntbook findings`` browsable. Each lateral-movement edge opens to its
evidence events, each linked to the search of that event by its store id (``_cd``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient
from tests.web.test_browser import status_total

from huntbook import Workspace


def test_the_api_gives_what_huntbook_findings_gives(
    client: TestClient, workspace: Workspace
) -> None:
    body = client.get("/api/findings").json()
    expected = workspace.findings()
    assert body["lateral_movement"] == expected["lateral_movement"]
    assert body["conclusion"] == expected["conclusion"]
    assert body["index"] is None and body["seconds"] >= 0
    methods = {
        (e["source"], e["destination"], e["method"], e["attack"])
        for e in expected["lateral_movement"]
    }
    assert ("wrk-btun", "venus", "WMI", "T1047") in methods


def test_the_api_looks_at_one_index(client: TestClient, workspace: Workspace) -> None:
    body = client.get("/api/findings", params={"index": "nosuchindex"}).json()
    assert body["index"] == "nosuchindex"
    assert (
        body["lateral_movement"]
        == workspace.findings(index="nosuchindex")["lateral_movement"]
        == []
    )


@pytest.mark.browser
def test_an_edge_opens_to_its_evidence_and_each_event_to_its_search(
    page: Any, base_url: str, workspace: Workspace
) -> None:
    edge = workspace.findings()["lateral_movement"][0]
    page.goto(f"{base_url}/search")
    page.locator("header nav a", has_text="Findings").click()
    page.wait_for_selector("tr.edge")
    cells = page.locator('tr.edge[data-edge="0"] td').all_inner_texts()
    assert cells[1:7] == [
        f"{edge['source']} ({edge['source_ip']})",
        edge["destination"],
        edge["account"],
        edge["method"],
        edge["attack"],
        edge["confidence"],
    ]
    page.locator('tr.edge[data-edge="0"]').click()
    events = page.locator("#edge-evidence tr.evidence-event")
    assert events.count() == len(edge["evidence"])
    first = edge["evidence"][0]
    assert first["file"] in events.first.locator("td.prov").inner_text()
    events.first.locator("a.event-search").click()
    page.wait_for_selector("tr.event")
    assert parse_qs(urlparse(page.url).query)["q"] == [f"index=* _cd={first['_cd']}"]
    assert status_total(page) == 1
    assert (
        page.locator("tr.event td.summary .kv:first-child").inner_text() == f"host={first['host']}"
    )


@pytest.mark.browser
def test_a_decoded_script_is_there_whole(page: Any, base_url: str, workspace: Workspace) -> None:
    payload = workspace.findings()["powershell"][0]
    page.goto(f"{base_url}/findings")
    page.wait_for_selector(".payload details.script")
    page.locator(".payload details.script summary").first.click()
    assert page.locator(".payload details.script pre").first.inner_text() == payload["script"]
