"""The supervisor view: every queue and agent, filters and sort, the sound switch."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

pytestmark = pytest.mark.browser


def open_supervisor(harness, page, state):
    user = User(username="sam", first_name="Sam", last_name="Super")
    boards = [
        {"slug": "demo", "title": "Demo board", "url": "/supervisor/demo/"},
        {"slug": "sales", "title": "Sales", "url": "/supervisor/sales/"},
    ]
    conn = harness.supervisor_page(page, user=user, boards=boards)
    session = Session()
    conn.send(session.snapshot(state))
    expect(page.locator("[data-agent-id]").first).to_be_attached()
    return conn, session


def visible_ids(page):
    return page.locator("tr[data-agent-id]:visible").evaluate_all("els => els.map(e => e.dataset.agentId)")


def test_it_shows_every_queue_and_agent(harness, page):
    state = make_board_state(queues=5, groups=2, agents=20)
    state["agents"]["agent002"].update(state="logged_out", status=9)
    open_supervisor(harness, page, state)

    expect(page.locator("tr[data-queue-id]")).to_have_count(5)
    expect(page.locator("tr[data-group-id]")).to_have_count(2)
    expect(page.locator("tr[data-agent-id]")).to_have_count(20)
    # Logged-out agents too: the supervisor sees everyone.
    expect(page.locator('tr[data-agent-id="agent002"]')).to_be_visible()
    expect(page.locator('tr[data-queue-id="115"] [data-metric="queue_size"]')).to_have_text(
        str(state["queues"]["115"]["metrics"]["queue_size"])
    )
    expect(page.locator('.sv-boards a[aria-current="page"]')).to_have_text("Demo board")
    expect(page.locator(".sv-user")).to_contain_text("Sam Super")


def test_it_filters_agents_by_group_state_and_queue(harness, page):
    state = make_board_state(queues=3, agents=18)
    for i, agent in enumerate(state["agents"].values()):
        agent["queue_ids"] = ["115"] if i % 2 else ["116", "117"]
    open_supervisor(harness, page, state)

    page.select_option('[data-filter="group"]', "102")
    ids = visible_ids(page)
    assert ids and all(state["agents"][i]["group_id"] == "102" for i in ids)

    page.select_option('[data-filter="state"]', "available")
    ids = visible_ids(page)
    assert all(state["agents"][i]["group_id"] == "102" and state["agents"][i]["state"] == "available" for i in ids)

    page.select_option('[data-filter="group"]', "")
    page.select_option('[data-filter="state"]', "")
    page.select_option('[data-filter="queue"]', "116")
    ids = visible_ids(page)
    assert ids and all("116" in state["agents"][i]["queue_ids"] for i in ids)
    expect(page.locator(".sv-agent-count")).to_have_text(f"{len(ids)} of 18 agents")

    page.select_option('[data-filter="queue"]', "")
    page.fill('[data-filter="text"]', "ana")
    ids = visible_ids(page)
    assert ids and all("ana" in state["agents"][i]["name"].lower() for i in ids)


def test_it_sorts_agents(harness, page):
    state = make_board_state(queues=1, agents=15)
    conn, session = open_supervisor(harness, page, state)

    page.click('button[data-sort="name"]')
    names = page.locator('tr[data-agent-id] [data-metric="name"]').all_inner_texts()
    assert names == sorted(names, key=str.lower)
    expect(page.locator('th:has(button[data-sort="name"])')).to_have_attribute("aria-sort", "ascending")

    page.click('button[data-sort="name"]')
    names = page.locator('tr[data-agent-id] [data-metric="name"]').all_inner_texts()
    assert names == sorted(names, key=str.lower, reverse=True)

    page.click('button[data-sort="time_in_status"]')
    since = [state["agents"][i]["status_since"] for i in visible_ids(page)]
    assert since == sorted(since)  # longest in status first

    # Live data keeps the chosen order.
    first = visible_ids(page)[-1]
    conn.send(session.patch([{"op": "replace", "path": f"/agents/{first}/status_since", "value": 1}]))
    expect(page.locator("tr[data-agent-id]").first).to_have_attribute("data-agent-id", first)


def test_it_offers_sound_after_a_click(harness, page):
    open_supervisor(harness, page, make_board_state(queues=1, agents=2))
    button = page.locator("#wb-sound")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text("Sound on")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")


def test_it_filters_agents_by_the_queues_their_group_answers(harness, page):
    state = make_board_state(queues=3, agents=18)
    for agent in state["agents"].values():
        agent.pop("queue_ids", None)
    groups = sorted({a["group_id"] for a in state["agents"].values()})
    state["board"]["agent_group_queues"] = {groups[0]: ["115"], groups[1]: ["116", "117"]}
    open_supervisor(harness, page, state)
    expect(page.locator('label:has([data-filter="queue"])')).to_be_visible()

    page.select_option('[data-filter="queue"]', "116")
    ids = visible_ids(page)
    assert ids and all(state["agents"][i]["group_id"] == groups[1] for i in ids)
    assert len(ids) == sum(a["group_id"] == groups[1] for a in state["agents"].values())


def test_it_hides_the_queue_filter_when_no_group_says_its_queues(harness, page):
    state = make_board_state(queues=3, agents=6)
    for agent in state["agents"].values():
        agent.pop("queue_ids", None)
    state["board"].pop("agent_group_queues", None)
    open_supervisor(harness, page, state)
    expect(page.locator('label:has([data-filter="queue"])')).to_be_hidden()
