"""The kiosk (TV) page against a scripted websocket server playing docs/protocol.md."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from test_agent_tiles_page import with_agent_tiles
from wb_harness import Session, iso, make_board_state

from wallboard.boards.models import DEFAULT_QUEUE_METRICS

pytestmark = pytest.mark.browser


def open_board(kiosk_page, page, state=None, session=None, **context):
    """Open the kiosk, send a snapshot and wait until it is on screen."""
    conn = kiosk_page(**context)
    session = session or Session()
    state = state or make_board_state()
    conn.send(session.snapshot(state))
    expect(page.locator("[data-queue-id]").first).to_be_visible()
    return conn, session, state


def metric(page, queue_id, name):
    return page.locator(f'[data-queue-id="{queue_id}"] [data-metric="{name}"]')


def test_it_renders_a_snapshot(kiosk_page, page):
    state = make_board_state(queues=4, groups=1, agents=12)
    state["queues"]["115"]["metrics"]["queue_size"] = 7
    state["queues"]["115"]["metrics"]["longest_wait_time"] = 1113
    state["queues"]["115"]["metrics"]["sla_activity"] = 87
    open_board(kiosk_page, page, state)

    expect(metric(page, "115", "queue_size")).to_have_text("7")
    expect(metric(page, "115", "longest_wait_time")).to_have_text("18:33")
    expect(metric(page, "115", "sla_activity")).to_have_text("87%")
    expect(page.locator("[data-queue-id]")).to_have_count(4)
    expect(page.locator("[data-group-id]")).to_have_count(1)
    expect(page.locator('[data-group-id="g1"] [data-metric="queue_size"]')).to_be_visible()
    expect(page.locator(".wb-title")).to_have_text("Demo board")
    expect(page.locator('[data-metric="as_of"]')).not_to_have_text("waiting for data")
    expect(page.locator('[data-metric="clock"]')).not_to_be_empty()


def test_it_shows_the_boards_chosen_metrics(kiosk_page, page):
    state = make_board_state(queues=2, groups=0, agents=3, metrics=["queue_size", "day_accepted", "day_abandoned"])
    open_board(kiosk_page, page, state)

    tile = page.locator('[data-queue-id="115"]')
    expect(tile.locator("[data-metric]:is(.metric-value)")).to_have_count(3)
    expect(tile.locator('[data-metric="day_accepted"]')).to_be_visible()
    expect(tile.locator('[data-metric="sla_activity"]')).to_have_count(0)


def test_it_applies_patches(kiosk_page, page):
    conn, session, state = open_board(kiosk_page, page, make_board_state(queues=3, agents=5))

    conn.send(session.patch([{"op": "replace", "path": "/queues/116/metrics/queue_size", "value": 42}]))
    expect(metric(page, "116", "queue_size")).to_have_text("42")

    new_agent = {
        "id": "zed",
        "name": "Zed Ndiaye",
        "state": "available",
        "status_since": int(time.time()) - 10,
        "group_id": "101",
        "media_id": 1,
    }
    conn.send(
        session.patch(
            [{"op": "add", "path": "/agents/zed", "value": new_agent}, {"op": "remove", "path": "/agents/agent001"}]
        )
    )
    expect(page.locator('[data-agent-id="zed"] [data-metric="name"]')).to_have_text("Zed Ndiaye")
    expect(page.locator('[data-agent-id="agent001"]')).to_have_count(0)

    conn.send(session.patch([{"op": "remove", "path": "/queues/117"}]))
    expect(page.locator('[data-queue-id="117"]')).to_have_count(0)


def test_it_updates_only_the_nodes_a_patch_changes(kiosk_page, page):
    state = make_board_state(queues=3, agents=5)
    for queue in state["queues"].values():
        queue["schedule"] = None  # no countdowns ticking in the other tiles
    conn, session, _ = open_board(kiosk_page, page, state)
    page.evaluate(
        """() => {
            window.__mutated = new Set();
            new MutationObserver((records) => {
                for (const r of records) {
                    const owner = (r.target.nodeType === 1 ? r.target : r.target.parentElement).closest('[data-queue-id],[data-group-id],[data-agent-id]');
                    if (owner) window.__mutated.add(owner.dataset.queueId || owner.dataset.groupId || owner.dataset.agentId);
                }
            }).observe(document.querySelector('.wb-grid'), {subtree: true, childList: true, characterData: true, attributes: true});
        }"""
    )
    before = page.locator('[data-queue-id="115"]').evaluate("el => (el.__marker = 1)")
    conn.send(session.patch([{"op": "replace", "path": "/queues/116/metrics/queue_size", "value": 31}]))
    expect(metric(page, "116", "queue_size")).to_have_text("31")
    assert page.evaluate("[...window.__mutated]") == ["116"]
    # The other tile is the same node, not a re-rendered copy.
    assert page.locator('[data-queue-id="115"]').evaluate("el => el.__marker") == before


def test_it_asks_for_a_resync_on_a_seq_gap(kiosk_page, page):
    conn, session, state = open_board(kiosk_page, page, make_board_state(queues=2))

    session.seq += 1  # a lost message
    conn.send(session.patch([{"op": "replace", "path": "/queues/115/metrics/queue_size", "value": 55}]))
    assert conn.recv(timeout=5) == {"type": "resync"}
    # The patch after the gap was not applied.
    expect(metric(page, "115", "queue_size")).not_to_have_text("55")

    state["queues"]["115"]["metrics"]["queue_size"] = 56
    conn.send(session.snapshot(state))
    expect(metric(page, "115", "queue_size")).to_have_text("56")
    conn.send(session.patch([{"op": "replace", "path": "/queues/115/metrics/queue_size", "value": 57}]))
    expect(metric(page, "115", "queue_size")).to_have_text("57")
    conn.expect_nothing(0.3)


def test_it_asks_for_a_resync_on_a_new_epoch(kiosk_page, page):
    conn, session, state = open_board(kiosk_page, page, make_board_state(queues=2))

    conn.send(session.patch([]))
    conn.expect_nothing(0.3)
    restarted = Session(epoch="e2", seq=1)
    conn.send(restarted.patch([{"op": "replace", "path": "/queues/115/metrics/queue_size", "value": 66}]))
    assert conn.recv(timeout=5) == {"type": "resync"}
    expect(metric(page, "115", "queue_size")).not_to_have_text("66")

    state["queues"]["115"]["metrics"]["queue_size"] = 67
    conn.send(restarted.snapshot(state))
    expect(metric(page, "115", "queue_size")).to_have_text("67")


def test_it_ignores_messages_the_snapshot_already_covers(kiosk_page, page):
    conn, session, _ = open_board(kiosk_page, page, make_board_state(queues=2))
    old = session.patch([{"op": "replace", "path": "/queues/115/metrics/queue_size", "value": 99}])
    old["seq"] = session.seq - 5
    conn.send(old)
    conn.expect_nothing(0.5)
    expect(metric(page, "115", "queue_size")).not_to_have_text("99")


def test_it_asks_for_a_resync_when_a_patch_does_not_apply(kiosk_page, page):
    conn, session, _ = open_board(kiosk_page, page, make_board_state(queues=2))
    conn.send(session.patch([{"op": "remove", "path": "/queues/999"}]))
    assert conn.recv(timeout=5) == {"type": "resync"}


def test_it_ticks_time_in_status_locally(kiosk_page, page):
    state = make_board_state(queues=1, agents=2)
    state["agents"]["agent001"]["status_since"] = int(time.time()) - 65
    open_board(kiosk_page, page, state)

    cell = page.locator('[data-agent-id="agent001"] [data-metric="time_in_status"]')
    expect(cell).to_have_text(re.compile(r"^1:0[5-7]$"))
    # No message is sent; the browser ticks by itself.
    expect(cell).to_have_text("1:08", timeout=5000)


def test_it_counts_down_to_the_next_schedule_change(kiosk_page, page):
    state = make_board_state(queues=2, closed=("116",))
    state["queues"]["116"]["schedule"]["next_change"] = iso(time.time() + 3 * 3600 + 125)
    state["queues"]["115"]["schedule"]["next_change"] = iso(time.time() + 125)
    state["queues"]["116"]["states"] = {"queue_size": "ok"}
    open_board(kiosk_page, page, state)

    badge = page.locator('[data-queue-id="116"] [data-metric="schedule"]')
    expect(badge).to_have_attribute("data-state", "closed")
    expect(badge).to_contain_text("Closed")
    countdown = page.locator('[data-queue-id="116"] [data-metric="next_change"]')
    expect(countdown).to_have_text(re.compile(r"^opens in 3h0[12]m$"))
    # Under an hour the countdown shows seconds and ticks by itself.
    soon = page.locator('[data-queue-id="115"] [data-metric="next_change"]')
    expect(soon).to_have_text(re.compile(r"^closes in 2:0[0-5]$"))
    text = soon.inner_text()
    expect(soon).not_to_have_text(text, timeout=3000)
    expect(page.locator('[data-queue-id="116"]')).to_have_attribute("data-schedule", "closed")
    expect(page.locator('[data-queue-id="115"] [data-metric="schedule"]')).to_have_attribute("data-state", "open")


def test_it_names_the_exception_that_closed_a_queue(kiosk_page, page):
    state = make_board_state(queues=2, closed=("116",))
    state["queues"]["116"]["schedule"]["exception"] = "Christmas Day"
    open_board(kiosk_page, page, state)
    badge = page.locator('[data-queue-id="116"] [data-metric="schedule"]')
    expect(badge).to_contain_text("Christmas Day")
    expect(badge).to_have_attribute("data-exception", "Christmas Day")
    expect(page.locator('[data-queue-id="115"] [data-metric="schedule"]')).not_to_have_attribute("data-exception", re.compile(".*"))


def test_it_mutes_alerts_while_closed(kiosk_page, page):
    state = make_board_state(queues=2, closed=("116",))
    state["queues"]["116"]["states"] = {"queue_size": "alert"}  # a server that forgot to mute
    state["queues"]["115"]["states"] = {"queue_size": "alert"}
    open_board(kiosk_page, page, state)

    expect(metric(page, "115", "queue_size")).to_have_attribute("data-state", "alert")
    expect(page.locator('[data-queue-id="115"]')).to_have_attribute("data-alert", "1")
    expect(metric(page, "116", "queue_size")).to_have_attribute("data-state", "ok")
    expect(page.locator('[data-queue-id="116"]')).not_to_have_attribute("data-alert", "1")


def test_it_colours_thresholds(kiosk_page, page):
    state = make_board_state(queues=2)
    state["queues"]["115"]["states"] = {"queue_size": "warn", "longest_wait_time": "alert"}
    state["queues"]["116"]["states"] = {}
    conn, session, _ = open_board(kiosk_page, page, state)

    expect(metric(page, "115", "queue_size")).to_have_attribute("data-state", "warn")
    expect(metric(page, "115", "longest_wait_time")).to_have_attribute("data-state", "alert")
    expect(metric(page, "115", "sla_activity")).to_have_attribute("data-state", "ok")
    expect(metric(page, "116", "queue_size")).to_have_attribute("data-state", "ok")
    warn_colour = metric(page, "115", "queue_size").evaluate("el => getComputedStyle(el).color")
    ok_colour = metric(page, "115", "sla_activity").evaluate("el => getComputedStyle(el).color")
    assert warn_colour != ok_colour

    conn.send(session.patch([{"op": "replace", "path": "/queues/115/states/queue_size", "value": "ok"}]))
    expect(metric(page, "115", "queue_size")).to_have_attribute("data-state", "ok")


def test_it_shows_a_stale_banner_when_the_server_goes_quiet(kiosk_page, page):
    state = make_board_state(queues=2, cycle_seconds=1)
    conn, session, _ = open_board(kiosk_page, page, state, cycle_seconds=1)
    banner = page.locator('[data-banner="stale"]')
    for _ in range(3):
        conn.send(session.patch([]))
        time.sleep(0.5)
    expect(banner).to_be_hidden()

    # Silence: 2.5 cycles later the page says so and greys its values.
    expect(banner).to_be_visible(timeout=5000)
    expect(banner).to_contain_text("No update for")
    expect(page.locator(".wb")).to_have_attribute("data-stale", "1")

    conn.send(session.patch([]))
    expect(banner).to_be_hidden()
    expect(page.locator(".wb")).not_to_have_attribute("data-stale", "1")


def test_it_shows_upstream_status(kiosk_page, page):
    conn, session, _ = open_board(kiosk_page, page, make_board_state(queues=2))
    banner = page.locator('[data-banner="status"]')
    expect(banner).to_be_hidden()

    conn.send(session.status("unauthorised", "8x8 refused the token for tenant demo", last_ok=iso(time.time() - 600)))
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("8x8 refused the token")
    expect(banner).to_contain_text("last good data")

    conn.send(session.status("ok"))
    expect(banner).to_be_hidden()


def test_it_reconnects_when_the_server_comes_back(harness, kiosk_page, page):
    conn, session, state = open_board(kiosk_page, page, make_board_state(queues=2))
    harness.ws.stop()
    conn.closed.wait(5)
    harness.ws.start()  # same port

    conn2 = harness.ws.accept(timeout=20)
    state["queues"]["115"]["metrics"]["queue_size"] = 77
    conn2.send(Session(epoch="e9", seq=5).snapshot(state))
    expect(metric(page, "115", "queue_size")).to_have_text("77")
    expect(page.locator(".wb")).to_have_attribute("data-connection", "open")


def test_it_says_when_the_connection_is_lost(harness, kiosk_page, page):
    conn, session, state = open_board(kiosk_page, page, make_board_state(queues=2))
    harness.ws.stop()
    banner = page.locator('[data-banner="connection"]')
    expect(banner).to_be_visible(timeout=8000)
    expect(banner).to_contain_text("reconnecting")


def test_it_reloads_when_the_server_version_changes(harness, page):
    versions = iter(["v1", "v2"])
    from wb_harness import board_context, render_board

    current = {"html": render_board(**board_context(ws_url=harness.ws.url(), version=next(versions)))}
    url = harness.pages.add("/kiosk/", lambda: current["html"])
    conn = harness.kiosk_page(page, url)
    conn.send(Session(version="v1").snapshot(make_board_state(queues=1)))
    expect(page.locator("[data-queue-id]")).to_have_count(1)
    assert harness.pages.hits["/kiosk/"] == 1

    # A new deploy: the page now carries v2, the server says v2.
    current["html"] = render_board(**board_context(ws_url=harness.ws.url(), version=next(versions)))
    conn.send(Session(version="v2", epoch="e2").snapshot(make_board_state(queues=1)))
    conn2 = harness.ws.accept(timeout=10)
    assert harness.pages.hits["/kiosk/"] == 2
    conn2.send(Session(version="v2").snapshot(make_board_state(queues=3)))
    expect(page.locator("[data-queue-id]")).to_have_count(3)


def test_it_follows_control_messages(harness, kiosk_page, page):
    other = harness.board_url(path="/other/", title="Other board")
    conn, session, _ = open_board(kiosk_page, page, make_board_state(queues=1))
    conn.send(session.control("switch", url="/other/"))
    page.wait_for_url(other)
    conn2 = harness.ws.accept()
    conn2.send(Session().snapshot(make_board_state(queues=2)))
    expect(page.locator(".wb-title")).to_have_text("Demo board")
    conn2.send(Session().control("reload"))
    harness.ws.accept()
    assert harness.pages.hits["/other/"] == 2


@pytest.mark.parametrize("tiles", [False, True], ids=["", "agent-tiles"])
@pytest.mark.parametrize("size", ["1280x720", "1920x1080", "3840x2160"])
def test_it_fits_the_screen_without_scrollbars(kiosk_page, page, size, tiles):
    width, height = (int(v) for v in size.split("x"))
    page.set_viewport_size({"width": width, "height": height})
    state = make_board_state(queues=12, groups=3, agents=60, metrics=DEFAULT_QUEUE_METRICS)
    if tiles:  # the agent performance strip (issue 20) takes up to 30 % of the height
        state = with_agent_tiles(state, size=20)
    state["queues"]["115"]["states"] = {"queue_size": "alert", "longest_wait_time": "warn"}
    state["queues"]["118"]["name"] = "A queue with a really rather long name for a TV"
    open_board(kiosk_page, page, state)
    page.wait_for_timeout(300)

    dims = page.evaluate(
        """() => ({sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,
                   sh: document.documentElement.scrollHeight, ch: document.documentElement.clientHeight})"""
    )
    assert dims["sw"] <= dims["cw"], dims
    assert dims["sh"] <= dims["ch"], dims
    # Every tile on the current page lies inside the viewport and text is sized to the screen.
    boxes = page.locator(".tile:not([hidden])").evaluate_all("els => els.map(e => e.getBoundingClientRect().bottom)")
    assert boxes and max(boxes) <= height + 0.5
    value_px = float(metric(page, "115", "queue_size").evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert value_px >= height / 60  # 8 metrics on 15 tiles: the densest board we expect
    rows = page.locator(".agent:not([hidden])").evaluate_all("els => els.map(e => e.getBoundingClientRect().bottom)")
    assert rows and max(rows) <= height + 0.5


def test_it_pages_long_agent_lists(kiosk_page, page):
    state = make_board_state(queues=2, agents=60, page_seconds=3, hide_logged_out=False)
    open_board(kiosk_page, page, state)

    rows = page.locator("[data-agent-id]")
    expect(rows).to_have_count(60)
    visible = page.locator("[data-agent-id]:visible")
    first_page = visible.evaluate_all("els => els.map(e => e.dataset.agentId)")
    assert 0 < len(first_page) < 60
    expect(page.locator(".wb-agents")).to_have_attribute("data-page", "1")
    expect(page.locator(".wb-agents")).to_have_attribute("data-page", "2", timeout=6000)
    second_page = visible.evaluate_all("els => els.map(e => e.dataset.agentId)")
    assert second_page and not set(second_page) & set(first_page)


def test_it_hides_logged_out_agents_when_the_board_says_so(kiosk_page, page):
    state = make_board_state(queues=1, agents=8)
    state["agents"]["agent002"].update(state="logged_out", status=9)
    conn, session, _ = open_board(kiosk_page, page, state)
    expect(page.locator('[data-agent-id="agent002"]')).to_have_count(0)
    expect(page.locator('[data-agent-id="agent001"]')).to_be_visible()

    conn.send(session.patch([{"op": "replace", "path": "/agents/agent002/state", "value": "available"}]))
    expect(page.locator('[data-agent-id="agent002"]')).to_be_visible()

    conn.send(
        session.patch(
            [
                {"op": "replace", "path": "/board/hide_logged_out", "value": False},
                {"op": "replace", "path": "/agents/agent003/state", "value": "logged_out"},
            ]
        )
    )
    expect(page.locator('[data-agent-id="agent003"]')).to_be_visible()


def test_it_shows_agent_state_with_colour_and_icon(kiosk_page, page):
    state = make_board_state(queues=1, agents=3)
    open_board(kiosk_page, page, state)
    row = page.locator('[data-agent-id="agent003"]')  # the third agent is busy
    expect(row).to_have_attribute("data-agent-state", "busy")
    expect(row.locator("use")).to_have_attribute("href", "#i-busy")
    expect(row.locator('[data-metric="state"]')).to_have_text("Busy")
    colour = row.locator(".agent-state").evaluate("el => getComputedStyle(el).color")
    other = page.locator('[data-agent-id="agent001"] .agent-state').evaluate("el => getComputedStyle(el).color")
    assert colour != other


def test_it_draws_sparklines_from_history(kiosk_page, page):
    state = make_board_state(queues=1, groups=0)
    conn, session, _ = open_board(kiosk_page, page, state)
    line = page.locator('[data-queue-id="115"] [data-spark="queue_size"] svg polyline')
    expect(line).to_have_count(1)
    points = line.get_attribute("points").split()
    assert len(points) == 60
    expect(page.locator('[data-queue-id="115"] [data-spark="longest_wait_time"] svg polyline')).to_have_count(1)

    history = state["queues"]["115"]["history"]["queue_size"]
    oldest = min(history, key=int)
    newest = str(int(max(history, key=int)) + 60)
    conn.send(
        session.patch(
            [
                {"op": "add", "path": f"/queues/115/history/queue_size/{newest}", "value": 40},
                {"op": "remove", "path": f"/queues/115/history/queue_size/{oldest}"},
            ]
        )
    )
    expect(page.locator('[data-queue-id="115"] [data-spark="queue_size"] .spark-max')).to_have_text("max 40")
    assert len(line.get_attribute("points").split()) == 60


def test_it_rotates_between_boards(harness, page):
    rotation = [
        {
            "slug": "demo",
            "title": "Demo board",
            "seconds": 5,
            "ws_path": "/ws/boards/demo/",
            "ws_url": harness.ws.url("demo"),
        },
        {
            "slug": "sales",
            "title": "Sales floor",
            "seconds": 5,
            "ws_path": "/ws/boards/sales/",
            "ws_url": harness.ws.url("sales"),
        },
    ]
    conn = harness.kiosk_page(page, rotation=rotation)
    conn.send(Session().snapshot(make_board_state(queues=2)))
    expect(page.locator("[data-queue-id]")).to_have_count(2)
    conn2 = harness.ws.accept(timeout=10)
    conn.closed.wait(5)
    assert conn.closed.is_set()
    conn2.send(Session(board="sales").snapshot(make_board_state(queues=3, title="Sales floor")))
    expect(page.locator(".wb-title")).to_have_text("Sales floor")
    expect(page.locator("[data-queue-id]")).to_have_count(3)


def test_it_uses_the_light_theme_when_asked(kiosk_page, page):
    state = make_board_state(queues=3)
    state["board"]["theme"] = "light"
    conn, session, _ = open_board(kiosk_page, page, state, theme="light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(238, 241, 245)"

    # An administrator switches the board to dark: the page follows without a reload.
    conn.send(session.patch([{"op": "replace", "path": "/board/theme", "value": "dark"}]))
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
