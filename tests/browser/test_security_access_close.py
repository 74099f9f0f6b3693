"""A page whose access ends asks the server again instead of reconnecting for ever."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser


def open_at(harness, page, path: str, template: str = "boards/kiosk.html", **context):
    url = harness.board_url(template, path=path, **context)
    page.goto(url)
    conn = harness.ws.accept()
    conn.send(Session().snapshot(make_board_state(queues=1)))
    expect(page.locator("[data-queue-id]")).to_have_count(1)
    return conn


@pytest.mark.parametrize("code", [4401, 4403, 4404])
def test_it_reloads_the_kiosk_when_the_server_closes_for_access(harness, page, code):
    conn = open_at(harness, page, "/kiosk/")
    conn.close(code, "access")
    harness.ws.accept(timeout=10)  # the reloaded page connects again
    assert harness.pages.hits["/kiosk/"] == 2


def test_it_reloads_the_supervisor_page_when_access_ends(harness, page):
    conn = open_at(harness, page, "/boards/demo/", "boards/supervisor.html", mode="supervisor")
    conn.close(4403, "access")
    harness.ws.accept(timeout=10)
    assert harness.pages.hits["/boards/demo/"] == 2


def test_it_does_not_reload_on_a_network_drop(harness, page):
    conn = open_at(harness, page, "/kiosk/")
    conn.close(1001, "going away")
    harness.ws.accept(timeout=10)  # reconnects on the same page
    time.sleep(1)
    assert harness.pages.hits["/kiosk/"] == 1


def test_it_reloads_at_most_once_a_minute_while_refused(harness, page):
    conn = open_at(harness, page, "/kiosk/")
    conn.close(4403, "access")
    again = harness.ws.accept(timeout=10)
    assert harness.pages.hits["/kiosk/"] == 2
    again.close(4403, "access")
    time.sleep(3)
    assert harness.pages.hits["/kiosk/"] == 2
    expect(page.locator('[data-banner="connection"]')).to_contain_text("not allowed")
