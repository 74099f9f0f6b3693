"""A queue whose mapped schedule 8x8 no longer has shows a "schedule missing" badge, not nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser

# As wallboard/boards/state.py missing_schedule() sends it (docs/protocol.md).
MISSING = {"status": None, "label": "Schedule missing", "state": "missing", "name": None, "next_change": None,
           "next_state": None, "exception": None, "source": "local"}


def board_with_a_missing_schedule() -> dict:
    state = make_board_state(queues=3, groups=1, agents=4)
    state["queues"]["115"]["schedule"] = dict(MISSING)
    state["queues"]["116"]["schedule"] = None  # no schedule mapped: no badge, as before
    state["queues"]["115"]["states"] = {"queue_size": "alert"}
    return state


def assert_missing_badge(page, row) -> None:
    badge = page.locator(f'{row}[data-queue-id="115"] [data-metric="schedule"]')
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("data-state", "missing")
    expect(badge).to_contain_text("Schedule missing")
    expect(badge).to_have_attribute("title", "The schedule mapped to this queue no longer exists at 8x8: ask an administrator to map another one")
    expect(page.locator(f'{row}[data-queue-id="115"]')).to_have_attribute("data-schedule", "missing")
    expect(page.locator(f'{row}[data-queue-id="116"] [data-metric="schedule"]')).to_be_hidden()
    # Open or closed is unknown: alerts are not muted.
    expect(page.locator(f'{row}[data-queue-id="115"] [data-metric="queue_size"]')).to_have_attribute("data-state", "alert")


def test_it_shows_schedule_missing_on_the_kiosk(kiosk_page, page):
    conn = kiosk_page()
    conn.send(Session().snapshot(board_with_a_missing_schedule()))
    assert_missing_badge(page, ".tile")
    expect(page.locator('[data-queue-id="115"] [data-metric="next_change"]')).to_be_empty()


def test_it_shows_schedule_missing_to_the_supervisor(harness, page):
    conn = harness.supervisor_page(page, user=User(username="sam"))
    conn.send(Session().snapshot(board_with_a_missing_schedule()))
    assert_missing_badge(page, "tr")


def test_it_counts_down_to_nothing_when_a_missing_schedule_names_a_next_change(kiosk_page, page):
    state = board_with_a_missing_schedule()
    state["queues"]["115"]["schedule"]["next_change"] = "2099-01-01T00:00:00Z"  # never ours to tell
    conn = kiosk_page()
    conn.send(Session().snapshot(state))
    assert_missing_badge(page, ".tile")
    expect(page.locator('[data-queue-id="115"] [data-metric="next_change"]')).to_be_empty()
