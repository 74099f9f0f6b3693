"""Weak devices and screens that stay on for years (issue 20): light mode (?lite=1), the burn-in
shift (?shift=N) and the Screen Wake Lock.

Time is Playwright's fake clock: the page's timers run when the test says, never by waiting.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser

# A navigator.wakeLock that records each request; its sentinels can be released by the test.
STUB_WAKE_LOCK = """
window.__wakeCalls = [];
Object.defineProperty(navigator, "wakeLock", { configurable: true, value: {
  request: async (type) => {
    const sentinel = { type, released: false, release: async () => { sentinel.released = true; } };
    window.__wakeCalls.push(type);
    window.__wakeSentinel = sentinel;
    return sentinel;
  },
}});
"""
NO_WAKE_LOCK = 'Object.defineProperty(navigator, "wakeLock", { configurable: true, value: undefined });'


def alerting_state() -> dict:
    state = make_board_state(queues=4, agents=10)
    state["queues"]["115"]["states"] = {"queue_size": "alert", "longest_wait_time": "warn"}
    return state


def open_kiosk(kiosk_page, page, query: str, state: dict | None = None):
    conn = kiosk_page(query=query)
    session = Session()
    conn.send(session.snapshot(state or alerting_state()))
    expect(page.locator('[data-queue-id="115"] .metric[data-state="alert"]')).to_be_visible()
    return conn, session


def running_animations(page) -> int:
    return page.evaluate("document.getAnimations().length")


def test_it_animates_an_alert_in_the_normal_mode(kiosk_page, page):
    """The control for the next test: without ?lite=1 an alert flashes."""
    open_kiosk(kiosk_page, page, "")
    expect(page.locator("html")).not_to_have_attribute("data-lite", "1")
    assert running_animations(page) > 0


def test_it_runs_no_animation_and_no_shadow_in_lite_mode(kiosk_page, page):
    open_kiosk(kiosk_page, page, "?lite=1")
    expect(page.locator("html")).to_have_attribute("data-lite", "1")
    assert running_animations(page) == 0
    cell = page.locator('[data-queue-id="115"] .metric[data-state="alert"]')
    assert cell.evaluate("e => getComputedStyle(e).boxShadow") == "none"
    # The level is still drawn: an outline instead of the shadow ring.
    assert cell.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"


def agent_time(page) -> str:
    return page.locator('[data-agent-id="agent001"] [data-metric="time_in_status"]').inner_text()


@pytest.mark.parametrize(("query", "steps"), [("", 1), ("?lite=1", 5)])
def test_it_steps_agent_timers_every_five_seconds_in_lite_mode(kiosk_page, page, query, steps):
    page.clock.install()
    open_kiosk(kiosk_page, page, query)
    page.clock.run_for(2000)  # past the alignment to the second
    changes = 0
    before = agent_time(page)
    for _ in range(10):
        page.clock.run_for(1000)
        now = agent_time(page)
        changes += now != before
        before = now
    assert changes == 10 // steps


def scroll_sizes(page) -> dict:
    return page.evaluate(
        """() => {
            const d = document.documentElement;
            return {sw: d.scrollWidth, cw: d.clientWidth, sh: d.scrollHeight, ch: d.clientHeight,
                    iw: window.innerWidth, ih: window.innerHeight};
        }"""
    )


def test_it_shifts_the_layout_a_few_pixels_without_scrollbars(kiosk_page, page):
    page.clock.install()
    open_kiosk(kiosk_page, page, "?shift=3&shift_seconds=60")
    expect(page.locator("html")).to_have_attribute("data-shift", "3")
    # The header: nothing above it, so only the shift can move it (a stale banner moves the rest).
    main = page.locator(".wb-header")
    home = main.bounding_box()
    moves = set()
    for _ in range(12):
        page.clock.run_for(60_000)
        box = main.bounding_box()
        dx, dy = box["x"] - home["x"], box["y"] - home["y"]
        assert abs(dx) <= 3 and abs(dy) <= 3, (dx, dy)
        moves.add((round(dx), round(dy)))
        sizes = scroll_sizes(page)
        assert sizes["sw"] <= sizes["cw"] and sizes["sh"] <= sizes["ch"], sizes
        assert sizes["iw"] == sizes["cw"] and sizes["ih"] == sizes["ch"], sizes  # no scrollbar
    assert len(moves) > 1  # it does move


def test_it_shifts_by_default_every_three_minutes(kiosk_page, page):
    page.clock.install()
    open_kiosk(kiosk_page, page, "")
    expect(page.locator("html")).to_have_attribute("data-shift", "3")
    read = "getComputedStyle(document.documentElement).getPropertyValue('--wb-shift-x')"
    page.clock.run_for(170_000)
    assert page.evaluate(read) == ""
    page.clock.run_for(20_000)
    assert page.evaluate(read).endswith("px")


def test_it_does_not_shift_when_told_not_to(kiosk_page, page):
    page.clock.install()
    open_kiosk(kiosk_page, page, "?shift=0")
    expect(page.locator("html")).not_to_have_attribute("data-shift", "3")
    home = page.locator(".wb-header").bounding_box()
    page.clock.run_for(600_000)
    assert page.locator(".wb-header").bounding_box() == home


def test_it_keeps_the_screen_awake_and_takes_the_lock_again(kiosk_page, page):
    page.add_init_script(STUB_WAKE_LOCK)
    open_kiosk(kiosk_page, page, "")
    page.wait_for_function("window.__wakeCalls.length === 1")
    assert page.evaluate("window.__wakeCalls") == ["screen"]
    # The browser drops the lock when the page is hidden; back in view, the page asks again.
    page.evaluate("window.__wakeSentinel.released = true; document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function("window.__wakeCalls.length === 2")
    # While the lock is held, a visibility change asks for nothing.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__wakeCalls.length") == 2


def test_it_runs_without_a_wake_lock_api(kiosk_page, page):
    """An older TV browser: no navigator.wakeLock, no error (the page fixture fails on one)."""
    page.add_init_script(NO_WAKE_LOCK)
    open_kiosk(kiosk_page, page, "")
    assert page.evaluate("navigator.wakeLock") is None


def test_it_neither_shifts_nor_locks_the_supervisor_view(harness, page):
    page.add_init_script(STUB_WAKE_LOCK)
    conn = harness.supervisor_page(page)
    conn.send(Session().snapshot(make_board_state(queues=2, agents=3)))
    expect(page.locator("[data-agent-id]").first).to_be_attached()
    expect(page.locator("html")).not_to_have_attribute("data-shift", "3")
    assert page.evaluate("window.__wakeCalls") == []


def test_it_keeps_its_display_options_when_switched_to_another_board(harness, kiosk_page, page):
    other = harness.board_url(path="/kiosk/", title="Other board")
    conn, session = open_kiosk(kiosk_page, page, "?lite=1&palette=cb&shift=2&sound=1")
    conn.send(session.control("switch", url="/kiosk/"))
    page.wait_for_url(f"{other}?palette=cb&lite=1&shift=2")  # not ?sound: not a display option
    harness.ws.accept()
    expect(page.locator("html")).to_have_attribute("data-lite", "1")
    expect(page.locator("html")).to_have_attribute("data-palette", "cb")
