"""Write docs/img/search.png, docs/img/hunt.png and docs/img/findings.png with the browser the
tests use.

Usage: ``python docs/screenshots.py`` (needs Debian's chromium; builds a 2,000-event demo store
under .bench/). The README shows these pictures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

from huntbook import Workspace
from huntbook.demo.run import run_demo
from huntbook.web.server import background

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
DEMO = ROOT / ".bench" / "web-2000"


def main() -> None:
    if not (DEMO / "store").is_dir():
        run_demo(DEMO, events=2000)
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with background(Workspace(DEMO / "store")) as base, sync_playwright() as playwright:
        page = playwright.chromium.launch(executable_path=executable).new_page(
            viewport={"width": 1400, "height": 900}
        )
        page.goto(f"{base}/search?q=index=botsv2 EventCode=4624 Logon_Type=3")
        page.wait_for_selector("tr.event")
        page.wait_for_selector("#timeline svg rect.bar")
        page.locator("tr.event").first.click()
        page.screenshot(path=str(OUT / "search.png"))
        page.goto(f"{base}/hunts?run=wmi-lateral-movement")
        page.wait_for_selector("#report g.edge")
        page.locator('#report g.edge[data-edge="0"] text').click()
        page.locator("#report").scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "hunt.png"))
        page.goto(f"{base}/findings")
        page.wait_for_selector("tr.edge")
        page.locator('tr.edge[data-edge="0"]').click()
        page.wait_for_selector("#edge-evidence tr.evidence-event")
        page.screenshot(path=str(OUT / "findings.png"))


if __name__ == "__main__":
    main()
