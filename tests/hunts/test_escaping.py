"""Event values are attacker-controlled: a host, account or command line holding ``<script>`` or
``"><img onerror=...>`` must not run when a report is opened. report.md goes through a real
Markdown renderer (markdown-it-py, raw HTML enabled as on most viewers), report.html as it is."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from tests.analytics.conftest import logon, proc, security

from huntbook.hunts import run_hunt
from huntbook.hunts.detections import emit_detections
from huntbook.hunts.loader import load_playbook
from huntbook.store.testing import make_store

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SVG = "<svg/onload=alert(3)>"
LINK = "[click](javascript:alert(4))"
TARGET = f"wrk{IMG}"  # a destination host name
SOURCE = f"src{SCRIPT}"  # the workstation name the logon names as its source
ACCOUNT = f"adm{SVG}"
CMD = f"powershell -nop -w 1 -enc SQBFAFgA {LINK} {SCRIPT}"
WMIPRVSE = "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"
DANGEROUS_TAGS = {"script", "img", "iframe", "object", "embed", "link", "base", "form"}


def _events() -> list[dict[str, Any]]:
    return [
        logon(TARGET, 10, "0x1", ACCOUNT, workstation=SOURCE),
        proc(TARGET, 11, "0x1", "C:\\Windows\\System32\\cmd.exe", WMIPRVSE, cmd=CMD),
        proc(TARGET, 12, "0x1", "C:\\Windows\\System32\\cmd.exe", WMIPRVSE, cmd=CMD),
        security(4624, f"other{SCRIPT}", 13, TargetLogonId="0x2", LogonType="2"),
    ]


class Tags(HTMLParser):
    """Every start tag and attribute of an HTML text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)


def _assert_inert(html: str) -> None:
    parser = Tags()
    parser.feed(html)
    assert parser.tags & DANGEROUS_TAGS == set()
    assert [k for k, _ in parser.attrs if k.startswith("on")] == []
    assert [v for k, v in parser.attrs if "javascript:" in v.lower()] == []


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("xss")
    store = make_store(tmp / "store", _events())
    run_hunt(store, "wmi-lateral-movement", out=tmp / "out", index="main")
    return tmp / "out"


def test_the_payloads_reach_the_findings(reports: Path) -> None:
    """The test is only worth its name if the analytics carry the payloads into the report."""
    text = (reports / "report.json").read_text()
    assert 'wrk\\"><img' in text and "<svg/onload" in text


def test_markdown_rendered_by_a_viewer_runs_nothing(reports: Path) -> None:
    markdown = (reports / "report.md").read_text()
    conclusion = markdown.split("## Conclusion", 1)[1].split("##", 1)[0]
    assert "&lt;script&gt;" in conclusion and "&lt;svg/onload" in conclusion
    assert (
        "Visibility Gap (this run): Process Monitoring: absent on other&lt;script&gt;" in markdown
    )
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    _assert_inert(html)
    assert "<details>" in html  # raw HTML is on: the escaping, not the renderer, keeps it inert


def test_html_report_runs_nothing(reports: Path) -> None:
    html = (reports / "report.html").read_text()
    _assert_inert(html)
    assert "&lt;script&gt;" in html


def test_detections_notes_are_escaped(tmp_path: Path, fixture_path: Any) -> None:
    book = load_playbook(fixture_path("minimal"))
    queries = tuple(replace(q, title=f"{q.title}{IMG}") for q in book.queries)
    emit_detections(replace(book, queries=queries), tmp_path)
    html = MarkdownIt("commonmark", {"html": True}).render((tmp_path / "detections.md").read_text())
    _assert_inert(html)


def test_inline_keeps_plain_ampersands_and_defuses_references() -> None:
    from huntbook.hunts.render.markdown import fenced, inline

    assert inline("ATT&CK &lt;script&gt; &#60;b") == "ATT&CK &amp;lt;script&amp;gt; &amp;#60;b"
    assert inline("a\n[b](c)`d`") == "a \\[b\\](c)\\`d\\`"
    assert fenced("x ``` y", "sql") == "````sql\nx ``` y\n````\n"
