"""A small demo store (the seed's WMI story in about 2,000 events), the app over it, a live
server in a thread and a headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from huntbook import Workspace
from huntbook.demo.run import run_demo
from huntbook.web import create_app
from huntbook.web.server import background

DEMO_EVENTS = 2000


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("webdemo") / "demo"
    run_demo(out, events=DEMO_EVENTS)
    return out / "store"


@pytest.fixture(scope="session")
def workspace(demo_store: Path) -> Workspace:
    return Workspace(demo_store)


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(workspace), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def base_url(workspace: Workspace) -> Iterator[str]:
    with background(workspace) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("headless chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
