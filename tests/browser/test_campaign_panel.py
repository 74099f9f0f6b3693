"""The campaign panel in Chromium (live Django server, the simulator as 8x8) and the kiosk's badges.

The panel must work under the Content-Security-Policy (no inline script or style), never send
a double click twice, and ask an administrator to type the campaign's name before a purge.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from orm_helpers import RECORD_VIOLATIONS, database_before_browser  # noqa: F401 - the fixture
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

from wallboard.boards.models import Board, Tenant
from wallboard.campaigns.models import Campaign, CampaignAction, CampaignGrant
from wallboard.simulator.server import SimulatorServer

pytestmark = pytest.mark.browser

PASSWORD = "campaign-panel-password-7f2a"
ZONE = "America/New_York"


@pytest.fixture
def sim(redis_client):
    server = SimulatorServer(port=0, agents=10, queues=2)
    server.start()
    yield server
    server.stop()


def sim_state(sim, campaign_id="101"):
    return sim.campaigns.state()["campaigns"][campaign_id]


@pytest.fixture
def panel_url(live_server, sim, transactional_db):
    tenant = Tenant.objects.create(
        name="Acme", base_url=sim.base_url, tenant_name="demo", token="demo-token",
        action_token="demo-action-token", time_zone=ZONE,
    )
    board = Board.objects.create(slug="floor", title="Floor", tenant=tenant)
    campaign = Campaign.objects.create(tenant=tenant, campaign_id="101", name="Renewals callbacks")
    campaign.boards.add(board)
    supervisor = User.objects.create_user("sam", password=PASSWORD)
    board.viewers.add(supervisor)
    CampaignGrant.objects.create(board=board).users.add(supervisor)
    User.objects.create_superuser("ada", "ada@example.com", PASSWORD)
    sim.campaigns.configure("101", status="RUNNING")
    return f"{live_server.url}/boards/floor/campaigns/"


def sign_in(page, url: str, username: str = "sam") -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")
    expect(page.locator(".cp-campaign")).to_have_count(1)


def campaign_section(page):
    return page.locator('.cp-campaign[data-campaign-id="101"]')


def test_it_pauses_and_runs_from_the_panel(page, panel_url, sim):
    sign_in(page, panel_url)
    section = campaign_section(page)
    expect(section.locator('[data-metric="campaign_source"]')).to_contain_text("not set from this wallboard yet")

    section.locator('[data-action="pause"]').click()

    expect(page.locator(".cp-message")).to_contain_text("paused (8x8 accepted it)")
    expect(campaign_section(page).locator('[data-metric="campaign_state"]')).to_have_text("Paused")
    expect(campaign_section(page).locator('[data-metric="campaign_source"]')).to_contain_text("set by sam at")
    assert sim_state(sim)["status"] == "PAUSED"

    campaign_section(page).locator('[data-action="run"]').click()
    expect(campaign_section(page).locator('[data-metric="campaign_state"]')).to_have_text("Running")
    assert sim_state(sim)["status"] == "RUNNING"
    assert page.evaluate("window.__cspViolations") == []


def test_a_double_submit_sends_one_request(page, panel_url, sim):
    sign_in(page, panel_url)
    before = sim.campaigns.state()["requests"]
    sim.campaigns.latency_ms = 300  # the second submission lands while the first is in flight
    # Chromium drops a second click on a form that is already submitting, so post the very form
    # twice at once, as a flaky browser or a resubmitted page would. (form.action would be the
    # buttons named "action": hence getAttribute.)
    statuses = page.evaluate("""async () => {
        const form = document.querySelector('.cp-campaign[data-campaign-id="101"] .cp-actions');
        const send = () => { const data = new FormData(form); data.set("action", "pause");
            return fetch(form.getAttribute("action"), {method: "POST", body: data, redirect: "manual"}).then(r => r.type); };
        return Promise.all([send(), send()]);
    }""")

    assert statuses == ["opaqueredirect", "opaqueredirect"]  # both were answered with the redirect
    assert sim.campaigns.state()["requests"] == before + 1
    assert CampaignAction.objects.count() == 1
    page.reload()
    expect(campaign_section(page).locator('[data-metric="campaign_state"]')).to_have_text("Paused")
    # Each answer left its message; the cookie that carries them keeps the later one.
    expect(page.locator(".cp-message").first).to_contain_text("paused")


def test_it_schedules_a_callback_in_the_tenants_time(page, panel_url, sim):
    sign_in(page, panel_url)
    now = timezone.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    at = (noon if noon > now + timedelta(minutes=5) else noon + timedelta(days=1)).astimezone(ZoneInfo(ZONE))
    form = campaign_section(page).locator(".cp-callback")

    form.locator('[name="customer_id"]').fill("1000030")
    form.locator('[name="date"]').fill(at.strftime("%Y-%m-%d"))
    form.locator('[name="time"]').fill(at.strftime("%H:%M"))
    form.locator("[type=submit]").click()

    expect(page.locator(".cp-message")).to_contain_text("customer 1000030 added")
    assert sim_state(sim)["customers"]["1000030"] == "scheduled"


def test_it_refuses_a_past_callback_on_the_page(page, panel_url, sim):
    sign_in(page, panel_url)
    past = (timezone.now() - timedelta(hours=2)).astimezone(ZoneInfo(ZONE))
    form = campaign_section(page).locator(".cp-callback")
    form.locator('[name="customer_id"]').fill("1000031")
    form.locator('[name="date"]').fill(past.strftime("%Y-%m-%d"))
    form.locator('[name="time"]').fill(past.strftime("%H:%M"))
    form.locator("[type=submit]").click()

    expect(campaign_section(page).locator(".cp-callback .cp-errors")).to_contain_text("is in the past")
    assert "1000031" not in sim_state(sim)["customers"]


def test_it_removes_a_customer_and_shows_8x8s_refusal(page, panel_url, sim):
    sign_in(page, panel_url)
    form = campaign_section(page).locator(".cp-remove")
    form.locator('[name="customer_id"]').fill("1000900")  # already offered: 8x8 refuses
    form.locator("[type=submit]").click()
    expect(page.locator(".cp-message")).to_contain_text("not available for deletion")


def test_purge_asks_an_administrator_to_type_the_name(page, panel_url, sim):
    sim.campaigns.configure("101", status="STOPPED")
    sign_in(page, panel_url, "ada")
    section = campaign_section(page)
    section.locator(".cp-purge summary").click()
    section.locator('[name="confirm"]').fill("renewals")
    section.locator('[data-action="purge"]').click()

    expect(campaign_section(page).locator(".cp-purge .cp-errors")).to_contain_text("Type the campaign's name")
    assert sim_state(sim)["status"] == "STOPPED"

    campaign_section(page).locator('[name="confirm"]').fill("Renewals callbacks")
    campaign_section(page).locator('[data-action="purge"]').click()
    expect(campaign_section(page).locator('[data-metric="campaign_state"]')).to_have_text("Purged")
    assert sim_state(sim)["status"] == "PURGED"


def test_a_supervisor_sees_no_purge(page, panel_url):
    sign_in(page, panel_url)
    expect(page.locator('[data-action="purge"]')).to_have_count(0)


# --- the kiosk's badges ---------------------------------------------------------------------------------


def badges(state, *campaigns):
    state["campaigns"] = [
        {"id": cid, "name": name, "state": st, "source": source, "by": by, "at": "2026-12-01T10:00:00Z"}
        for cid, name, st, source, by in campaigns
    ]
    return state


def test_the_kiosk_shows_each_campaign_as_a_badge_and_follows_patches(kiosk_page, page):
    conn = kiosk_page()
    session = Session()
    state = badges(make_board_state(), ("101", "Renewals", "running", "person", "sam"), ("102", "Win-back", "paused", "automatic", "automatic"))
    conn.send(session.snapshot(state))

    first = page.locator('.wb-campaign[data-campaign-id="101"]')
    expect(first).to_have_attribute("data-state", "running")
    expect(first).to_have_text("Renewals: running")
    second = page.locator('.wb-campaign[data-campaign-id="102"]')
    expect(second).to_have_attribute("data-source", "automatic")
    assert "automatically" in second.get_attribute("title")

    conn.send(session.patch([
        {"op": "replace", "path": "/campaigns/0/state", "value": "paused"},
        {"op": "replace", "path": "/campaigns/0/source", "value": "uncertain"},
        {"op": "remove", "path": "/campaigns/1"},
    ]))
    expect(first).to_have_attribute("data-state", "paused")
    assert "check in 8x8" in first.get_attribute("title")
    expect(page.locator(".wb-campaign")).to_have_count(1)


def test_the_kiosk_shows_no_badges_without_campaigns(kiosk_page, page):
    conn = kiosk_page()
    conn.send(Session().snapshot(badges(make_board_state())))
    expect(page.locator("[data-queue-id]").first).to_be_visible()
    expect(page.locator(".wb-campaign")).to_have_count(0)


def test_a_long_campaign_name_is_cut_on_the_badge(kiosk_page, page):
    conn = kiosk_page()
    long_name = "Outbound " * 40
    conn.send(Session().snapshot(badges(make_board_state(), ("7", long_name, "stopped", "person", "<b>x</b>"))))
    badge = page.locator('.wb-campaign[data-campaign-id="7"]')
    expect(badge).to_have_attribute("data-state", "stopped")
    assert len(badge.inner_text()) < 60
    assert page.locator(".wb-campaign b").count() == 0  # names and people are text, never markup
