"""The workbench in a real headless Chromium: search, narrow, zoom, read raw, follow a hunt."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient

pytestmark = pytest.mark.browser

LOGONS = "index=botsv2 EventCode=4624"


def open_search(page: Any, base_url: str, spl: str) -> None:
    page.goto(f"{base_url}/search?q={spl}")
    page.wait_for_selector("tr.event")


def status_total(page: Any) -> int:
    page.wait_for_function("!document.getElementById('status').textContent.includes('Searching')")
    return int(page.locator("#status").inner_text().split()[0].replace(",", ""))


def test_search_shows_its_rows(page: Any, base_url: str, client: TestClient) -> None:
    expected = client.get("/api/search", params={"q": LOGONS, "count": 50}).json()
    open_search(page, base_url, LOGONS)
    assert status_total(page) == expected["total"]
    times = page.locator("tr.event td.time").all_inner_texts()
    assert times == [r["_time"] for r in expected["rows"]]


def test_clicking_a_field_value_narrows_the_search(page: Any, base_url: str) -> None:
    open_search(page, base_url, LOGONS)
    before = status_total(page)
    page.locator('a[data-field="host"][data-value="venus"]').click()
    page.wait_for_url("**q=*venus*")
    assert parse_qs(urlparse(page.url).query)["q"] == [f'{LOGONS} host="venus"']
    narrowed = status_total(page)
    assert 0 < narrowed < before
    hosts = page.locator("tr.event td.summary .kv:first-child").all_inner_texts()
    assert hosts and set(hosts) == {"host=venus"}


def test_a_modifier_click_excludes_the_value(page: Any, base_url: str) -> None:
    open_search(page, base_url, LOGONS)
    page.locator('a[data-field="host"][data-value="venus"]').click(modifiers=["Alt"])
    page.wait_for_url("**q=*venus*")
    assert parse_qs(urlparse(page.url).query)["q"] == [f'{LOGONS} host!="venus"']
    status_total(page)
    assert "host=venus" not in page.locator("tr.event td.summary .kv:first-child").all_inner_texts()


def test_fields_read_from_the_newest_events_only_say_so(
    page: Any, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_search(page, base_url, LOGONS)
    page.wait_for_selector("#fields details.field")
    assert page.locator("#fields-scope").count() == 0  # every event summarized: nothing to say
    monkeypatch.setattr("huntbook.query.explore.SUMMARY_ROWS", 100)
    open_search(page, base_url, LOGONS + " host!=nothing")
    total = status_total(page)
    page.wait_for_selector("#fields-scope")
    assert page.locator("#fields-scope").inner_text() == (
        f"Counts and top values in the first 100 of {total:,} events, in the order shown."
    )


def test_dragging_the_timeline_zooms_in(page: Any, base_url: str) -> None:
    open_search(page, base_url, LOGONS)
    before = status_total(page)
    box = page.locator("#timeline svg").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=5)
    page.mouse.up()
    page.wait_for_url("**latest=*")
    query = parse_qs(urlparse(page.url).query)
    after = status_total(page)
    assert 0 < after < before
    rows = page.locator("tr.event td.time").all_inner_texts()
    earliest, latest = float(query["earliest"][0]), float(query["latest"][0])
    assert earliest < latest and rows


def test_an_event_opens_to_its_raw_text(page: Any, base_url: str, client: TestClient) -> None:
    first = client.get("/api/search", params={"q": LOGONS, "count": 1}).json()["rows"][0]
    open_search(page, base_url, LOGONS)
    page.locator("tr.event").first.click()
    raw = page.locator("tr.detail pre.raw")
    assert raw.inner_text() == first["_raw"].replace("\r\n", "\n")
    assert "EventRecordID" in page.locator("tr.detail .prov").inner_text()


def test_an_spl_error_is_shown_at_its_position(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/search?q=index=botsv2 | stats cnt(x)")
    page.wait_for_selector("#error:not([hidden])")
    assert "unsupported stats function cnt()" in page.locator("#error strong").inner_text()
    assert page.locator("#error mark").inner_text() == "c"
    assert "Col 22" in page.locator("#error .where").inner_text()


def test_a_stats_search_is_a_table_with_a_chart(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/search?q=index=botsv2 | stats count by host")
    page.wait_for_selector("table.table")
    assert page.locator("table.table th").all_inner_texts() == ["host", "count"]
    assert page.locator("#chart svg rect").count() == page.locator("table.table tbody tr").count()


def test_the_seed_hunt_edge_leads_to_its_evidence(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/hunts?run=wmi-lateral-movement")
    page.wait_for_selector("#report g.edge")
    page.locator('#report g.edge[data-edge="0"] text').click()
    assert "wrk-btun → venus" in page.locator("#evidence h3").inner_text()
    shown = page.locator("#evidence table tr").count()
    page.locator("#search-evidence").click()
    page.wait_for_selector("tr.event")
    assert status_total(page) == shown > 0
    hosts = page.locator("tr.event td.summary .kv:first-child").all_inner_texts()
    assert set(hosts) == {"host=venus"}


def test_a_host_in_the_graph_searches_its_events(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/hunts?run=wmi-lateral-movement")
    page.wait_for_selector("#report g.node")
    page.locator('#report g.node[data-host="venus"] circle').click()
    page.wait_for_selector("tr.event")
    assert parse_qs(urlparse(page.url).query)["q"] == ['host="venus"']
    assert status_total(page) > 0
