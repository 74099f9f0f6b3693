"""What the Analytics source adds on screen: the agent's reason code beside the state, and which SLA."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

from wallboard.boards.state import SLA_DEFINITIONS

pytestmark = pytest.mark.browser


def analytics_state() -> dict:
    state = make_board_state(queues=2, groups=0, agents=4, metrics=["queue_size", "day_sla_activity"])
    state["board"]["sla_definition"], state["board"]["sla_note"] = SLA_DEFINITIONS["analytics"]
    first, second = sorted(state["agents"])[:2]
    state["agents"][first].update(state="on_break", reason="LUNCH")
    state["agents"][second].update(state="available", reason=None)
    return state


def test_the_kiosk_shows_the_reason_code_and_the_sla_definition(kiosk_page, page):
    state = analytics_state()
    first, second = sorted(state["agents"])[:2]
    conn = kiosk_page()
    session = Session()
    conn.send(session.snapshot(state))
    reason = page.locator(f'[data-agent-id="{first}"] [data-metric="reason"]')
    expect(reason).to_have_text("LUNCH")
    expect(page.locator(f'[data-agent-id="{second}"] [data-metric="reason"]')).to_have_count(0)
    label = page.locator('[data-queue-id="115"] .metric-label').nth(1)
    expect(label).to_have_attribute("title", SLA_DEFINITIONS["analytics"][0])
    expect(label.locator(".l-long")).to_have_text("SLA today · excl. short abandons")

    conn.send(session.patch([{"op": "replace", "path": f"/agents/{first}/reason", "value": None}]))
    expect(reason).to_have_text("")
    expect(page.locator(f'[data-agent-id="{first}"]')).not_to_have_attribute("data-reason", "LUNCH")


def test_a_statistics_board_keeps_its_labels(kiosk_page, page):
    state = make_board_state(queues=1, groups=0, agents=2, metrics=["day_sla_activity"])
    state["board"]["sla_definition"], state["board"]["sla_note"] = SLA_DEFINITIONS["statistics"]
    conn = kiosk_page()
    conn.send(Session().snapshot(state))
    label = page.locator('[data-queue-id="115"] .metric-label')
    expect(label.locator(".l-long")).to_have_text("SLA today")
    expect(label).to_have_attribute("title", SLA_DEFINITIONS["statistics"][0])


def test_the_supervisor_view_shows_them_too(harness, page):
    state = analytics_state()
    first = sorted(state["agents"])[0]
    user = User(username="sam", first_name="Sam", last_name="Super")
    conn = harness.supervisor_page(page, user=user, boards=[{"slug": "demo", "title": "Demo", "url": "/supervisor/demo/"}])
    conn.send(Session().snapshot(state))
    expect(page.locator(f'tr[data-agent-id="{first}"] [data-metric="reason"]')).to_have_text("LUNCH")
    header = page.locator("th", has_text="SLA today")
    expect(header).to_have_text("SLA today (excl. short abandons)")
    expect(header).to_have_attribute("title", SLA_DEFINITIONS["analytics"][0])
