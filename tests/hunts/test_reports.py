"""Reports: three renderings of one document, written atomically, HTML that a browser draws."""

from __future__ import annotations

import html
import re
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from huntbook.errors import PlaybookError
from huntbook.hunts import render_html, render_markdown, run_hunt
from huntbook.hunts.result import HuntResult
from huntbook.store.testing import make_store

from .conftest import RecordingSearch
from .test_runner import _seed_search

EDGE = {
    "source": "WORKSTATION5",
    "source_ip": "172.18.39.5",
    "destination": "WORKSTATION6",
    "account": "pgustavo",
    "method": "WMI",
    "attack": "T1047",
    "first_seen": "2020-09-21T03:13:44.000Z",
    "last_seen": "2020-09-21T03:13:46.000Z",
    "evidence": [
        {"_time": "2020-09-21T03:13:44.000Z", "host": "WORKSTATION6", "EventCode": "4624"},
        {
            "_time": "2020-09-21T03:13:45.500Z",
            "host": "WORKSTATION6",
            "EventCode": "1",
            "CommandLine": "powershell -noP -sta -w 1 -enc SQBGACgA <script>alert(1)</script>",
        },
    ],
}


def _findings(store: Any, book: Any) -> dict[str, Any]:
    return {
        "lateral_movement": [
            EDGE,
            {**EDGE, "destination": "WORKSTATION7", "method": "PsExec", "attack": "T1569.002"},
        ],
        "powershell": [
            {"host": "WORKSTATION6", "launcher": "powershell -enc", "decoded": "IEX ..."}
        ],
        "visibility": {
            "hosts": ["WORKSTATION6"],
            "gaps": ["No Sysmon Event ID 3 logs"],
            "needs": [
                {
                    "need": "netflow",
                    "known": True,
                    "status": "absent",
                    "hosts": {"WORKSTATION6": "absent"},
                    "sources": [{"name": "Sysmon Event ID 3", "events": {}, "status": {}}],
                    "gaps": [],
                },
            ],
        },
        "conclusion": "WORKSTATION5 moved to WORKSTATION6 as pgustavo over WMI.",
    }


@pytest.fixture
def result(tmp_path: Path, seed_path: Path) -> HuntResult:
    store = make_store(tmp_path / "store", [])
    return run_hunt(store, seed_path, search=_seed_search(), analytics=_findings)


def test_markdown_keeps_the_seed_structure_with_the_run_filled_in(result: HuntResult) -> None:
    text = render_markdown(result)
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    seed_order = [
        "Description",
        "Hypothesis",
        "Data That is Needed",
        "Queries",
        "Results",
        "Conclusion",
        "Outputs and Follow-up Tasks",
        "Notes",
        "References",
    ]
    assert [h for h in headings if h in seed_order] == seed_order
    assert "| WMI Process Execution - Destination Host | 2 | 11 |" in text
    assert (
        "| WMI Network Connection - Destination Host | 0 | 0 | No Sysmon Event ID 3 logs in index "
        "botsv2 (nor in any other index of the store) |" in text
    )
    assert "Remote Execution via WMI - Destination Host (93) | Systems with Network 4624" in text
    assert "WORKSTATION5 moved to WORKSTATION6 as pgustavo over WMI." in text
    assert "| WORKSTATION5 (172.18.39.5) | WORKSTATION6 | pgustavo | WMI |" in text
    assert "Visibility Gap (this run): No Sysmon Event ID 3 logs" in text


def test_html_is_self_contained_and_escapes_data(result: HuntResult) -> None:
    html = render_html(result)
    assert "<script" not in html.replace("&lt;script", "")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('<g class="edge">') == 1 and "WMI, pgustavo" in html
    assert html.count('<g class="edge muted">') == 1  # PsExec: not the WMI hunt's technique
    assert html.count('class="event"') == 4  # two edges, two timed evidence events each


def test_reports_written_then_a_failing_run_leaves_them_whole(
    tmp_path: Path, seed_path: Path, fixture_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path / "store", [])
    out = tmp_path / "report"
    run_hunt(store, seed_path, out=out, search=_seed_search(), analytics=_findings)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(before) == ["report.html", "report.json", "report.md"]

    for broken, line in (("missing-section", 1), ("unknown-placeholder", 36)):
        with pytest.raises(PlaybookError) as caught:  # stops before anything runs or is written
            run_hunt(store, fixture_path(broken), out=out, search=RecordingSearch())
        assert line in [loc.line for loc, _ in caught.value.problems]

    def explode(result: HuntResult) -> str:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("huntbook.hunts.writer.render_html", explode)
    with pytest.raises(RuntimeError):
        run_hunt(
            store, fixture_path("minimal"), out=out, search=RecordingSearch(), analytics=_findings
        )
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same three files, same bytes, no temporary directory left behind


def test_report_json_is_the_document(tmp_path: Path, seed_path: Path) -> None:
    store = make_store(tmp_path / "store", [])
    result = run_hunt(
        store, seed_path, out=tmp_path / "r", search=_seed_search(), analytics=_findings
    )
    doc = orjson.loads((tmp_path / "r" / "report.json").read_bytes())
    assert doc == orjson.loads(result.to_json())
    assert doc["findings"]["lateral_movement"][0]["source"] == "WORKSTATION5"


def _png_ink(path: Path, max_rows: int = 500) -> float:
    """Share of non-white pixels in the top ``max_rows`` rows of an RGB(A) PNG (8-bit,
    non-interlaced), read with zlib only (rows decode in order, so the top can be read alone)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        chunks.append(body) if kind == b"IDAT" else None
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    channels = {2: 3, 6: 4}[color]
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous, ink = bytearray(stride), 0
    height = min(height, max_rows)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            predictor = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]
            line[i] = (line[i] + predictor) & 0xFF
        ink += sum(1 for x in range(0, stride, channels * 4) if min(line[x : x + 3]) < 200)
        previous = line
    return ink / (height * width / 4)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _chromium(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chrome-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.browser
def test_html_report_renders_in_headless_chromium(
    tmp_path: Path, seed_path: Path, chromium: str
) -> None:
    store = make_store(tmp_path / "store", [])
    run_hunt(store, seed_path, out=tmp_path / "r", search=_seed_search(), analytics=_findings)
    url = (tmp_path / "r" / "report.html").resolve().as_uri()
    shot = tmp_path / "shot.png"
    run = _chromium(
        chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", "--dump-dom", url
    )
    assert shot.is_file() and shot.stat().st_size > 20_000, run.stderr[-2000:]
    assert _png_ink(shot) > 0.02  # text, tables and the graph, not a blank page
    dom = run.stdout
    assert '<svg class="host-graph"' in dom and '<svg class="timeline"' in dom
    assert dom.count("<table>") >= 5 and "WORKSTATION5 (172.18.39.5)" in dom


def test_a_broken_query_is_reported_and_the_hunt_goes_on(tmp_path: Path, fixture_path) -> None:
    store = make_store(tmp_path / "store", [])
    result = run_hunt(store, fixture_path("broken-query"), analytics=_findings)
    broken, template = result.queries
    assert broken.status == "error" and "expected ')'" in (broken.error or "")
    assert template.status == "unfilled"  # nothing earlier yielded login_id and host


def test_markdown_cells_cannot_break_out() -> None:
    from huntbook.hunts.render.markdown import table

    text = table(["a"], [["x | <img src=x onerror=alert(1)>\n| injected |"]])
    assert text.splitlines()[2] == "| x \\| &lt;img src=x onerror=alert(1)&gt; \\| injected \\| |"


RDP_EDGE = {
    "source": "ADMIN-VPN",
    "destination": "frothlydc",
    "account": "frothly.admin",
    "method": "RDP",
    "attack": "T1021.001",
    "first_seen": "2020-09-22T08:00:00.000Z",
    "last_seen": "2020-09-22T08:00:00.000Z",
    "evidence": [],
}


def _glance(html: str) -> str:
    section = re.search(r"<h2>At a Glance</h2>\n<div class=\"conclusion\">(.*?)</div>", html, re.S)
    assert section is not None
    return re.sub(r"<[^>]+>", "", section[1])


def _hunt_of(result: HuntResult, technique: str, ids: list[str]) -> HuntResult:
    from huntbook.hunts.result import TechniqueDoc

    other = HuntResult.from_json(result.to_json())
    other.playbook.techniques = [TechniqueDoc(technique, ids)]
    return other


def test_each_hunts_glance_answers_its_own_hypothesis(result: HuntResult) -> None:
    """The WMI hunt's At a Glance talks about WMI, an RDP hunt's about RDP, on the same findings
    (the whole-store conclusion stays the same in both)."""
    result.findings.lateral_movement = [EDGE, RDP_EDGE]
    rdp = _hunt_of(result, "Remote Services: Remote Desktop Protocol", ["T1021.001"])
    wmi_html, rdp_html = render_html(result), render_html(rdp)
    wmi_glance, rdp_glance = _glance(wmi_html), _glance(rdp_html)
    assert wmi_glance.startswith(
        "Lateral movement by Windows Management Instrumentation (T1047): found, involving 2 hosts. "
        "WORKSTATION6 was reached from WORKSTATION5 via WMI as pgustavo."
    )
    assert "frothlydc" not in wmi_glance and "1 RDP (T1021.001) edge" in wmi_glance
    assert rdp_glance.startswith(
        "Lateral movement by Remote Services: Remote Desktop Protocol (T1021.001): found, "
        "involving 2 hosts. frothlydc was reached from ADMIN-VPN via RDP as frothly.admin."
    )
    assert "WORKSTATION6 was reached" not in rdp_glance and "1 WMI (T1047) edge" in rdp_glance
    conclusion = '<div class="conclusion"><p>WORKSTATION5 moved to WORKSTATION6'
    assert conclusion in wmi_html and conclusion in rdp_html


def test_a_hunt_whose_technique_found_nothing_says_so(result: HuntResult) -> None:
    dcom = _hunt_of(result, "Remote Services: Distributed Component Object Model", ["T1021.003"])
    glance = _glance(render_html(dcom))
    assert glance.startswith(
        "No lateral movement by Remote Services: Distributed Component Object Model (T1021.003) "
        "was found in the data searched."
    )
    assert "Also found, outside this hunt&#x27;s techniques: 1 WMI (T1047) edge" in glance


def test_report_md_puts_the_conclusion_first_as_report_html_does(result: HuntResult) -> None:
    text = render_markdown(result)
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[:2] == ["At a Glance", "Description"]
    first = text.split("## At a Glance\n\n", 1)[1].split("\n", 1)[0]
    assert first.startswith("Lateral movement by Windows Management Instrumentation (T1047)")
    assert html.unescape(_glance(render_html(result))) == html.unescape(first)


def test_a_decoded_script_is_shown_whole_and_folded(result: HuntResult) -> None:
    script = "$wc=New-Object System.Net.WebClient;\n" + "# <script>x</script>\n" * 400 + "IEX $x"
    result.findings.powershell = [{"family": "PowerShell Empire stager", "script": script}]
    page, text = render_html(result), render_markdown(result)
    summary = f"Decoded script: PowerShell Empire stager ({len(script):,} characters)"
    assert f'<details class="script"><summary>{summary}</summary><pre><code>' in page
    assert html.escape(script, quote=False) in page
    assert f"<details><summary>{summary}</summary>\n\n```powershell\n{script}\n```\n" in text
