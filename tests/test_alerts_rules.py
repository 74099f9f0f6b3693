"""Alert rules: start and clear once each (with the duration), muted while closed, flood control,
digests, feed and schedule rules, and exactly once with two evaluators on the real database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.alerts_helpers import webhook_fixture  # noqa: F401 - the fixture
from tests.helpers import wait_for
from tests.pipeline_helpers import Clock, make_board
from wallboard.alerts import announcements, outbox
from wallboard.alerts.models import AlertEvent, AlertRule, Announcement, Delivery, NotificationChannel
from wallboard.alerts.rules import evaluate_cycle
from wallboard.boards.models import Board, BoardQueue, Tenant, TenantHealth, Threshold
from wallboard.live import store
from wallboard.polling.cycle import poll_tenant
from wallboard.polling.dispatch import hold_upstream, upstream_held
from wallboard.simulator.server import SimulatorServer

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


@pytest.fixture
def board(db):
    tenant = Tenant.objects.create(name="Acme", base_url="http://127.0.0.1:9", tenant_name="acme", token="tok-123")
    board = Board.objects.create(slug="ops", title="Operations", tenant=tenant)
    BoardQueue.objects.create(board=board, queue_id="101", schedule_id="7")
    return board


@pytest.fixture
def channels(db, webhook):
    return [NotificationChannel.objects.create(name=f"hook {n}", url=webhook.url(path=f"/{n}")) for n in (1, 2)]


def rule(board, channels, **fields) -> AlertRule:
    values = {"name": "Waiting too long", "kind": "metric", "min_interval_minutes": 0, **fields}
    made = AlertRule.objects.create(board=board, **values)
    made.channels.set(channels)
    return made


def entry(queue_id: str, level: str = "ok", metric: str = "queue_size", value: int = 0, schedule: str | None = "open",
          kind: str = "queue") -> dict:
    return {
        "id": queue_id, "name": f"Queue {queue_id}", "kind": kind, "metrics": {metric: value},
        "states": {metric: level}, "schedule": {"state": schedule} if schedule else None,
    }


def state(*entries: dict, mute: bool = True) -> dict:
    return {
        "board": {"slug": "ops", "title": "Operations", "mute_when_closed": mute},
        "queues": {e["id"]: e for e in entries if e["kind"] == "queue"},
        "groups": {e["id"]: e for e in entries if e["kind"] == "group"},
        "agents": {},
        "announcements": [],
    }


def evaluate(board, board_state, at, health=None) -> list[int]:
    return evaluate_cycle(board.tenant, health, {"ops": board_state}, at)


def test_it_sends_a_start_once_and_a_clear_with_how_long_it_lasted(board, channels, webhook):
    rule(board, channels, level="alert")
    started = evaluate(board, state(entry("101", "alert", value=12)), T0)
    assert len(started) == 2  # one per channel
    assert evaluate(board, state(entry("101", "alert", value=14)), T0 + timedelta(seconds=10)) == []
    cleared = evaluate(board, state(entry("101", "ok", value=0)), T0 + timedelta(seconds=125))
    assert len(cleared) == 2
    event = AlertEvent.objects.get()
    assert event.duration_seconds == 125 and event.cleared is not None
    for delivery_id in started + cleared:
        assert outbox.deliver_one(delivery_id) == "sent"
    bodies = [r["body"] for r in webhook.received]
    assert [b["title"].split(":")[0] for b in bodies] == ["ALERT", "ALERT", "Cleared", "Cleared"]
    assert "Queue 101" in bodies[0]["title"] and "Waiting = 12 (alert)" in bodies[0]["message"]
    assert "after 2 min 5 s" in bodies[2]["title"]
    assert bodies[0]["type"] == "failure" and bodies[2]["type"] == "success"


def test_it_sends_nothing_while_the_queue_is_closed_on_a_board_that_mutes(board, channels):
    rule(board, channels, level="alert")
    assert evaluate(board, state(entry("101", "alert", value=12, schedule="closed")), T0) == []
    assert not AlertEvent.objects.exists()


def test_it_clears_an_alert_when_the_queue_closes(board, channels):
    rule(board, channels, level="alert")
    evaluate(board, state(entry("101", "alert", value=12)), T0)
    assert len(evaluate(board, state(entry("101", "alert", value=12, schedule="closed")), T0 + timedelta(minutes=1))) == 2
    assert AlertEvent.objects.get().clear_reason == "queue closed"


def test_it_alerts_while_closed_when_the_board_does_not_mute(board, channels):
    rule(board, channels, level="alert")
    assert len(evaluate(board, state(entry("101", "alert", value=12, schedule="closed"), mute=False), T0)) == 2


def test_it_holds_back_a_flapping_alert_within_the_minimum_interval(board, channels):
    rule(board, channels, level="alert", min_interval_minutes=10)
    alert, calm = state(entry("101", "alert", value=9)), state(entry("101", "ok"))
    assert len(evaluate(board, alert, T0)) == 2
    assert len(evaluate(board, calm, T0 + timedelta(minutes=1))) == 2  # the clear of a sent alert is sent
    assert evaluate(board, alert, T0 + timedelta(minutes=2)) == []  # flapping: recorded, not sent
    assert evaluate(board, calm, T0 + timedelta(minutes=3)) == []  # nor its clear
    assert len(evaluate(board, alert, T0 + timedelta(minutes=12))) == 2
    assert list(AlertEvent.objects.order_by("created").values_list("notified", flat=True)) == [True, False, True]


def test_it_sends_one_digest_when_many_rules_fire_in_one_cycle(board, channels, settings, webhook):
    settings.ALERTS_DIGEST_AT = 4
    rule(board, channels, level="alert")
    many = state(*(entry(str(q), "alert", value=q) for q in range(201, 206)))
    ids = evaluate(board, many, T0)
    assert len(ids) == 2  # one digest per channel
    digests = Delivery.objects.filter(pk__in=ids)
    assert {d.kind for d in digests} == {"digest"}
    assert all(d.events.count() == 5 for d in digests)
    outbox.deliver_one(ids[0])
    body = webhook.received[0]["body"]
    assert body["title"] == "5 alert(s) started, 0 cleared"
    assert body["message"].count("ALERT") == 5


def test_it_sends_separate_messages_below_the_digest_threshold(board, channels, settings):
    settings.ALERTS_DIGEST_AT = 4
    rule(board, channels, level="alert")
    ids = evaluate(board, state(*(entry(str(q), "alert") for q in range(201, 204))), T0)
    assert len(ids) == 6 and set(Delivery.objects.values_list("kind", flat=True)) == {"start"}


def test_it_follows_the_rule_level_target_and_metric(board, channels):
    warn_rule = rule(board, channels, name="warn on 101", level="warn", target_id="101", metric="queue_size")
    alert_rule = rule(board, channels, name="alert anywhere", level="alert")
    evaluate(board, state(entry("101", "warn"), entry("102", "warn"), entry("103", "ok", metric="longest_wait_time")), T0)
    assert list(AlertEvent.objects.values_list("rule", "key")) == [(warn_rule.pk, "101:queue_size")]
    evaluate(board, state(entry("101", "alert"), entry("g5", "alert", kind="group")), T0 + timedelta(seconds=10))
    keys = set(AlertEvent.objects.filter(rule=alert_rule).values_list("key", flat=True))
    assert keys == {"101:queue_size", "g5:queue_size"}
    assert AlertEvent.objects.filter(rule=warn_rule, cleared__isnull=True).count() == 1  # warn rule: alert is worse


def test_it_keeps_metric_alerts_open_while_8x8_gives_no_state(board, channels):
    rule(board, channels, level="alert")
    evaluate(board, state(entry("101", "alert")), T0)
    assert evaluate_cycle(board.tenant, None, {}, T0 + timedelta(seconds=10)) == []
    assert AlertEvent.objects.get().cleared is None


def test_it_ignores_disabled_rules_and_channels(board, channels):
    rule(board, channels, level="alert", enabled=False)
    assert evaluate(board, state(entry("101", "alert")), T0) == []
    rule(board, channels, level="alert")
    NotificationChannel.objects.filter(pk=channels[0].pk).update(enabled=False)
    assert len(evaluate(board, state(entry("101", "alert")), T0)) == 1


def health_of(board, state_name: str, since: datetime, disagreements=None) -> TenantHealth:
    health, _ = TenantHealth.objects.get_or_create(tenant=board.tenant)
    health.state, health.since, health.message = state_name, since, "8x8 did not answer within 3 s"
    health.schedule_disagreements = disagreements or {}
    health.save()
    return health


def test_it_alerts_on_a_feed_unhealthy_longer_than_the_rule_allows_and_when_it_is_back(board, channels, webhook):
    rule(board, channels, kind="feed", unhealthy_minutes=5)
    down = T0 - timedelta(minutes=2)
    assert evaluate(board, state(), T0, health_of(board, "unreachable", down)) == []
    started = evaluate(board, state(), T0 + timedelta(minutes=4), health_of(board, "unreachable", down))
    assert len(started) == 2
    # Another kind of trouble restarts `since` but is not a recovery.
    later = T0 + timedelta(minutes=5)
    assert evaluate(board, state(), later, health_of(board, "busy", later)) == []
    cleared = evaluate(board, state(), T0 + timedelta(minutes=20), health_of(board, "ok", T0 + timedelta(minutes=20)))
    assert len(cleared) == 2
    event = AlertEvent.objects.get()
    assert event.started == down and event.duration_seconds == 22 * 60
    outbox.deliver_one(started[0])
    outbox.deliver_one(cleared[0])
    titles = [r["body"]["title"] for r in webhook.received]
    assert titles[0] == "ALERT: 8x8 feed of Acme: unreachable"
    assert titles[1] == "Cleared: 8x8 feed of Acme: unreachable after 22 min"


def test_it_alerts_when_a_mapped_schedule_disagrees_with_8x8(board, channels):
    rule(board, channels, kind="schedule")
    disagreement = {"7": {"local_status": 0, "api_status": -1, "source": "api"},
                    "99": {"local_status": 0, "api_status": -1, "source": "api"}}  # 99: not on this board
    health = health_of(board, "ok", T0, disagreement)
    assert len(evaluate(board, state(), T0, health)) == 2
    event = AlertEvent.objects.get()
    assert event.key == "schedule:7" and "our evaluation says OPEN, 8x8 says CLOSED" in event.detail
    assert len(evaluate(board, state(), T0 + timedelta(minutes=5), health_of(board, "ok", T0))) == 2
    assert AlertEvent.objects.get().cleared is not None


# --- Exactly once with two evaluators -----------------------------------------------------------


def _race(board, board_state, at) -> list[list[int]]:
    """Two evaluators of the same cycle at the same moment, each on its own DB connection."""
    from django.db import connection

    barrier = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(evaluate(board, board_state, at))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_it_announces_each_event_once_with_two_evaluators_at_the_same_time(board, channels, redis_client):
    rule(board, channels, level="alert")
    for round_ in range(4):
        at = T0 + timedelta(minutes=2 * round_)
        started = _race(board, state(entry("101", "alert", value=round_ + 5)), at)
        assert sorted(len(r) for r in started) == [0, 2]
        cleared = _race(board, state(entry("101", "ok")), at + timedelta(minutes=1))
        assert sorted(len(r) for r in cleared) == [0, 2]
    assert AlertEvent.objects.count() == 4
    assert Delivery.objects.filter(kind="start").count() == 8
    assert Delivery.objects.filter(kind="clear").count() == 8


# --- From a real poll ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_evaluates_rules_from_the_state_each_poll_published(redis_client, channels):
    clock = Clock()
    sim = SimulatorServer(port=0, agents=20, queues=6, seed=5, clock=clock)
    sim.start()
    try:
        tenant, board, _ = make_board(sim.base_url)
        # Every queue with a figure warns: at least one event per cycle, whatever the simulation does.
        Threshold.objects.create(board=board, metric="agent_count_busy", warn=0, alert=1_000_000)
        made = rule(board, channels, level="warn")
        sim.reset_counters()
        assert poll_tenant(tenant.pk).outcome == "ok"
        requests = sim.state()["requests_by_api"]["rtstats"]
    finally:
        sim.stop()
    assert requests == 2  # agents and queues: the rules made no call of their own
    data = store.load(board.slug).data
    expected = {
        f"{entry_id}:{metric}"
        for section in ("queues", "groups")
        for entry_id, item in data[section].items()
        for metric, level in item["states"].items()
        if level in ("warn", "alert")
    }
    assert any(key.endswith(":agent_count_busy") for key in expected)
    assert set(AlertEvent.objects.filter(rule=made).values_list("key", flat=True)) == expected


def test_it_refuses_a_metric_rule_for_a_queue_not_on_the_board(board):
    from django.core.exceptions import ValidationError

    bad = AlertRule(board=board, name="x", kind="metric", target_id="999")
    with pytest.raises(ValidationError, match="Not a queue or group on this board"):
        bad.clean()
    AlertRule(board=board, name="y", kind="metric", target_id="101").clean()


# --- While the upstream is held back after a timeout (no 8x8 call, no figures) ------------------


@pytest.fixture
def held_sim(redis_client, settings):
    """A simulator whose first timeout holds the tenant back for longer than any test runs."""
    settings.VCC_READ_TIMEOUT = 0.5
    settings.WALLBOARD_ABANDONED_HOLD = 600
    server = SimulatorServer(port=0, agents=10, queues=4, seed=5, clock=Clock())
    server.start()
    yield server
    server.stop()


def _time_out(sim, tenant) -> None:
    sim.faults.add("latency", ms=1500, target="rtstats")
    assert poll_tenant(tenant.pk).outcome == "timeout"
    assert upstream_held(tenant.pk)


@pytest.mark.django_db(transaction=True)
def test_it_fires_a_feed_rule_while_the_upstream_is_held_and_clears_it_once_when_8x8_is_back(held_sim, channels, webhook):
    tenant, board, _ = make_board(held_sim.base_url)
    made = rule(board, channels, kind="feed", unhealthy_minutes=5)
    assert poll_tenant(tenant.pk).outcome == "ok"
    _time_out(held_sim, tenant)
    assert not AlertEvent.objects.exists()  # unhealthy, but not for 5 minutes yet
    # The feed has been failing for 6 minutes (moved rather than waited for); 8x8 is never asked.
    TenantHealth.objects.filter(tenant=tenant).update(since=timezone.now() - timedelta(minutes=6))
    held_sim.reset_counters()
    assert [poll_tenant(tenant.pk).outcome for _ in range(3)] == ["held"] * 3
    assert held_sim.state()["requests_by_api"]["rtstats"] == 0
    event = AlertEvent.objects.get(rule=made)
    assert event.cleared is None and event.key == f"tenant:{tenant.pk}"
    starts = list(Delivery.objects.filter(kind="start").values_list("pk", flat=True))
    assert len(starts) == 2  # once, one per channel, however many held cycles
    # 8x8 answers again once the hold is over.
    held_sim.faults.clear()
    wait_for(lambda: not any(held_sim.state()["in_flight"].values()), what="8x8 done with the abandoned request")
    hold_upstream(tenant.pk, 0)
    assert [poll_tenant(tenant.pk).outcome for _ in range(2)] == ["ok", "ok"]
    event.refresh_from_db()
    assert event.cleared is not None
    clears = list(Delivery.objects.filter(kind="clear").values_list("pk", flat=True))
    assert len(clears) == 2
    for delivery_id in starts + clears:
        assert outbox.deliver_one(delivery_id) == "sent"
    titles = sorted(r["body"]["title"].split(":")[0] for r in webhook.received)
    assert titles == ["ALERT", "ALERT", "Cleared", "Cleared"]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_metric_alerts_as_they_are_while_the_upstream_is_held(held_sim, channels):
    tenant, board, _ = make_board(held_sim.base_url)
    Threshold.objects.create(board=board, metric="agent_count_busy", warn=0, alert=1_000_000)
    made = rule(board, channels, level="warn")
    assert poll_tenant(tenant.pk).outcome == "ok"
    opened = set(AlertEvent.objects.filter(rule=made).values_list("key", flat=True))
    assert opened
    _time_out(held_sim, tenant)
    # Nothing would warn any more by the new threshold, but a held cycle has no figures to say so:
    # its events are neither cleared nor started from the stored (stale) ones.
    Threshold.objects.filter(board=board).update(warn=999_999)
    assert poll_tenant(tenant.pk).outcome == "held"
    assert set(AlertEvent.objects.filter(rule=made, cleared__isnull=True).values_list("key", flat=True)) == opened
    assert AlertEvent.objects.filter(rule=made).count() == len(opened)


@pytest.mark.django_db(transaction=True)
def test_it_starts_and_ends_a_scheduled_announcement_while_the_upstream_is_held(held_sim):
    tenant, board, _ = make_board(held_sim.base_url)
    assert poll_tenant(tenant.pk).outcome == "ok"
    soon = timezone.now() + timedelta(hours=2)
    made = announcements.create(None, [board], "Phones down: use the backup line", "critical", soon,
                                soon + timedelta(hours=1))
    _time_out(held_sim, tenant)
    assert store.load(board.slug).data["announcements"] == []
    Announcement.objects.filter(pk=made.pk).update(starts=timezone.now() - timedelta(seconds=1))
    assert poll_tenant(tenant.pk).outcome == "held"
    assert [a["id"] for a in store.load(board.slug).data["announcements"]] == [made.pk]
    Announcement.objects.filter(pk=made.pk).update(ends=timezone.now() - timedelta(seconds=1))
    assert poll_tenant(tenant.pk).outcome == "held"
    assert store.load(board.slug).data["announcements"] == []


def test_it_has_room_in_an_event_for_every_health_state():
    """A feed rule stores the tenant's health state as the event's level.

    SQLite stores a longer value than the column allows, PostgreSQL refuses the row: feed alerts
    on production's database never fired for "unreachable" or "unreadable_secret".
    """
    longest = max(len(state) for state, _ in TenantHealth.STATES)
    assert AlertEvent._meta.get_field("level").max_length >= longest
