"""Accessibility in real Chromium (issue 20): axe-core finds no serious or critical WCAG 2.1 A/AA
violation (colour contrast included) on the kiosk in both themes and both palettes, the
supervisor view and the sign-in page; states are told by shape as well as colour.

axe-core is vendored in tests/browser/vendor/ (version and licence in its README.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
METRICS = ["queue_size", "longest_wait_time", "sla_activity", "agent_count_wait_transact"]


def board_state() -> dict:
    """Every level and schedule state on one board: ok, warn and alert; open, closed and choice."""
    state = make_board_state(queues=6, groups=1, agents=14, metrics=METRICS, closed=("117",))
    queues = state["queues"]
    queues["115"]["states"] = {"queue_size": "warn", "longest_wait_time": "alert"}
    queues["116"]["states"] = {"queue_size": "alert", "longest_wait_time": "ok"}
    queues["118"]["schedule"].update(state="choice", status=1, label="CHOICE #1")
    queues["119"]["schedule"].update(state="missing", status=None, label="", next_change=None)
    return state


def serious(page) -> list[str]:
    """axe's serious and critical violations on the page, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    found = []
    for v in result["violations"]:
        if v["impact"] in {"serious", "critical"}:
            for node in v["nodes"][:8]:
                detail = node.get("failureSummary", "").replace("\n", " ")[-220:]
                found.append(f"{v['id']} ({v['impact']}) {' '.join(map(str, node['target']))}: {detail}")
    return found


def open_kiosk(kiosk_page, page, query: str, status: dict | None = None):
    conn = kiosk_page(query=query)
    session = Session()
    conn.send(session.snapshot(board_state(), status=status))
    expect(page.locator("[data-queue-id]").first).to_be_visible()
    expect(page.locator(".wb-loading")).to_be_hidden()
    return conn, session


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("palette", ["default", "cb"])
def test_it_has_no_serious_violation_on_the_kiosk(kiosk_page, page, theme, palette):
    open_kiosk(kiosk_page, page, f"?theme={theme}&palette={palette}")
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    if palette == "cb":
        expect(page.locator("html")).to_have_attribute("data-palette", "cb")
    assert serious(page) == []


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_it_has_no_serious_violation_with_banners_up(kiosk_page, page, theme):
    status = {"state": "unreachable", "since": None, "last_ok": None, "message": "timeout"}
    open_kiosk(kiosk_page, page, f"?theme={theme}", status=status)
    expect(page.locator('[data-banner="status"]')).to_be_visible()
    assert serious(page) == []


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("palette", ["default", "cb"])
def test_it_has_no_serious_violation_on_the_supervisor_view(harness, page, theme, palette):
    from django.contrib.auth.models import User

    if palette == "cb":  # the supervisor's own choice, remembered by the browser
        page.add_init_script("localStorage.setItem('wb-palette', 'cb')")
    conn = harness.supervisor_page(page, theme=theme, user=User(username="sam", first_name="Sam"))
    conn.send(Session().snapshot(board_state()))
    expect(page.locator("[data-agent-id]").first).to_be_attached()
    if palette == "cb":
        expect(page.locator("html")).to_have_attribute("data-palette", "cb")
    assert serious(page) == []


def test_it_has_no_serious_violation_on_the_sign_in_page(page_server, page):
    # In a thread: Playwright's event loop makes this one count as async to Django.
    with ThreadPoolExecutor(1) as pool:
        html = pool.submit(lambda: Client().get("/accounts/login/").content.decode()).result()
    page.goto(page_server.add("/accounts/login/", html))
    expect(page.locator("#id_username")).to_be_visible()
    assert serious(page) == []


def test_it_shows_threshold_levels_by_shape_with_a_name(kiosk_page, page):
    open_kiosk(kiosk_page, page, "")
    shapes = {}
    for level in ("ok", "warn", "alert"):
        cell = page.locator(f'.metric[data-state="{level}"]').first
        shapes[level] = cell.evaluate("e => getComputedStyle(e, '::before').content")
    assert shapes["ok"] in {"none", "normal"}
    assert "▲" in shapes["warn"] and "Warning" in shapes["warn"]
    assert "◆" in shapes["alert"] and "Alert" in shapes["alert"]


def test_it_shows_threshold_levels_by_shape_on_the_supervisor_view(harness, page):
    conn = harness.supervisor_page(page)
    conn.send(Session().snapshot(board_state()))
    cell = page.locator('[data-queue-id="116"] [data-metric="queue_size"]')
    expect(cell).to_have_attribute("data-state", "alert")
    assert "Alert" in cell.evaluate("e => getComputedStyle(e, '::after').content")
    # The figure itself stays a plain number for anyone reading the text.
    expect(cell).to_have_text(str(board_state()["queues"]["116"]["metrics"]["queue_size"]))


def test_it_gives_each_banner_level_its_own_icon(kiosk_page, page):
    conn, session = open_kiosk(kiosk_page, page, "")
    icon = page.locator('[data-banner="status"] use')
    conn.send(session.status("pending"))
    expect(page.locator('[data-banner="status"]')).to_have_attribute("data-level", "info")
    expect(icon).to_have_attribute("href", "#i-info")
    conn.send(session.status("unreachable", "timeout"))
    expect(page.locator('[data-banner="status"]')).to_have_attribute("data-level", "alert")
    expect(icon).to_have_attribute("href", "#i-alert")


def test_it_gives_schedule_states_distinct_icons(kiosk_page, page):
    open_kiosk(kiosk_page, page, "")
    icons = {}
    for state in ("open", "closed", "choice", "missing"):
        badge = page.locator(f'.badge[data-state="{state}"]').first
        icons[state] = badge.locator("use").get_attribute("href")
    assert len(set(icons.values())) == 4, icons


def test_it_keeps_the_supervisors_palette_choice_in_the_browser(harness, page):
    url = harness.board_url("boards/supervisor.html", mode="supervisor")
    page.goto(url)
    harness.ws.accept()
    html = page.locator("html")
    expect(html).not_to_have_attribute("data-palette", "cb")
    button = page.locator("#wb-palette")
    button.click()
    expect(html).to_have_attribute("data-palette", "cb")
    expect(button).to_have_attribute("aria-pressed", "true")
    page.reload()
    harness.ws.accept()
    expect(html).to_have_attribute("data-palette", "cb")
    page.locator("#wb-palette").click()
    expect(html).not_to_have_attribute("data-palette", "cb")
    # Kept as "default", not forgotten: switching off must also beat a board set to colour-blind.
    assert page.evaluate("localStorage.getItem('wb-palette')") == "default"
