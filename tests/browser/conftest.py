"""Fixtures for the browser tests: Debian's Chromium through Playwright, a page that leaves a
screenshot per test in artifacts/screenshots/, and the board harness (pages + scripted websocket).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from wb_harness import CHROMIUM, REPO, BoardHarness, PageServer, ScriptedWSServer, launch_chromium

SCREENSHOTS = REPO / "artifacts" / "screenshots"


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


# Per module, not per session: while Playwright's sync API is open its event loop counts as
# running in the main thread, and async tests in modules collected after these would fail.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium, or make browser-deps)"
        if _ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh 1280x720 page; its screenshot is saved as artifacts/screenshots/<test name>.png."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page_server():
    server = PageServer().start()
    yield server
    server.stop()


@pytest.fixture
def ws_server():
    server = ScriptedWSServer().start()
    yield server
    server.stop()


@pytest.fixture
def harness(page_server, ws_server):
    return BoardHarness(page_server, ws_server)


@pytest.fixture
def kiosk_page(harness, page):
    """kiosk_page(url=None, **context) -> websocket connection of the page just opened."""

    def open_kiosk(url: str | None = None, **context):
        return harness.kiosk_page(page, url, **context)

    return open_kiosk
