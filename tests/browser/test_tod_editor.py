"""The ContactNow hours editor in Chromium: the week grid, the 14-day preview, preview then save.

A live Django server (pytest-django) with the simulator's database.php behind the account; the
page must work under the Content-Security-Policy (no inline style or script) and never show
the token.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from orm_helpers import RECORD_VIOLATIONS, database_before_browser  # noqa: F401 - the fixture
from playwright.sync_api import expect

from tests.tod_helpers import contactnow_sim
from wallboard.boards.models import ContactNowAccount, TodAudit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "cn-browser-s3cret-5"
PASSWORD = "tod-editor-password-8c1e"
ZONE = "Europe/London"


@pytest.fixture
def sim():
    with contactnow_sim(TOKEN) as server:
        yield server


@pytest.fixture
def editor_url(live_server, sim):
    User.objects.create_superuser("tod-admin", "tod@example.com", PASSWORD)
    account = ContactNowAccount.objects.create(name="Dxi", base_url=sim.base_url, token=TOKEN, time_zone=ZONE)
    return f"{live_server.url}/admin/boards/contactnowaccount/{account.pk}/hours/2164/"


def sign_in(page, url: str) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(url)
    page.fill("#id_username", "tod-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator('[data-tod="week"]')).to_be_visible()


def next_monday() -> date:
    today = datetime.now(ZoneInfo(ZONE)).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def test_it_draws_the_week_grid_and_the_next_14_days(page, editor_url):
    sign_in(page, editor_url)
    week = page.locator('[data-tod="week"] tr')
    expect(week).to_have_count(7)
    monday_open = week.nth(0).locator('rect[data-state="open"]')
    expect(monday_open).to_have_count(1)
    assert (monday_open.get_attribute("x"), monday_open.get_attribute("width")) == ("480", "600")  # 08:00-18:00
    saturday = week.nth(5).locator('rect[data-state="redirect"]')
    assert (saturday.get_attribute("x"), saturday.get_attribute("width")) == ("540", "210")  # 09:00-12:30
    expect(page.locator('[data-tod="preview"] tr')).to_have_count(14)
    box = monday_open.bounding_box()
    assert box and box["width"] > 100  # drawn, not collapsed: the stylesheet loaded under the CSP
    assert TOKEN not in page.content()
    assert page.evaluate("window.__cspViolations") == []


def test_it_previews_a_holiday_then_saves_it(page, editor_url, sim):
    holiday = next_monday()
    sign_in(page, editor_url)
    page.fill("#id_rule", "9")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        page.check(f'input[name="days"][value="{day}"]')
    page.fill("#id_ranges", "00:00-24:00")
    page.select_option("#id_action", "hangup")
    page.fill("#id_on_date", holiday.isoformat())
    page.click('input[name="preview"]')

    row = f'tr[data-day="{holiday.isoformat()}"]'
    expect(page.locator(f'[data-tod="proposed"] {row} rect')).to_have_count(1)
    expect(page.locator(f'[data-tod="proposed"] {row} rect[data-state="closed"]')).to_have_count(1)
    expect(page.locator(f'[data-tod="preview"] {row} rect[data-state="open"]')).to_have_count(1)
    assert [r for r in sim.contactnow.rules if r["rule"] == "9"] == []  # a preview sends nothing

    page.click('input[name="save"]')
    expect(page.locator(".messagelist")).to_contain_text("Rule 9: created in ContactNow")
    expect(page.locator('[data-tod="rules"] tr[data-rule="9"]')).to_contain_text("hangup")
    expect(page.locator(f'[data-tod="preview"] {row} rect[data-state="closed"]')).to_have_count(1)
    expect(page.locator('[data-tod="audits"]')).to_contain_text("tod-admin")
    assert len([r for r in sim.contactnow.rules if r["rule"] == "9"]) == 1
    assert TodAudit.objects.get().username == "tod-admin"
    assert page.evaluate("window.__cspViolations") == []


def test_it_shows_what_is_wrong_before_sending(page, editor_url, sim):
    sign_in(page, editor_url)
    page.fill("#id_rule", "9")
    page.fill("#id_ranges", "9-17")
    page.click('input[name="preview"]')
    expect(page.locator(".errorlist")).to_contain_text("write ranges as")
    expect(page.locator('[data-tod="proposed"]')).to_have_count(0)
    expect(page.locator('input[name="save"]')).to_have_count(0)
