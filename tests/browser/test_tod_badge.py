"""A queue following a ContactNow policy: the tile says "Redirected to …" with its countdown."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser


def redirect_badge(in_seconds: int) -> dict:
    # As wallboard/polling/tod.py badge() sends it (docs/protocol.md).
    return {"status": None, "label": "Redirected to Sales", "state": "redirect", "name": "Overflow",
            "next_change": datetime.fromtimestamp(time.time() + in_seconds, UTC).isoformat(),
            "next_state": "open", "exception": None, "source": "contactnow"}


def board() -> dict:
    state = make_board_state(queues=2, groups=0, agents=2)
    state["queues"]["115"]["schedule"] = redirect_badge(2 * 3600 + 120)
    state["queues"]["115"]["states"] = {"queue_size": "alert"}
    return state


def assert_redirected(page, row) -> None:
    badge = page.locator(f'{row}[data-queue-id="115"] [data-metric="schedule"]')
    expect(badge).to_have_attribute("data-state", "redirect")
    expect(badge).to_contain_text("Redirected to Sales")
    # The kiosk puts the countdown under the badge, the supervisor inside it.
    countdown = page.locator(f'{row}[data-queue-id="115"] [data-metric="next_change"]')
    expect(countdown).to_contain_text("opens in 2")
    expect(page.locator(f'{row}[data-queue-id="115"]')).to_have_attribute("data-schedule", "redirect")
    # Redirected is not closed: alerts stay on.
    expect(page.locator(f'{row}[data-queue-id="115"] [data-metric="queue_size"]')).to_have_attribute("data-state", "alert")


def test_it_shows_a_redirected_queue_on_the_kiosk(kiosk_page, page):
    conn = kiosk_page()
    conn.send(Session().snapshot(board()))
    assert_redirected(page, ".tile")


def test_it_shows_a_redirected_queue_to_the_supervisor(harness, page):
    conn = harness.supervisor_page(page, user=User(username="sam"))
    conn.send(Session().snapshot(board()))
    assert_redirected(page, "tr")
