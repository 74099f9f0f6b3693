"""Agent performance tiles (issue 20) in Chromium: shown, patched, names escaped and cut, no scrollbars."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from test_accessibility import serious
from wb_harness import Session, make_board_state

from wallboard.boards.models import DEFAULT_QUEUE_METRICS

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__pwned=1">' + "Ünïcödé agent with a very long name " * 6


def with_agent_tiles(state: dict, hostile: str = HOSTILE, size: int = 10) -> dict:
    """Add a leaderboard by AHT, occupancy for the board's groups and day totals for every queue."""
    state["board"]["agent_tiles"] = {
        "leaderboard": "aht", "leaderboard_size": size, "min_count": 5, "occupancy": True, "day_totals": True,
    }
    state["leaderboard"] = {
        str(rank): {"id": f"agent{rank:03d}", "name": hostile if rank == 1 else f"Agent {rank}", "group_id": "101",
                    "accepted": 40 - rank, "aht": 100 + rank * 20, "states": {"agent_aht": "ok"}}
        for rank in range(1, size + 1)
    }
    state["leaderboard"]["2"]["states"] = {"agent_aht": "alert"}
    state["occupancy"] = {
        gid: {"id": gid, "name": name, "occupancy": 60 + i * 10, "agents": 5, "states": {"occupancy": "ok"}}
        for i, (gid, name) in enumerate(state["board"]["agent_groups"].items())
    }
    state["occupancy"]["102"]["states"] = {"occupancy": "warn"}
    state["day_totals"] = {
        qid: {"id": qid, "name": q["name"], "states": {},
              "metrics": {"day_queued": 120, "day_accepted": 110, "day_abandoned": 10, "day_avg_wait_time": 42,
                          "day_avg_duration": 305, "day_sla_activity": 88}}
        for qid, q in state["queues"].items()
    }
    return state


def open_kiosk(kiosk_page, page, state):
    conn = kiosk_page()
    session = Session()
    conn.send(session.snapshot(state))
    expect(page.locator("[data-queue-id]").first).to_be_visible()
    return conn, session


def no_scrollbars(page):
    dims = page.evaluate(
        """() => ({sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,
                   sh: document.documentElement.scrollHeight, ch: document.documentElement.clientHeight})"""
    )
    assert dims["sw"] <= dims["cw"], dims
    assert dims["sh"] <= dims["ch"], dims


def test_it_shows_the_tiles_the_board_chose(kiosk_page, page):
    open_kiosk(kiosk_page, page, with_agent_tiles(make_board_state(queues=3, agents=6)))

    board = page.locator(".wb-leaderboard")
    expect(board.locator("[data-leader-id]")).to_have_count(10)
    expect(board.locator(".wb-at-title")).to_have_text("Top agents: avg handling time")
    second = board.locator('[data-rank="2"]')
    expect(second.locator(".wb-at-name")).to_have_text("Agent 2")
    expect(second.locator('[data-metric="agent_aht"]')).to_have_text("2:20")
    expect(second.locator('[data-metric="agent_aht"]')).to_have_attribute("data-state", "alert")
    expect(second.locator('[data-metric="agent_aht"] svg use')).to_have_attribute("href", "#i-alert")
    occupancy = page.locator('.wb-occupancy [data-group-id="102"] [data-metric="occupancy"]')
    expect(occupancy).to_have_text("70%")
    expect(occupancy).to_have_attribute("data-state", "warn")
    totals = page.locator('.wb-day-totals [data-queue-id="115"]')
    expect(totals.locator('[data-metric="day_abandoned"]')).to_have_text("10")
    expect(totals.locator('[data-metric="day_avg_duration"]')).to_have_text("5:05")
    expect(totals.locator('[data-metric="day_sla_activity"]')).to_have_text("88%")


def test_it_shows_no_tiles_when_the_board_chose_none(kiosk_page, page):
    open_kiosk(kiosk_page, page, make_board_state(queues=3, agents=6))
    expect(page.locator(".wb-agent-tiles")).to_have_count(0)


def test_it_patches_a_figure_and_removes_a_tile(kiosk_page, page):
    conn, session = open_kiosk(kiosk_page, page, with_agent_tiles(make_board_state(queues=2, agents=6)))
    value = page.locator('.wb-leaderboard [data-rank="3"] [data-metric="agent_aht"]')
    expect(value).to_have_text("2:40")
    conn.send(session.patch([{"op": "replace", "path": "/leaderboard/3/aht", "value": 61}]))
    expect(value).to_have_text("1:01")
    conn.send(session.patch([
        {"op": "replace", "path": "/board/agent_tiles/day_totals", "value": False},
        {"op": "replace", "path": "/day_totals", "value": {}},
    ]))
    expect(page.locator(".wb-day-totals")).to_have_count(0)
    expect(page.locator(".wb-occupancy")).to_have_count(1)


def test_it_escapes_and_cuts_a_hostile_name(kiosk_page, page):
    open_kiosk(kiosk_page, page, with_agent_tiles(make_board_state(queues=2, agents=6)))

    name = page.locator('.wb-leaderboard [data-rank="1"] .wb-at-name')
    expect(name).to_contain_text("<img src=x")
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator(".wb-agent-tiles img").count() == 0
    assert name.get_attribute("title") == HOSTILE  # the whole name on hover
    cut = name.evaluate(
        """el => ({scroll: el.scrollWidth, client: el.clientWidth,
                   overflow: getComputedStyle(el).textOverflow, chars: el.textContent.length})"""
    )
    assert cut["overflow"] == "ellipsis"
    assert cut["scroll"] > cut["client"]  # CSS cuts what the tile cannot hold
    assert cut["chars"] <= 81 and name.text_content().endswith("…")  # and at most 80 characters reach the page


@pytest.mark.parametrize("size", ["1280x720", "1920x1080", "3840x2160"])
def test_it_fits_the_screen_with_tiles_without_scrollbars(kiosk_page, page, size):
    width, height = (int(v) for v in size.split("x"))
    page.set_viewport_size({"width": width, "height": height})
    state = with_agent_tiles(make_board_state(queues=12, groups=3, agents=60, metrics=DEFAULT_QUEUE_METRICS), size=20)
    open_kiosk(kiosk_page, page, state)
    expect(page.locator(".wb-leaderboard [data-leader-id]").first).to_be_visible()
    page.wait_for_timeout(300)

    no_scrollbars(page)
    strip = page.locator(".wb-agent-tiles").evaluate("el => el.getBoundingClientRect()")
    assert strip["bottom"] <= height + 0.5 and strip["height"] <= height * 0.3 + 1
    tiles = page.locator(".tile:not([hidden])").evaluate_all("els => els.map(e => e.getBoundingClientRect().bottom)")
    assert tiles and max(tiles) <= strip["top"] + 0.5  # the queue tiles make room above the strip
    # The agent list re-pages for its smaller height: no row is cut at the bottom.
    box = page.locator(".wb-agent-list").evaluate("el => el.getBoundingClientRect()")
    rows = page.locator(".agent:not([hidden])").evaluate_all("els => els.map(e => e.getBoundingClientRect().bottom)")
    assert rows and max(rows) <= box["bottom"] + 1


@pytest.mark.parametrize("width", [360, 1366])
def test_the_supervisor_shows_the_tiles_without_sideways_scroll(harness, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    conn = harness.supervisor_page(page, user=User(username="sam"), boards=[])
    conn.send(Session().snapshot(with_agent_tiles(make_board_state(queues=4, agents=12))))
    expect(page.locator(".wb-agent-tiles h2")).to_have_text("Agent performance")
    expect(page.locator('.wb-day-totals [data-queue-id="118"]')).to_be_visible()
    expect(page.locator(".wb-leaderboard [data-leader-id]")).to_have_count(10)
    page.wait_for_timeout(200)
    dims = page.evaluate("() => ({sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth})")
    assert dims["sw"] <= dims["cw"], dims


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_tiles_have_no_serious_accessibility_violation(harness, kiosk_page, page, theme):
    state = with_agent_tiles(make_board_state(queues=4, agents=12))
    conn = kiosk_page(query=f"?theme={theme}")
    conn.send(Session().snapshot(state))
    expect(page.locator(".wb-leaderboard [data-leader-id]").first).to_be_visible()
    assert serious(page) == []
    conn = harness.supervisor_page(page, theme=theme, user=User(username="sam"), boards=[])
    conn.send(Session().snapshot(state))
    expect(page.locator(".wb-supervisor .wb-leaderboard [data-leader-id]").first).to_be_visible()
    assert serious(page) == []
