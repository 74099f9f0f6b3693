"""Long names are cut with an ellipsis, in full on hover, and never push a column off screen.

Names come from 8x8 (agents, queues) and from admin (board title, queue groups, agent groups):
one 10,000-character agent name used to widen the supervisor's Name column to about 95,000 px.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser

NAMES = {
    "10000_chars": ("Wolfeschlegelsteinhausenbergerdorff" * 300)[:10_000],
    "210_emoji": "😀🎧📞👩‍💻🌍🚀🍕" * 30,
}
VIEWPORTS = {"1440x900": (1440, 900), "1280x720": (1280, 720)}
# What the page may show of a name (render-common.js NAME_MAX, plus the ellipsis).
SHOWN_MAX = 201


def long_named_state(name: str, **kwargs) -> dict:
    """A board where an agent, a queue, a queue group, an agent group and the title share `name`."""
    state = make_board_state(**kwargs)
    state["board"]["title"] = name
    state["board"]["agent_groups"]["101"] = name
    state["board"]["agent_group_queues"] = {"101": ["115"], "102": ["116"]}
    state["agents"]["agent001"].update(name=name, state="available", group_id="101")
    state["queues"]["115"]["name"] = name
    state["groups"]["g1"]["name"] = name
    state["groups"]["g1"]["schedule"] = dict(state["queues"]["115"]["schedule"])
    return state


def assert_no_sideways_scroll(page) -> None:
    dims = page.evaluate("() => ({sw: document.documentElement.scrollWidth, w: innerWidth})")
    assert dims["sw"] <= dims["w"], dims


def assert_on_screen(locator) -> None:
    """The element is laid out and lies wholly inside the viewport (not off to the right)."""
    box = locator.evaluate(
        "el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width, w: innerWidth}; }"
    )
    assert box["width"] > 0 and box["left"] >= 0 and box["right"] <= box["w"] + 0.5, box


def assert_cut_with_title(locator, name: str) -> None:
    expect(locator).to_have_attribute("title", name)
    shown = locator.evaluate("el => [...new Intl.Segmenter().segment(el.textContent)].length")
    assert shown <= SHOWN_MAX, shown


def assert_text_never_holds_it_whole(page, name: str) -> None:
    assert not page.evaluate("name => document.body.textContent.includes(name)", name)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, page):
    width, height = VIEWPORTS[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return width, height


@pytest.mark.parametrize("name_kind", list(NAMES))
def test_it_keeps_every_supervisor_column_on_screen(harness, page, viewport, name_kind):
    name = NAMES[name_kind]
    state = long_named_state(name, queues=3, groups=1, agents=6)
    user = User(username="sam", first_name="Sam", last_name="Super")
    conn = harness.supervisor_page(page, user=user, title=name)
    conn.send(Session().snapshot(state))
    row = page.locator('tr[data-agent-id="agent001"]')
    expect(row).to_be_visible()

    assert_no_sideways_scroll(page)
    for cell in ("th.a-name", "td.a-state", "td.a-time", "td.a-group"):
        assert_on_screen(row.locator(cell))
    assert_cut_with_title(row.locator('[data-metric="name"]'), name)
    assert_cut_with_title(row.locator('[data-metric="group_name"]'), name)

    for selector in ('tr[data-queue-id="115"]', 'tr[data-group-id="g1"]'):
        queue = page.locator(selector)
        assert_cut_with_title(queue.locator('[data-metric="name"]'), name)
        assert_on_screen(queue.locator('[data-metric="schedule"]'))
        for metric in state["board"]["queue_metrics"]:
            assert_on_screen(queue.locator(f'[data-metric="{metric}"]'))

    for key, value in (("group", "101"), ("queue", "115")):
        select = page.locator(f'[data-filter="{key}"]')
        assert_on_screen(select)
        assert_cut_with_title(select.locator(f'option[value="{value}"]'), name)
    page.select_option('[data-filter="group"]', "101")
    expect(page.locator('[data-filter="group"]')).to_have_attribute("title", name)

    expect(page.locator(".wb-title")).to_have_attribute("title", name)
    assert_on_screen(page.locator(".wb-clock"))
    assert_on_screen(page.locator('.sv-boards a[aria-current="page"]'))
    assert_no_sideways_scroll(page)
    assert_text_never_holds_it_whole(page, name)


@pytest.mark.parametrize("name_kind", list(NAMES))
def test_it_keeps_the_kiosk_on_screen(kiosk_page, page, viewport, name_kind):
    name = NAMES[name_kind]
    state = long_named_state(name, queues=4, groups=1, agents=6)
    conn = kiosk_page(title=name)
    conn.send(Session().snapshot(state))
    row = page.locator('[data-agent-id="agent001"]')
    expect(row).to_be_visible()
    page.wait_for_timeout(200)  # the grid is laid out on the next frame

    assert_no_sideways_scroll(page)
    for cell in (".agent-state", ".agent-name", ".agent-time"):
        assert_on_screen(row.locator(cell))
    assert_cut_with_title(row.locator('[data-metric="name"]'), name)

    for selector in ('[data-queue-id="115"]', '[data-group-id="g1"]'):
        tile = page.locator(selector)
        assert_cut_with_title(tile.locator('[data-metric="name"]'), name)
        assert_on_screen(tile)
        assert_on_screen(tile.locator('[data-metric="schedule"]'))
        for metric in state["board"]["queue_metrics"]:
            assert_on_screen(tile.locator(f'.metric-value[data-metric="{metric}"]'))

    expect(page.locator(".wb-title")).to_have_attribute("title", name)
    assert_on_screen(page.locator(".wb-clock"))
    assert_text_never_holds_it_whole(page, name)


def test_it_cuts_names_between_whole_characters(page, page_server):
    page.goto(page_server.add("/blank/", "<!doctype html><title>units</title>"))
    result = page.evaluate(
        """async () => {
            const m = await import('/static/wallboard/js/render-common.js');
            const coder = '👩‍💻';  // one character on screen, five UTF-16 units
            const cut = m.capText(coder.repeat(300));
            return {
                short: m.capText('Ana Silva'),
                exact: m.capText('x'.repeat(m.NAME_MAX)) === 'x'.repeat(m.NAME_MAX),
                long: m.capText('x'.repeat(10000)).length,
                coders: cut === coder.repeat(m.NAME_MAX) + '…',
            };
        }"""
    )
    assert result == {"short": "Ana Silva", "exact": True, "long": 201, "coders": True}
