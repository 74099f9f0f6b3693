"""TVs say what is wrong upstream in short words; only supervisors see 8x8's technical detail.

The status `message` carries detail for supervisors and admins ("timed out: 127.0.0.1 did not
answer within 3 s", a JSON parser's "line 1 column 33482"): a TV in an office must not show it.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser

ZONE = "Europe/Berlin"
# 10:42 in the board's time zone, today: what the banner says the numbers date from.
LAST_OK = datetime.combine(datetime.now(ZoneInfo(ZONE)).date(), time(10, 42), ZoneInfo(ZONE)).isoformat()

# state -> (message as wallboard.polling.health.failure_message builds it, words a TV shows, detail it must not)
STATUSES = {
    "unreachable": (
        "8x8 is not answering properly (timed out: 127.0.0.1 did not answer within 3 s); showing the last good data.",
        "8x8 is not answering",
        ("127.0.0.1", "timed out", "within 3 s"),
    ),
    "malformed": (
        "8x8 sent an answer we cannot use (Expecting ':' delimiter: line 1 column 33482 (char 33481)); "
        "showing the last good data.",
        "8x8's answer could not be read",
        ("line 1 column", "Expecting", "delimiter"),
    ),
    "unauthorised": (
        "8x8 refused the tenant's credentials; check the token in admin (retrying every 300 s).",
        "ask your administrator",
        ("retrying every", "in admin"),
    ),
}


def open_with_status(conn, state: str) -> None:
    session = Session()
    conn.send(session.snapshot(make_board_state(queues=2, agents=3)))
    message = STATUSES[state][0]
    conn.send(session.status(state, message, last_ok=LAST_OK))


@pytest.mark.parametrize("state", list(STATUSES))
def test_it_tells_the_tv_in_short_words_without_the_detail(kiosk_page, page, state):
    conn = kiosk_page(time_zone=ZONE)
    open_with_status(conn, state)
    _, words, detail = STATUSES[state]
    banner = page.locator('[data-banner="status"]')
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(words)
    expect(banner).to_contain_text("last good data from 10:42")
    # Nowhere on the board, hidden or on hover (the page's own config names the test server).
    shown = page.evaluate(
        """() => document.querySelector('.wb').textContent + ' '
                 + [...document.querySelectorAll('[title]')].map((e) => e.title).join(' ')"""
    )
    for fragment in detail:
        assert fragment not in shown, fragment
    expect(banner).not_to_have_attribute("title", STATUSES[state][0])


@pytest.mark.parametrize("state", list(STATUSES))
def test_it_gives_the_supervisor_the_detail_too(harness, page, state):
    conn = harness.supervisor_page(page, user=User(username="sam"), time_zone=ZONE)
    open_with_status(conn, state)
    message, words, _ = STATUSES[state]
    banner = page.locator('[data-banner="status"]')
    expect(banner).to_contain_text(words)
    expect(banner).to_contain_text("last good data from 10:42")
    expect(banner.locator(".banner-detail")).to_have_text(message)
    expect(banner.locator(".banner-detail")).to_be_visible()
    expect(banner).to_have_attribute("title", message)


def test_it_clears_the_detail_when_upstream_recovers(harness, page):
    conn = harness.supervisor_page(page, user=User(username="sam"), time_zone=ZONE)
    session = Session()
    conn.send(session.snapshot(make_board_state(queues=1, agents=1)))
    conn.send(session.status("unreachable", STATUSES["unreachable"][0], last_ok=LAST_OK))
    banner = page.locator('[data-banner="status"]')
    expect(banner.locator(".banner-detail")).to_have_text(STATUSES["unreachable"][0])
    conn.send(session.status("ok", ""))
    expect(banner).to_be_hidden()
    expect(banner).not_to_have_attribute("title", STATUSES["unreachable"][0])
