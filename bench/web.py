"""Benchmark of ``huntbook serve`` on the demo store: page loads and search latency over HTTP.

Usage: ``python bench/web.py [--events N] [--repeat R]``

Builds the demo (``huntbook demo``'s generator, ingest and hunt) once under ``.bench/web-<N>/``,
serves it on a free loopback port in a thread and times, median of R runs each: the search page's
HTML and assets, ``/api/search`` without and with the fields summary and timeline, a page deep in
the result, an export, the seed hunt's report and the findings of every analytic (``/findings``);
with chromium installed, the search page in a real browser until its rows show. The load average
(``os.getloadavg``) is printed before and after: on a shared machine the figures follow it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from huntbook import Workspace
from huntbook.demo.run import run_demo
from huntbook.web.server import background

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ("dom.js", "search.js", "app.css")  # what the search page loads besides its HTML
SEARCHES = {
    "raw events": "index=botsv2",
    "field filter": "index=botsv2 EventCode=4624 Logon_Type=3",
    "stats": "index=botsv2 EventCode=1 | stats count by host Image",
}


def timed(fetch: Callable[[], object], repeat: int) -> float:
    fetch()  # warm: the first search of a store also checks its batches
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fetch()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def get(url: str) -> Callable[[], bytes]:
    def fetch() -> bytes:
        with urllib.request.urlopen(url) as response:  # noqa: S310 (loopback, our own server)
            body: bytes = response.read()
        return body

    return fetch


def browser_load(base: str) -> Callable[[str], Callable[[], object]] | None:
    """``load(spl)``: a fetch that opens the search page for ``spl`` in chromium until its rows
    show (None without chromium)."""
    executable = shutil.which("chromium")
    if executable is None:
        return None
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    page = playwright.chromium.launch(executable_path=executable).new_page()

    def load(spl: str) -> Callable[[], object]:
        url = f"{base}/search?q={urllib.parse.quote(spl)}"
        return lambda: (page.goto(url), page.wait_for_selector("tr.event, table.table"))

    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    out = ROOT / ".bench" / f"web-{args.events}"
    if not (out / "store").is_dir():
        run_demo(out, events=args.events)
    with background(Workspace(out / "store")) as base:
        api = f"{base}/api/search?"
        rows: list[tuple[str, float]] = [
            ("search page HTML", timed(get(f"{base}/search"), args.repeat)),
            (
                "dom.js + search.js + app.css",
                timed(
                    lambda: [get(f"{base}/static/{n}")() for n in ASSETS],
                    args.repeat,
                ),
            ),
        ]
        for name, spl in SEARCHES.items():
            q = urllib.parse.urlencode({"q": spl, "summary": 0})
            rows.append((f"/api/search {name}: page + total", timed(get(api + q), args.repeat)))
            q = urllib.parse.urlencode({"q": spl})
            rows.append(
                (f"/api/search {name}: + fields, timeline", timed(get(api + q), args.repeat))
            )
        deep = urllib.parse.urlencode({"q": SEARCHES["raw events"], "offset": 20_000, "summary": 0})
        rows.append(
            ("/api/search raw events, rows 20,001-20,050", timed(get(api + deep), args.repeat))
        )
        report = f"{base}/api/hunts/wmi-lateral-movement/report?rerun=1"
        rows.append(("seed hunt run + report", timed(get(report), args.repeat)))
        findings = f"{base}/api/findings?rerun=1"
        rows.append(("findings (every analytic, whole store)", timed(get(findings), args.repeat)))
        load = browser_load(base)
        for name in ("raw events", "field filter") if load is not None else ():
            shown = timed(load(SEARCHES[name]), args.repeat)
            rows.append((f"browser: search page until rows show ({name})", shown))
    print(f"demo store: {args.events:,} events; median of {args.repeat} runs")
    after = _load(os.getloadavg())
    print(f"load average (1, 5, 15 min): before {_load(load_before)}, after {after}")
    print("| Request | Median |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:.0f} ms |")


def _load(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{a:.1f}" for a in averages)


if __name__ == "__main__":
    main()
