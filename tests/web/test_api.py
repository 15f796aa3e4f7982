"""The JSON API answers what the CLI answers, computed without loading whole results."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlglot import exp
from starlette.testclient import TestClient

from huntbook import Workspace
from huntbook.cli import cli, main
from huntbook.errors import QueryRuntimeError
from huntbook.web.server import is_loopback

LOGONS = "index=botsv2 EventCode=4624"


def cli_out(store: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--store", str(store)])
    assert result.exit_code == 0, result.output
    return result


def cli_json(store: Path, spl: str, *more: str) -> list[dict[str, Any]]:
    return list(json.loads(cli_out(store, "search", spl, "--format", "json", *more).stdout))


def api(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_rows_are_the_cli_json_rows(client: TestClient, demo_store: Path) -> None:
    expected = cli_json(demo_store, LOGONS)
    body = api(client, q=LOGONS, count=1000)
    assert body["rows"] == expected
    assert body["total"] == len(expected) > 50
    assert body["events"] is True
    assert body["columns"][:2] == ["_time", "_raw"]


def test_pages_add_up_to_the_whole_result(client: TestClient, demo_store: Path) -> None:
    expected = cli_json(demo_store, LOGONS)
    pages = [api(client, q=LOGONS, offset=at, count=40, summary=0) for at in range(0, 200, 40)]
    assert [r for p in pages for r in p["rows"]] == expected[:200]
    assert all(p["total"] == len(expected) and "fields" not in p for p in pages)


def test_a_transforming_search_is_a_table(client: TestClient, demo_store: Path) -> None:
    spl = "index=botsv2 | stats count by host"
    body = api(client, q=spl)
    assert body["rows"] == cli_json(demo_store, spl)
    assert body["events"] is False
    assert body["timeline"] is None


def run_main(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """``huntbook ARGV`` as the console script runs it (errors become exit codes)."""
    monkeypatch.setattr(sys, "argv", ["huntbook", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0)


def test_spl_error_has_the_cli_message_and_position(
    client: TestClient,
    demo_store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spl = "index=botsv2 | stats cnt(x)"
    response = client.get("/api/search", params={"q": spl})
    assert response.status_code == 400
    error = response.json()["error"]
    assert run_main(["search", spl, "--store", str(demo_store)], monkeypatch) == 12
    assert f"Error: {error['message']}" == capsys.readouterr().err.strip()
    assert (error["line"], error["col"], error["type"]) == (1, 22, "UnsupportedSplError")
    assert spl[error["pos"] :].startswith("cnt(x)")


def test_fields_summary_counts_and_top_values(client: TestClient, demo_store: Path) -> None:
    rows = cli_json(demo_store, LOGONS)
    fields = {f["name"]: f for f in api(client, q=LOGONS)["fields"]}
    hosts = Counter(r["host"] for r in rows)
    assert fields["host"]["count"] == len(rows)
    top = [(t["value"], t["count"]) for t in fields["host"]["top"]]
    assert top == sorted(hosts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    logon_types = Counter(r["Logon_Type"] for r in rows if r.get("Logon_Type") is not None)
    assert fields["Logon_Type"]["count"] == sum(logon_types.values())
    assert {t["value"]: t["count"] for t in fields["Logon_Type"]["top"]} == dict(logon_types)
    assert "_raw" not in fields and "_time" not in fields


def test_a_large_results_fields_are_those_of_its_newest_events_and_say_so(
    client: TestClient, demo_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("huntbook.query.explore.SUMMARY_ROWS", 100)
    body = api(client, q=LOGONS)
    newest = cli_json(demo_store, LOGONS)[:100]
    assert body["fields_from"] == 100 < body["total"]
    host = next(f for f in body["fields"] if f["name"] == "host")
    assert host["count"] == 100
    assert {t["value"]: t["count"] for t in host["top"]} == Counter(r["host"] for r in newest)
    assert sum(body["timeline"]["counts"]) == body["total"]  # the timeline: the whole result
    monkeypatch.setattr("huntbook.query.explore.SUMMARY_ROWS", body["total"])
    assert api(client, q=LOGONS)["fields_from"] == body["total"]


def test_multivalue_fields_count_each_value(client: TestClient, demo_store: Path) -> None:
    rows = cli_json(demo_store, LOGONS)
    multi = next(k for r in rows for k, v in r.items() if isinstance(v, list))
    values: Counter[str] = Counter()
    for row in rows:
        value = row.get(multi)
        values.update(value if isinstance(value, list) else [] if value is None else [value])
    field = next(f for f in api(client, q=LOGONS)["fields"] if f["name"] == multi)
    assert {t["value"]: t["count"] for t in field["top"]} == dict(values.most_common(10))


def test_timeline_buckets_hold_every_event(client: TestClient, workspace: Workspace) -> None:
    body = api(client, q=LOGONS)
    timeline = body["timeline"]
    assert sum(timeline["counts"]) == body["total"]
    assert 1 < len(timeline["counts"]) <= 120
    times = [r["_time"] for r in workspace.search(LOGONS).rows()]
    first = timeline["start"] + timeline["span"] * 3
    last = first + timeline["span"] * 5
    narrowed = api(client, q=LOGONS, earliest=str(first), latest=str(last))
    assert narrowed["total"] == sum(timeline["counts"][3:8])
    assert narrowed["total"] == sum(first <= t < last for t in times)


def test_export_is_the_cli_output(client: TestClient, demo_store: Path) -> None:
    spl = "index=botsv2 EventCode=4688 | table _time host CommandLine"
    csv_text = client.get("/api/export", params={"q": spl, "format": "csv"}).text
    cli_csv = cli_out(demo_store, "search", spl, "--format", "csv").stdout
    assert csv_text.rstrip("\n") == cli_csv.rstrip("\n")
    exported = client.get("/api/export", params={"q": spl, "format": "json"}).json()
    assert exported == cli_json(demo_store, spl)


def test_export_pages_through_large_results(
    client: TestClient, demo_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huntbook.web import api as web_api

    monkeypatch.setattr(web_api, "EXPORT_ROWS", 7)
    exported = client.get("/api/export", params={"q": LOGONS, "format": "json"}).json()
    assert exported == cli_json(demo_store, LOGONS)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "q (the SPL search) is missing"),
        ({"q": "index=*", "count": "5000"}, "count must be a whole number up to 1000"),
        ({"q": "index=*", "offset": "-1"}, "offset must be a whole number"),
    ],
)
def test_bad_parameters(client: TestClient, params: dict[str, str], message: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


def test_other_host_headers_are_refused(workspace: Workspace) -> None:
    from huntbook.web import create_app

    with TestClient(create_app(workspace), base_url="http://attacker.example") as other:
        assert other.get("/api/hunts").status_code == 400


def test_a_cancelled_search_says_so(workspace: Workspace) -> None:
    exploration = workspace.explore(LOGONS)
    exploration.page(0, 1)  # the connection is open
    slow = exp.select(exp.Count(this=exp.Star())).from_(
        exp.Table(this=exp.Anonymous(this="range", expressions=[exp.Literal.number(10**11)]))
    )
    threading.Timer(0.3, exploration.cancel).start()
    with pytest.raises(QueryRuntimeError, match="the search was cancelled"):
        exploration._run(slow)
    with pytest.raises(QueryRuntimeError, match="the search was cancelled"):
        exploration.page(0, 1)
    exploration.close()


def test_cancel_endpoint_reaches_a_running_search(client: TestClient) -> None:
    from huntbook.web.running import Running

    running: Running = client.app.state.running  # type: ignore[attr-defined]
    cancelled: list[bool] = []

    class Search:
        def cancel(self) -> None:
            cancelled.append(True)

    with running.track("abc", Search()):
        assert client.post("/api/cancel", params={"sid": "abc"}).json() == {"cancelled": True}
    assert client.post("/api/cancel", params={"sid": "abc"}).json() == {"cancelled": False}
    assert cancelled == [True]


def test_hunts_list_and_report(client: TestClient) -> None:
    names = {p["name"] for p in client.get("/api/hunts").json()}
    assert "wmi-lateral-movement" in names
    report = client.get("/api/hunts/wmi-lateral-movement/report").json()
    assert 'class="host-graph"' in report["html"]
    assert ("wrk-btun", "venus") in {(e["source"], e["destination"]) for e in report["edges"]}
    missing = client.get("/api/hunts/no-such-hunt/report")
    assert missing.status_code == 404


def test_the_store_is_not_written(client: TestClient, demo_store: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in demo_store.rglob("*")}
    api(client, q=LOGONS)
    client.get("/api/hunts/wmi-lateral-movement/report", params={"rerun": "1"})
    client.get("/api/export", params={"q": LOGONS})
    assert {p: p.stat().st_mtime_ns for p in demo_store.rglob("*")} == before


def test_serve_reports_a_taken_port(
    demo_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        code = run_main(["serve", "--store", str(demo_store), "--port", str(port)], monkeypatch)
    finally:
        taken.close()
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_warns_off_loopback(
    demo_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huntbook.web import server

    served: list[str] = []
    monkeypatch.setattr(server, "server", lambda ws, host, folders: FakeServer(served, host))
    argv = ["serve", "--store", str(demo_store), "--host", "0.0.0.0", "--port", "0"]
    assert run_main(argv, monkeypatch) == 0
    captured = capsys.readouterr()
    assert "Warning: listening on 0.0.0.0, not loopback" in captured.err
    assert "huntbook serving" in captured.out and served == ["0.0.0.0"]


class FakeServer:
    def __init__(self, served: list[str], host: str) -> None:
        self.served, self.host = served, host

    def run(self, sockets: list[socket.socket]) -> None:
        self.served.append(self.host)
        sockets[0].close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
