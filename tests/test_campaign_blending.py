"""Automatic blending: K breaching cycles pause, M calm cycles resume, dwell, manual wins, dry run,
once per cycle even with two workers. 8x8 is the simulator over real HTTP; the queue numbers of
each cycle are given as the poller would hand them over (records with the statistics' fields).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from campaign_helpers import *  # noqa: F403
from campaign_helpers import sim_state
from django.db import connections

from wallboard.campaigns import services
from wallboard.campaigns.blending import run_blending
from wallboard.campaigns.hooks import with_campaigns
from wallboard.campaigns.models import Campaign, CampaignAction
from wallboard.live import store
from wallboard.polling.cycle import poll_tenant

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
INTERVAL = 10


def queues(size: int, wait: int = 0) -> dict[str, SimpleNamespace]:
    return {
        "201": SimpleNamespace(queue_id="201", queue_size=size, longest_wait_time=wait),
        "202": SimpleNamespace(queue_id="202", queue_size=0, longest_wait_time=0),
    }


@pytest.fixture
def blended(sim, campaign, tenant):
    """Campaign 101 running (set from the wallboard), blending on: 5 waiting, 3 cycles to pause, 2 to resume."""
    sim.campaigns.configure("101", status="RUNNING")
    Campaign.objects.filter(pk=campaign.pk).update(
        state="RUNNING", state_source="person", state_by="sam", state_at=T0 - timedelta(hours=1),
        blend_changed_at=T0 - timedelta(hours=1), blend_enabled=True, blend_queue_ids=["201"],
        blend_threshold=5, blend_breach_cycles=3, blend_calm_cycles=2, blend_min_dwell=60,
    )
    campaign.refresh_from_db()
    return campaign


class Cycles:
    """Consecutive poll cycles of one tenant, each with its own time."""

    def __init__(self, tenant, start: datetime = T0):
        self.tenant = tenant
        self.at = start

    def run(self, size: int, wait: int = 0) -> list:
        done = run_blending(self.tenant, queues(size, wait), self.at)
        self.at += timedelta(seconds=INTERVAL)
        return done


def state(campaign) -> tuple[str, str]:
    campaign.refresh_from_db()
    return campaign.state, campaign.state_source


def test_it_pauses_after_k_breaching_cycles_and_not_before(sim, blended, tenant):
    cycles = Cycles(tenant)
    assert cycles.run(9) == [] and cycles.run(9) == []
    assert sim_state(sim)["status"] == "RUNNING"

    assert cycles.run(9) == [("101", "pause: ok")]

    assert sim_state(sim)["status"] == "PAUSED"
    assert state(blended) == ("PAUSED", "automatic")
    entry = CampaignAction.objects.get()
    assert (entry.actor, entry.action, entry.outcome) == ("automatic", "pause", "ok")
    assert entry.user is None and "waiting 9 ≥ 5 for 3 cycles" in entry.detail


def test_a_calm_cycle_resets_the_count(sim, blended, tenant):
    cycles = Cycles(tenant)
    for size in (9, 9, 1, 9, 9):
        assert cycles.run(size) == []
    assert sim_state(sim)["status"] == "RUNNING"


def test_it_watches_the_longest_wait_when_told(sim, blended, tenant):
    Campaign.objects.filter(pk=blended.pk).update(blend_metric="longest_wait_time", blend_threshold=120)
    cycles = Cycles(tenant)
    for _ in range(3):
        cycles.run(size=50, wait=30)  # many waiting, but not for long
    assert sim_state(sim)["status"] == "RUNNING"
    for _ in range(3):
        cycles.run(size=1, wait=200)
    assert sim_state(sim)["status"] == "PAUSED"


def test_it_resumes_after_m_calm_cycles_once_the_dwell_has_passed(sim, blended, tenant):
    cycles = Cycles(tenant)
    for _ in range(3):
        cycles.run(9)
    assert sim_state(sim)["status"] == "PAUSED"
    # Calm at once, but the dwell (60 s) since the automatic pause holds it for 6 cycles.
    for _ in range(5):
        assert cycles.run(0) == []
    assert sim_state(sim)["status"] == "PAUSED"
    for _ in range(3):
        cycles.run(0)
    assert sim_state(sim)["status"] == "RUNNING"
    assert state(blended) == ("RUNNING", "automatic")
    assert list(CampaignAction.objects.order_by("id").values_list("actor", "action")) == [
        ("automatic", "pause"), ("automatic", "run"),
    ]


def test_it_never_flaps_within_the_dwell(sim, blended, tenant):
    Campaign.objects.filter(pk=blended.pk).update(blend_changed_at=T0 - timedelta(seconds=5), blend_min_dwell=600)
    cycles = Cycles(tenant)
    for _ in range(20):  # 200 s of breaching: still inside the 600 s dwell
        cycles.run(50)
    assert sim_state(sim)["status"] == "RUNNING"
    assert not CampaignAction.objects.exists()


def test_a_manual_pause_is_never_resumed_automatically(sim, blended, tenant, supervisor):
    services.act(blended.pk, "pause", user=supervisor)
    cycles = Cycles(tenant, start=datetime.now(UTC) + timedelta(hours=1))
    for _ in range(30):
        assert cycles.run(0) == []
    assert sim_state(sim)["status"] == "PAUSED"
    assert state(blended) == ("PAUSED", "person")

    services.act(blended.pk, "run", user=supervisor)  # a person runs it: blending may act again
    cycles = Cycles(tenant, start=datetime.now(UTC) + timedelta(hours=2))
    for _ in range(3):
        cycles.run(9)
    assert sim_state(sim)["status"] == "PAUSED"


def test_a_person_running_an_automatically_paused_campaign_wins(sim, blended, tenant, supervisor):
    cycles = Cycles(tenant)
    for _ in range(3):
        cycles.run(9)
    services.act(blended.pk, "run", user=supervisor)
    blended.refresh_from_db()
    assert not blended.blend_auto_paused and state(blended) == ("RUNNING", "person")


def test_it_leaves_alone_a_campaign_whose_state_it_does_not_know(sim, blended, tenant):
    Campaign.objects.filter(pk=blended.pk).update(state="unknown", state_source="uncertain")
    cycles = Cycles(tenant)
    for _ in range(10):
        assert cycles.run(50) == []
    assert not CampaignAction.objects.exists()


def test_it_ignores_campaigns_without_blending(sim, blended, tenant):
    Campaign.objects.filter(pk=blended.pk).update(blend_enabled=False)
    cycles = Cycles(tenant)
    for _ in range(10):
        cycles.run(50)
    assert sim_state(sim)["status"] == "RUNNING"


def test_a_cycle_without_the_watched_queues_counts_for_nothing(sim, blended, tenant):
    cycles = Cycles(tenant)
    cycles.run(9)
    cycles.run(9)
    assert run_blending(tenant, {}, cycles.at) == []  # 8x8 returned none of them
    cycles.at += timedelta(seconds=INTERVAL)
    assert cycles.run(9) == [("101", "pause: ok")]


def test_a_dry_run_only_logs_and_audits(sim, blended, tenant, caplog):
    Campaign.objects.filter(pk=blended.pk).update(blend_dry_run=True)
    before = sim.campaigns.state()["requests"]
    cycles = Cycles(tenant)
    with caplog.at_level("INFO", logger="wallboard.campaigns.blending"):
        for _ in range(3):
            assert cycles.run(9) == []

    assert sim.campaigns.state()["requests"] == before
    assert sim_state(sim)["status"] == "RUNNING" and state(blended) == ("RUNNING", "person")
    entry = CampaignAction.objects.get()
    assert (entry.actor, entry.action, entry.outcome) == ("automatic", "pause", "dry_run")
    assert "would pause" in caplog.text
    # It carries on as if it had paused: calm cycles after the dwell give a "would run".
    for _ in range(8):
        cycles.run(0)
    assert list(CampaignAction.objects.order_by("id").values_list("action", "outcome")) == [
        ("pause", "dry_run"), ("run", "dry_run"),
    ]
    assert sim.campaigns.state()["requests"] == before


def test_a_failed_automatic_pause_is_audited_and_keeps_the_state(sim, blended, tenant):
    sim.campaigns.add_fault("status", code=500, count=1)
    cycles = Cycles(tenant)
    for _ in range(2):
        cycles.run(9)
    assert cycles.run(9) == [("101", "pause: error")]
    assert state(blended) == ("RUNNING", "person")
    assert CampaignAction.objects.get().outcome == "error"


# --- once per cycle ---------------------------------------------------------------------------------


def test_a_cycle_is_evaluated_once_however_often_it_is_polled(sim, blended, tenant):
    at = T0
    for _ in range(3):
        for _ in range(4):  # the same cycle polled four times (relooks, a second worker)
            run_blending(tenant, queues(9), at)
        at += timedelta(seconds=INTERVAL)
    blended.refresh_from_db()
    assert sim_state(sim)["status"] == "PAUSED"
    assert CampaignAction.objects.count() == 1

    # Two breaching cycles after the pause, each polled twice, count as two (not four).
    Campaign.objects.filter(pk=blended.pk).update(state="RUNNING", blend_changed_at=T0 - timedelta(hours=1))
    sim.campaigns.configure("101", status="RUNNING")
    for _ in range(2):
        run_blending(tenant, queues(9), at)
        run_blending(tenant, queues(9), at)
        at += timedelta(seconds=INTERVAL)
    blended.refresh_from_db()
    assert blended.blend_breaches == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_cycle_evaluate_it_once(sim, blended, tenant):
    Campaign.objects.filter(pk=blended.pk).update(blend_breach_cycles=1)
    start = threading.Barrier(2)
    results: list[list] = []
    before = sim.campaigns.state()["requests"]

    def worker():
        try:
            start.wait(5)
            results.append(run_blending(tenant, queues(9), T0))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(len(r) for r in results) == [0, 1]
    assert sim.campaigns.state()["requests"] == before + 1
    assert CampaignAction.objects.count() == 1


# --- in the poller -------------------------------------------------------------------------------------


def test_the_poller_puts_badges_on_the_board_and_announces_an_automatic_pause(sim, blended, tenant, board):
    # Any queue breaches at once; the poll runs now, not at T0.
    Campaign.objects.filter(pk=blended.pk).update(blend_threshold=0, blend_breach_cycles=1, blend_changed_at=None)

    assert poll_tenant(tenant.pk).outcome == "ok"

    [badge] = store.load(board.slug).data["campaigns"]
    assert (badge["id"], badge["name"], badge["state"], badge["source"], badge["by"]) == (
        "101", "Renewals callbacks", "paused", "automatic", "automatic",
    )
    assert sim_state(sim)["status"] == "PAUSED"


def test_boards_without_campaigns_get_an_empty_list(sim, tenant, board):
    from wallboard.boards.selectors import board_configs_for_tenant

    [config] = with_campaigns(tenant, board_configs_for_tenant(tenant), None, T0)
    assert config.campaigns == ()
