"""Agent performance tiles (issue 20): leaderboard, occupancy per group, day totals, thresholds on them."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from tests.pipeline_helpers import Clock, make_board
from wallboard.boards.agent_stats import occupancy_percent
from wallboard.boards.forms import BoardForm
from wallboard.boards.models import OCCUPANCY_HELP, Board, Tenant, Threshold
from wallboard.boards.selectors import board_config
from wallboard.boards.state import BoardConfig, QueueConf, TenantSnapshot, ThresholdConf, compute_board_state
from wallboard.live import store
from wallboard.live.diff import make_patch
from wallboard.polling.catalogue import update_catalogue
from wallboard.polling.clients import client_for
from wallboard.polling.cycle import poll_tenant
from wallboard.simulator.server import SimulatorServer
from wallboard.vcc.records import Agent, Queue

NOW = 1_763_800_000


def agent(aid, name=None, group="101", accepted=0, aht=None, login=0, busy=0, wrap=0, brk=0):
    return Agent(
        agent_id=aid, agent_name=name if name is not None else aid.title(), agent_status=2, time_in_status=10,
        group_id=group, agent_media_id=1, day_accepted_count=accepted, day_avg_processing_time=aht,
        day_login_time=login, day_processing_time=busy, day_wrap_up_time=wrap, day_break_time=brk,
    )


def config(**kwargs):
    defaults = dict(slug="b", title="Board", queues=(QueueConf("1"), QueueConf("2", label="Sales", schedule_id="s1")))
    return BoardConfig(**{**defaults, **kwargs})


def compute(cfg, agents, queues=(), previous=None, schedules=None):
    snapshot = TenantSnapshot.from_records(agents, queues)
    return compute_board_state(cfg, snapshot, schedules or {}, previous, NOW)


def ranking(state):
    return [(rank, row["id"]) for rank, row in state["leaderboard"].items()]


def test_it_ranks_the_leaderboard_by_accepted_today():
    agents = [agent("a", accepted=3), agent("b", accepted=9), agent("c", accepted=0), agent("d", accepted=5)]
    state = compute(config(leaderboard="accepted", leaderboard_size=2), agents)
    assert ranking(state) == [("1", "b"), ("2", "d")]
    assert state["leaderboard"]["1"] == {
        "id": "b", "name": "B", "group_id": "101", "accepted": 9, "aht": None, "states": {},
    }


def test_it_leaves_agents_with_nothing_accepted_off_the_leaderboard():
    state = compute(config(leaderboard="accepted", leaderboard_size=5), [agent("a"), agent("b", accepted=None)])
    assert state["leaderboard"] == {}


def test_it_breaks_ties_by_name_then_id():
    agents = [
        agent("z2", name="Sam", accepted=4), agent("z1", name="Sam", accepted=4),
        agent("a", name="tom", accepted=4), agent("b", name="Ann", accepted=4),
    ]
    state = compute(config(leaderboard="accepted", leaderboard_size=10), list(reversed(agents)))
    assert ranking(state) == [("1", "b"), ("2", "z1"), ("3", "z2"), ("4", "a")]


def test_it_ranks_by_average_handling_time_with_a_minimum_count():
    agents = [
        agent("short", accepted=1, aht=20),  # one short call must not win
        agent("fast", accepted=6, aht=150),
        agent("slow", accepted=12, aht=400),
        agent("nodata", accepted=30, aht=None),
        agent("edge", accepted=5, aht=300),
    ]
    state = compute(config(leaderboard="aht", leaderboard_size=5, leaderboard_min_count=5), agents)
    assert ranking(state) == [("1", "fast"), ("2", "edge"), ("3", "slow")]
    assert state["leaderboard"]["1"]["aht"] == 150


def test_it_shows_no_leaderboard_when_off():
    assert compute(config(), [agent("a", accepted=3)])["leaderboard"] == {}


def test_it_ranks_only_the_boards_agent_groups():
    agents = [agent("a", group="101", accepted=3), agent("b", group="202", accepted=9)]
    state = compute(config(leaderboard="accepted", agent_groups={"101": "Tier 1"}), agents)
    assert ranking(state) == [("1", "a")]


def test_it_computes_occupancy_as_handling_and_wrap_up_over_logged_in_minus_breaks():
    # (600 + 300 + 200 + 100) / ((3600 - 600) + (1800 - 0)) = 1200 / 4800 = 25 %
    agents = [agent("a", login=3600, busy=600, wrap=300, brk=600), agent("b", login=1800, busy=200, wrap=100)]
    assert occupancy_percent(agents) == (25, 2)


def test_it_leaves_agents_without_logged_in_time_out_of_occupancy():
    agents = [agent("a", login=1000, busy=500), agent("never", login=0, busy=0), agent("none", login=None)]
    assert occupancy_percent(agents) == (50, 1)


def test_it_gives_no_occupancy_without_logged_in_time():
    assert occupancy_percent([agent("a", login=0)]) == (None, 0)
    assert occupancy_percent([]) == (None, 0)


def test_it_gives_no_occupancy_when_breaks_took_all_the_time():
    assert occupancy_percent([agent("a", login=900, brk=900)]) == (None, 1)


def test_it_shows_occupancy_per_agent_group_of_the_board():
    agents = [agent("a", group="101", login=1000, busy=400, wrap=100), agent("b", group="202", login=1000, busy=900)]
    state = compute(config(show_occupancy=True, agent_groups={"101": "Tier 1", "303": "Empty"}), agents)
    assert state["occupancy"] == {
        "101": {"id": "101", "name": "Tier 1", "occupancy": 50, "agents": 1, "states": {}},
        "303": {"id": "303", "name": "Empty", "occupancy": None, "agents": 0, "states": {}},
    }


def test_it_shows_every_group_when_the_board_has_none():
    agents = [agent("a", group="202", login=100, busy=10), agent("b", group="101", login=100, busy=90)]
    state = compute(config(show_occupancy=True), agents)
    assert list(state["occupancy"]) == ["101", "202"]
    assert state["occupancy"]["202"]["name"] == "Group 202"


def test_it_shows_day_totals_per_queue():
    queues = [
        Queue(queue_id="1", queue_name="Support", day_queued=40, day_accepted=35, day_abandoned=5,
              day_avg_wait_time=22, day_avg_duration=180, day_sla_activity=91),
    ]
    state = compute(config(show_day_totals=True), [], queues)
    assert state["day_totals"]["1"] == {
        "id": "1", "name": "Support", "states": {},
        "metrics": {"day_queued": 40, "day_accepted": 35, "day_abandoned": 5, "day_avg_wait_time": 22,
                    "day_avg_duration": 180, "day_sla_activity": 91},
    }
    # A queue 8x8 did not return still has its tile, with no figures.
    assert state["day_totals"]["2"]["name"] == "Sales"
    assert set(state["day_totals"]["2"]["metrics"].values()) == {None}


def test_it_shows_no_tiles_unless_chosen():
    state = compute(config(), [agent("a", accepted=3, login=100, busy=50)], [Queue(queue_id="1", day_queued=3)])
    assert (state["leaderboard"], state["occupancy"], state["day_totals"]) == ({}, {}, {})
    assert state["board"]["agent_tiles"] == {
        "leaderboard": "off", "leaderboard_size": 5, "min_count": 5, "occupancy": False, "day_totals": False,
    }


def test_it_applies_thresholds_to_occupancy_group_first():
    thresholds = (ThresholdConf("occupancy", "", "above", 80, 90), ThresholdConf("occupancy", "202", "below", 40, 20))
    agents = [agent("a", group="101", login=100, busy=85), agent("b", group="202", login=100, busy=30)]
    state = compute(config(show_occupancy=True, thresholds=thresholds), agents)
    assert state["occupancy"]["101"]["states"] == {"occupancy": "warn"}
    assert state["occupancy"]["202"]["states"] == {"occupancy": "warn"}


def test_it_applies_thresholds_to_leaderboard_rows():
    thresholds = (ThresholdConf("agent_aht", "", "above", 200, 300),)
    agents = [agent("a", accepted=9, aht=150), agent("b", accepted=9, aht=250), agent("c", accepted=9, aht=310)]
    state = compute(config(leaderboard="aht", thresholds=thresholds), agents)
    assert [row["states"] for row in state["leaderboard"].values()] == [
        {"agent_aht": "ok"}, {"agent_aht": "warn"}, {"agent_aht": "alert"},
    ]


def test_it_applies_queue_thresholds_to_day_totals_and_mutes_closed_queues():
    thresholds = (ThresholdConf("day_abandoned", "", "above", 5, 10), ThresholdConf("day_avg_duration", "1", "above", 100, 200))
    queues = [Queue(queue_id="1", day_abandoned=7, day_avg_duration=250), Queue(queue_id="2", day_abandoned=12)]
    closed = {"s1": {"status": -1, "label": "CLOSED", "state": "closed", "next_change": None}}
    state = compute(config(show_day_totals=True, thresholds=thresholds), [], queues, schedules=closed)
    assert state["day_totals"]["1"]["states"] == {"day_abandoned": "warn", "day_avg_duration": "alert"}
    assert state["day_totals"]["2"]["states"] == {"day_abandoned": "ok"}  # queue 2 is closed


def test_it_patches_only_the_changed_figure():
    cfg = config(leaderboard="accepted", show_occupancy=True, show_day_totals=True)
    agents = [agent("a", accepted=5, login=1000, busy=500), agent("b", accepted=3, login=1000, busy=500)]
    queues = [Queue(queue_id="1", day_queued=10)]
    first = compute(cfg, agents, queues)
    agents[1] = agent("b", accepted=4, login=1000, busy=500)
    second = compute(cfg, agents, queues, previous=first)
    assert second["occupancy"]["101"] is first["occupancy"]["101"]
    assert second["day_totals"]["1"] is first["day_totals"]["1"]
    ops = [op for op in make_patch(first, second) if op["path"].startswith(("/leaderboard", "/occupancy", "/day_totals"))]
    assert ops == [{"op": "replace", "path": "/leaderboard/2/accepted", "value": 4}]


def test_the_admin_help_states_the_occupancy_formula():
    assert "(handling time + wrap-up time) ÷ (logged-in time − break time) × 100" in str(OCCUPANCY_HELP)
    assert str(Board._meta.get_field("show_occupancy").help_text) == str(OCCUPANCY_HELP)


@pytest.mark.parametrize(
    ("metric", "queue_id", "warn", "alert", "message"),
    [
        ("occupancy", "", 90, 120, "between 0 and 100"),
        ("occupancy", "", -5, 10, "between 0 and 100"),
        ("agent_aht", "115", 200, 300, "whole board"),
        ("agent_accepted", "", -1, -2, "cannot be negative"),
    ],
)
def test_it_refuses_bad_thresholds_on_the_new_metrics(metric, queue_id, warn, alert, message):
    direction = "below" if warn > alert else "above"
    with pytest.raises(ValidationError, match=message):
        Threshold(metric=metric, queue_id=queue_id, direction=direction, warn=warn, alert=alert).clean()


def test_it_accepts_good_thresholds_on_the_new_metrics():
    Threshold(metric="occupancy", queue_id="101", direction="above", warn=80, alert=95).clean()
    Threshold(metric="agent_aht", queue_id="", direction="above", warn=200, alert=300).clean()
    assert "occupancy" in dict(Threshold._meta.get_field("metric").choices)


@pytest.mark.django_db
def test_it_saves_the_tile_settings_and_passes_them_to_the_poller():
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    data = {"slug": "tiles", "title": "Tiles", "tenant": str(tenant.pk), "theme": "dark", "queue_metrics": ["queue_size"],
            "page_seconds": "12", "leaderboard": "aht", "leaderboard_size": "7", "leaderboard_min_count": "3",
            "show_occupancy": "on", "show_day_totals": "on"}
    form = BoardForm(data)
    assert form.is_valid(), form.errors
    cfg = board_config(form.save())
    assert (cfg.leaderboard, cfg.leaderboard_size, cfg.leaderboard_min_count, cfg.show_occupancy, cfg.show_day_totals) == (
        "aht", 7, 3, True, True,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"), [("leaderboard", "best"), ("leaderboard_size", "0"), ("leaderboard_size", "21"),
                         ("leaderboard_min_count", "0")],
)
def test_it_refuses_bad_tile_settings(field, value):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    data = {"slug": "tiles", "title": "Tiles", "tenant": str(tenant.pk), "theme": "dark", "queue_metrics": ["queue_size"],
            "page_seconds": "12", field: value}
    form = BoardForm(data)
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.django_db
def test_a_form_without_the_tile_fields_keeps_the_defaults():
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    data = {"slug": "tiles", "title": "Tiles", "tenant": str(tenant.pk), "theme": "dark", "queue_metrics": ["queue_size"],
            "page_seconds": "12"}
    form = BoardForm(data)
    assert form.is_valid(), form.errors
    board = form.save()
    assert (board.leaderboard, board.leaderboard_size, board.leaderboard_min_count) == ("off", 5, 5)


@pytest.fixture
def sim(redis_client):
    clock = Clock()
    server = SimulatorServer(port=0, agents=30, queues=4, seed=7, clock=clock)
    server.start()
    yield server, clock
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_the_poller_publishes_the_tiles_from_the_records_it_already_fetched(sim):
    server, clock = sim
    tenant, board, _ = make_board(server.base_url, slug="tiles")
    Board.objects.filter(pk=board.pk).update(leaderboard="accepted", leaderboard_size=5, show_occupancy=True,
                                             show_day_totals=True)
    Threshold.objects.create(board=board, metric="occupancy", direction="above", warn=0, alert=1)
    clock.advance(1800)  # half an hour of simulated calls: agents have day figures

    assert poll_tenant(tenant.pk).outcome == "ok"

    data = json.loads(store.assemble(store.load("tiles").fields))
    agents = client_for(tenant).agents()  # the same simulated moment: the figures the poller saw
    ranked = sorted((a for a in agents if a.day_accepted_count), key=lambda a: (-a.day_accepted_count, a.agent_name.casefold(), a.agent_id))
    assert [row["id"] for row in data["leaderboard"].values()] == [a.agent_id for a in ranked[:5]]
    assert list(data["leaderboard"]) == ["1", "2", "3", "4", "5"]
    groups = {a.group_id for a in agents}
    assert set(data["occupancy"]) == groups
    for group_id, entry in data["occupancy"].items():
        members = [a for a in agents if a.group_id == group_id]
        assert (entry["occupancy"], entry["agents"]) == occupancy_percent(members)
        assert entry["occupancy"] >= 1 and entry["states"] == {"occupancy": "alert"}
    assert set(data["day_totals"]) == set(board.queues.values_list("queue_id", flat=True))
    assert any(entry["metrics"]["day_queued"] for entry in data["day_totals"].values())


@pytest.mark.django_db
def test_the_admin_saves_tile_settings_and_an_occupancy_threshold_on_an_agent_group(admin_client, redis_client):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    update_catalogue(tenant.pk, queues=[{"id": "115", "name": "Support", "media_type": "phone"}],
                     agent_groups=[{"id": "101", "name": "Tier 1"}], schedules=[], as_of="2026-11-22T10:00:00+00:00")
    page = admin_client.get(f"/admin/boards/board/add/?tenant={tenant.pk}").content.decode()
    assert '<option value="101">Agent group: Tier 1</option>' in page
    assert "(handling time + wrap-up time) ÷ (logged-in time − break time) × 100" in page
    data = {"title": "Floor", "slug": "floor", "tenant": str(tenant.pk), "theme": "dark", "queue_metrics": ["queue_size"],
            "page_seconds": "12", "leaderboard": "accepted", "leaderboard_size": "3", "leaderboard_min_count": "5",
            "show_occupancy": "on"}
    for prefix in ("queues", "queue_groups", "agent_groups", "thresholds"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data |= {"thresholds-TOTAL_FORMS": "2", "thresholds-0-metric": "occupancy", "thresholds-0-queue_id": "101",
             "thresholds-0-direction": "above", "thresholds-0-warn": "85", "thresholds-0-alert": "150",
             "thresholds-1-metric": "agent_aht", "thresholds-1-queue_id": "", "thresholds-1-direction": "above",
             "thresholds-1-warn": "200", "thresholds-1-alert": "300"}
    refused = admin_client.post("/admin/boards/board/add/", data)
    assert refused.status_code == 200 and "between 0 and 100" in refused.content.decode()
    data["thresholds-0-alert"] = "95"
    saved = admin_client.post("/admin/boards/board/add/", data)
    assert saved.status_code == 302
    board = Board.objects.get(slug="floor")
    assert (board.leaderboard, board.leaderboard_size, board.show_occupancy, board.show_day_totals) == ("accepted", 3, True, False)
    assert sorted(board.thresholds.values_list("metric", "queue_id")) == [("agent_aht", ""), ("occupancy", "101")]
