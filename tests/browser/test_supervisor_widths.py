"""The supervisor view at phone, tablet, laptop and desktop widths (issue 20).

No sideways page scroll at any width; the figures a supervisor needs first (each queue's name,
schedule and chosen metrics, each agent's name, state and time in status, the clock) lie inside
the viewport; on a laptop (1366 px) no queue column is cut.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser

# A board with the eight metrics a busy contact centre picks, long names included.
METRICS = [
    "queue_size",
    "longest_wait_time",
    "sla_activity",
    "agent_count_wait_transact",
    "agent_count_busy",
    "agent_count_on_break",
    "day_accepted",
    "day_abandoned",
]
WIDTHS = [(360, 740), (768, 1024), (1366, 768), (1920, 1080)]

# Everything a supervisor reads first; each must lie inside the viewport's width.
KEY_FIGURES = [
    ".wb-clock",
    '[data-queue-id] [data-metric="name"]',
    '[data-queue-id] [data-metric="schedule"]',
    *[f'[data-queue-id] [data-metric="{m}"]' for m in METRICS],
    '[data-agent-id] [data-metric="name"]',
    '[data-agent-id] [data-metric="state"]',
    '[data-agent-id] [data-metric="time_in_status"]',
]


def open_supervisor(harness, page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    state = make_board_state(queues=6, groups=2, agents=12, metrics=METRICS)
    state["queues"]["115"]["name"] = "Customer support — premium accounts, English and Spanish"
    state["agents"]["agent001"]["name"] = "Maria-Fernanda de los Santos Oyelaran-Whitfield"
    user = User(username="sam", first_name="Sam", last_name="Super")
    boards = [
        {"slug": "demo", "title": "Demo board", "url": "/supervisor/demo/"},
        {"slug": "sales", "title": "Sales and retention", "url": "/supervisor/sales/"},
    ]
    conn = harness.supervisor_page(page, user=user, boards=boards)
    conn.send(Session().snapshot(state))
    expect(page.locator("[data-agent-id]").first).to_be_attached()
    page.wait_for_function("document.querySelector('.wb-clock').textContent !== ''")
    return state


def overflow(page) -> dict:
    return page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
        })"""
    )


def outside(page, selector: str) -> list[str]:
    """Elements matching `selector` whose box is not wholly inside the viewport's width."""
    return page.eval_on_selector_all(
        selector,
        """(els) => els.filter((e) => e.getClientRects().length).map((e) => {
            const r = e.getBoundingClientRect();
            return r.left < -0.5 || r.right > document.documentElement.clientWidth + 0.5 || r.width < 1
                ? `${e.dataset.metric || e.className}: ${Math.round(r.left)}..${Math.round(r.right)}` : null;
        }).filter(Boolean)""",
    )


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=[f"{w}px" for w, _ in WIDTHS])
def test_it_never_scrolls_the_page_sideways(harness, page, width, height):
    open_supervisor(harness, page, width, height)
    sizes = overflow(page)
    assert sizes["client"] == width
    assert sizes["scroll"] <= sizes["client"], sizes


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=[f"{w}px" for w, _ in WIDTHS])
def test_it_keeps_the_key_figures_inside_the_viewport(harness, page, width, height):
    open_supervisor(harness, page, width, height)
    for selector in KEY_FIGURES:
        assert page.locator(selector).count(), selector
        assert outside(page, selector) == [], selector


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=[f"{w}px" for w, _ in WIDTHS])
def test_it_cuts_no_table_column(harness, page, width, height):
    """Neither table scrolls inside its frame: every column is shown whole (or as a card)."""
    open_supervisor(harness, page, width, height)
    cut = page.eval_on_selector_all(
        ".sv-scroll", "els => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.scrollWidth)"
    )
    assert cut == []


def test_it_labels_each_figure_on_a_phone(harness, page):
    """As cards, each value carries its metric's name (the table head is not shown)."""
    open_supervisor(harness, page, 360, 740)
    cell = page.locator('[data-queue-id="116"] [data-metric="day_abandoned"]')
    expect(cell).to_have_attribute("data-label", "Abandoned today")
    label = cell.evaluate("e => getComputedStyle(e, '::before').content")
    assert "Abandoned today" in label
    expect(page.locator(".sv-queues thead")).to_be_hidden()
