"""Announcements on the kiosk and supervisor pages: a band the layout makes room for, text only."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from wb_harness import Session, iso, make_board_state

from wallboard.boards.models import DEFAULT_QUEUE_METRICS

pytestmark = pytest.mark.browser

LONG = ("Fire drill at 15:00: leave by the stairs, not the lifts, and meet in the car park; team leads count "
        "their teams and report to reception. Calls in queue are moved to the overflow site for twenty minutes, "
        "so please log out of the phone before you leave your desk. Thank you!")[:280]
HOSTILE = '<img src=x onerror="window.__pwned=1"><b>bold</b> & “quotes”'


def announcement(id_: int, message: str, severity: str = "info", ends_in: float = 3600) -> dict:
    return {"id": id_, "message": message, "severity": severity, "starts": iso(time.time() - 60),
            "ends": iso(time.time() + ends_in)}


def open_board(kiosk_page, page, state):
    conn = kiosk_page()
    session = Session()
    conn.send(session.snapshot(state))
    expect(page.locator("[data-queue-id]").first).to_be_visible()
    return conn, session


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def rects(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate_all(
        "els => els.filter(e => e.offsetParent !== null).map(e => { const r = e.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"
    )


@pytest.mark.parametrize("size", ["1280x720", "1920x1080", "3840x2160"])
def test_it_shows_a_band_that_covers_no_figure(kiosk_page, page, size):
    width, height = (int(v) for v in size.split("x"))
    page.set_viewport_size({"width": width, "height": height})
    state = make_board_state(queues=12, groups=3, agents=60, metrics=DEFAULT_QUEUE_METRICS)
    state["announcements"] = [announcement(1, LONG, "critical"), announcement(2, "New promo code today: WINTER26")]
    open_board(kiosk_page, page, state)
    band = page.locator(".wb-announcements")
    expect(band).to_be_visible()
    expect(band.locator(".wb-announcement")).to_have_count(2)
    page.wait_for_timeout(300)  # the tile layout reflows after the band takes its room

    dims = page.evaluate(
        """() => ({sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,
                   sh: document.documentElement.scrollHeight, ch: document.documentElement.clientHeight})"""
    )
    assert dims["sw"] <= dims["cw"] and dims["sh"] <= dims["ch"], dims
    band_box = rects(page, ".wb-announcements")[0]
    assert band_box["bottom"] <= height and band_box["right"] <= width + 0.5
    figures = rects(page, ".tile") + rects(page, ".agent") + rects(page, ".wb-header")
    assert figures
    hits = [box for box in figures if overlaps(band_box, box)]
    assert not hits, (band_box, hits[:3])
    assert max(box["bottom"] for box in figures) <= height + 0.5
    # Readable from across the room.
    font = float(band.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert font >= height / 60


def test_it_sets_messages_as_text_never_as_html(kiosk_page, page):
    state = make_board_state(queues=3, agents=4)
    state["announcements"] = [announcement(7, HOSTILE, "warning")]
    open_board(kiosk_page, page, state)
    text = page.locator(".wb-announcement-text")
    expect(text).to_have_text(HOSTILE)
    assert page.locator(".wb-announcements img, .wb-announcements b").count() == 0
    assert page.evaluate("() => window.__pwned") is None


def test_it_adds_and_removes_the_band_as_patches_say_and_the_tiles_make_room(kiosk_page, page):
    page.set_viewport_size({"width": 1920, "height": 1080})
    state = make_board_state(queues=6, agents=10)
    conn, session = open_board(kiosk_page, page, state)
    band = page.locator(".wb-announcements")
    expect(band).to_be_hidden()
    main_before = rects(page, ".wb-main")[0]
    conn.send(session.patch([{"op": "add", "path": "/announcements", "value": [announcement(3, "Fire drill", "critical")]}]))
    expect(band.locator('[data-severity="critical"]')).to_have_text("Fire drill")
    page.wait_for_timeout(300)
    main_with = rects(page, ".wb-main")[0]
    assert main_with["top"] >= rects(page, ".wb-announcements")[0]["bottom"]
    assert main_with["bottom"] - main_with["top"] < main_before["bottom"] - main_before["top"]
    conn.send(session.patch([{"op": "replace", "path": "/announcements", "value": []}]))
    expect(band).to_be_hidden()


def test_it_hides_an_announcement_at_its_end_by_itself(kiosk_page, page):
    state = make_board_state(queues=3, agents=4)
    state["announcements"] = [announcement(4, "Short one", ends_in=1.5), announcement(5, "Stays")]
    open_board(kiosk_page, page, state)
    items = page.locator(".wb-announcement")
    expect(items).to_have_count(2)
    expect(items).to_have_count(1, timeout=10000)  # no message from the server in between
    expect(items).to_have_text(["Stays"])


def test_it_shows_announcements_on_the_supervisor_view(harness, page):
    conn = harness.supervisor_page(page)
    state = make_board_state(queues=3, agents=4)
    state["announcements"] = [announcement(6, HOSTILE, "info")]
    conn.send(Session().snapshot(state))
    expect(page.locator(".wb-announcement-text")).to_have_text(HOSTILE)
    assert page.locator(".wb-announcements img").count() == 0
