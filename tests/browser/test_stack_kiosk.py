"""The kiosk in real Chromium against the real stack: simulator, worker, beat, web, Redis.

One stack for the module (it takes a few seconds to start); each test opens a fresh page on
the demo board through its display URL, as a TV does.
"""

from __future__ import annotations

import signal
import tempfile
import time

import pytest
import redis
import requests
from playwright.sync_api import expect

from tests.helpers import wait_for
from tests.stack_fixtures import new_stack
from wallboard.devstack.stack import Stack, business_hours_zone

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CYCLE = 10


@pytest.fixture(scope="module")
def stack():
    zone = business_hours_zone()
    stack = new_stack(tempfile.mkdtemp(prefix="wb-e2e-"), agents=30, queues=6, sim_args=("--tenant-tz", zone))
    stack.demo_time_zone = zone
    try:
        stack.start()
        # An always-on alert, so threshold colours can be checked whatever the simulated load.
        stack.manage("shell", "-c", (
            "from wallboard.boards.models import Board, Threshold; "
            "Threshold.objects.create(board=Board.objects.get(slug='demo'), metric='day_accepted', warn=-2, alert=-1)"
        ))
        # The first poll, before any page opens: on a loaded machine a worker's start-up alone
        # can take most of a page's wait, and how fast a stack boots is not what these tests check.
        wait_for(lambda: _first_state(stack), timeout=180, what="the demo board's first poll")
        yield stack
    finally:
        stack.stop()


def _first_state(stack: Stack) -> bool:
    from wallboard.live import store

    return store.load("demo", client=redis.Redis.from_url(stack.redis_url)) is not None


def stored_state(stack: Stack) -> dict:
    """What the stack's Redis holds for the demo board (read the way the web process does)."""
    from wallboard.live import store

    return store.load("demo", client=redis.Redis.from_url(stack.redis_url)).data


def open_kiosk(page, stack: Stack):
    page.goto(stack.kiosk_url)
    expect(page.locator("[data-queue-id]").first).to_be_visible(timeout=30_000)
    return page


def texts(page, selector: str) -> list[str]:
    return page.locator(selector).all_inner_texts()


def test_it_shows_the_demo_board_from_the_real_stack(page, stack):
    open_kiosk(page, stack)
    state = stored_state(stack)
    expect(page.locator("[data-queue-id]")).to_have_count(len(state["queues"]))
    expect(page.locator("[data-group-id]")).to_have_count(len(state["groups"]))
    for queue_id, queue in state["queues"].items():
        tile = page.locator(f'[data-queue-id="{queue_id}"]')
        expect(tile).to_contain_text(queue["name"][:10])
    assert page.locator("[data-agent-id]").count() > 0, "office hours: agents are logged in"
    assert "/d/" not in page.url, "the display token is swapped for a cookie and leaves the address bar"


def test_it_shows_new_values_as_the_simulator_moves(page, stack):
    open_kiosk(page, stack)
    as_of = page.locator('[data-metric="as_of"]').first
    first_as_of = as_of.inner_text()
    first_values = texts(page, "[data-queue-id] [data-metric]")
    deadline = time.monotonic() + 4 * CYCLE
    while time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        if as_of.inner_text() != first_as_of and texts(page, "[data-queue-id] [data-metric]") != first_values:
            break
    else:
        pytest.fail("no new data reached the page within four cycles")
    # What the page shows is what the server holds.
    state = stored_state(stack)
    for queue_id, queue in state["queues"].items():
        value = queue["metrics"]["queue_size"]
        shown = page.locator(f'[data-queue-id="{queue_id}"] [data-metric="queue_size"]')
        expect(shown).to_have_text(str(value) if value is not None else "–", timeout=2 * CYCLE * 1000)


def test_it_ticks_agent_timers_between_messages(page, stack):
    open_kiosk(page, stack)
    timer = page.locator('[data-agent-id] [data-metric="time_in_status"]').first
    before = timer.inner_text()
    page.wait_for_timeout(2200)
    assert timer.inner_text() != before


def test_it_colours_values_by_threshold_and_mutes_closed_queues(page, stack):
    open_kiosk(page, stack)
    page.wait_for_timeout(1500 + CYCLE * 1000)  # the threshold added at start-up is in every state by now
    state = stored_state(stack)
    for queue_id, queue in state["queues"].items():
        closed = bool(queue["schedule"]) and queue["schedule"]["state"] == "closed"
        expected = "ok" if closed else "alert"
        assert queue["states"]["day_accepted"] == expected
        value = page.locator(f'[data-queue-id="{queue_id}"] [data-metric="day_accepted"]')
        expect(value).to_have_attribute("data-state", expected)


def test_it_says_plainly_when_upstream_refuses_the_token(page, stack):
    open_kiosk(page, stack)
    requests.post(stack.sim_url + "/_sim/revoke", timeout=5)
    try:
        banner = page.locator('[data-banner="status"]')
        expect(banner).to_be_visible(timeout=3 * CYCLE * 1000)
        expect(banner).to_contain_text("token")
    finally:
        requests.post(stack.sim_url + "/_sim/restore", timeout=5)
        # Saving the tenant is what an administrator does after fixing the token.
        stack.manage("shell", "-c", "from wallboard.boards.models import Tenant; [t.save() for t in Tenant.objects.all()]")
    expect(page.locator('[data-banner="status"]')).to_be_hidden(timeout=3 * CYCLE * 1000)


def test_it_marks_data_stale_when_nothing_arrives_and_recovers(page, stack):
    open_kiosk(page, stack)
    stale = page.locator('[data-banner="stale"]')
    expect(stale).to_be_hidden()
    stack.stop_process("beat")
    stack.stop_process("worker", signal.SIGKILL)
    try:
        expect(stale).to_be_visible(timeout=int(4 * CYCLE * 1000))
        assert page.locator("[data-stale]").count() > 0, "values are greyed while stale"
    finally:
        stack.start_worker()
        stack.start_beat()
    expect(stale).to_be_hidden(timeout=4 * CYCLE * 1000)


def test_it_recovers_by_itself_after_the_web_server_restarts(page, stack):
    open_kiosk(page, stack)
    as_of = page.locator('[data-metric="as_of"]').first
    stack.restart("web")
    connection = page.locator('[data-banner="connection"]')
    before = as_of.inner_text()
    expect(connection).to_be_hidden(timeout=45_000)
    deadline = time.monotonic() + 4 * CYCLE
    while as_of.inner_text() == before and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert as_of.inner_text() != before, "fresh data after the restart"


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (3840, 2160)])
def test_it_fills_the_screen_without_scrollbars(browser, stack, size, request):
    from tests.browser.conftest import SCREENSHOTS

    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        open_kiosk(page, stack)
        page.wait_for_timeout(500)
        overflow = page.evaluate(
            "() => [document.documentElement.scrollWidth - document.documentElement.clientWidth,"
            " document.documentElement.scrollHeight - document.documentElement.clientHeight]"
        )
        assert overflow[0] <= 0 and overflow[1] <= 0, f"scrollbars at {size}: {overflow}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"stack_kiosk_{size[0]}x{size[1]}.png"))
    finally:
        context.close()
