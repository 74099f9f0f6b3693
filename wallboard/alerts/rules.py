"""Alert rules, evaluated once per poll cycle from what the poller already computed.

No 8x8 call happens here: metric rules read the board states just published (their `states`
are already muted while a queue is closed on a board that mutes alarms), feed rules read the
tenant's health, schedule rules the disagreements of the last schedule refresh.

Exactly once: an AlertEvent row is the claim. Starting one is an INSERT that a partial unique
index (one open event per rule and key) lets only one evaluator win; clearing one is an UPDATE
of a still-open row, which only one evaluator sees succeed. Deliveries are written in the same
transaction as the claims, and their tasks are queued only once it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from wallboard.alerts import messages, outbox
from wallboard.alerts.models import AlertEvent, AlertRule, Delivery, NotificationChannel
from wallboard.boards.models import BoardQueue, Tenant, TenantHealth
from wallboard.boards.state import BoardState

log = logging.getLogger(__name__)

LEVELS = {"alert": ("alert",), "warn": ("warn", "alert")}
HEALTHY = ("ok", "pending", "disabled")


@dataclass(frozen=True)
class Condition:
    """A rule's condition holding for one key this cycle."""

    key: str
    subject: str
    level: str
    started: datetime | None  # None: when this cycle noticed it
    detail: str


@dataclass(frozen=True)
class Transition:
    """An event this evaluator claimed: its start or its clear."""

    event: AlertEvent
    phase: str  # start or clear


def evaluate_cycle(
    tenant: Tenant, health: TenantHealth | None, states: Mapping[str, BoardState], at: datetime
) -> list[int]:
    """Evaluate every enabled rule of the tenant's boards; return the deliveries queued.

    `states` maps slug to the state published this cycle (empty when 8x8 failed: metric rules
    then keep their events as they are).
    """
    rules = list(
        AlertRule.objects.filter(board__tenant=tenant, enabled=True).select_related("board").prefetch_related("channels")
    )
    if not rules:
        return []
    open_now = _open_events(rules)
    found = _conditions_by_rule(rules, tenant, health, states, at, open_now)
    if not _changes(found, open_now):
        return []  # the usual cycle: nothing starts or clears, and nothing is written
    with transaction.atomic():
        _write_lock_first()
        transitions = _claim_all(rules, found, at)
        deliveries = _deliveries(transitions, at)
        ids = [d.pk for d in deliveries]
        if ids:
            transaction.on_commit(lambda: outbox.enqueue(ids))
    for t in transitions:
        log.info("alert %s: %s (rule %s)", t.phase, t.event.subject, t.event.rule_id)
    return ids


def _write_lock_first() -> None:
    """On SQLite, take the database's write lock before reading anything.

    A SQLite transaction that has read cannot wait for the write lock (that could deadlock), so
    the second of two evaluators would fail at once with "database is locked". Taking it first
    makes the second wait its turn, then see the first one's claims. PostgreSQL needs nothing:
    the unique index and the row locks decide.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE alerts_alertrule SET id = id WHERE 0")


Found = dict[int, tuple[dict[str, Condition], dict[str, str]]]


def _open_events(rules: list[AlertRule]) -> dict[tuple[int, str], AlertEvent]:
    return {(e.rule_id, e.key): e for e in AlertEvent.objects.filter(rule__in=rules, cleared__isnull=True)}


def _conditions_by_rule(
    rules: list[AlertRule],
    tenant: Tenant,
    health: TenantHealth | None,
    states: Mapping[str, BoardState],
    at: datetime,
    open_events: Mapping[tuple[int, str], AlertEvent],
) -> Found:
    """Each rule's conditions this cycle; rules nothing is known about are left out."""
    found: Found = {}
    for rule in rules:
        still_open = {key for (rule_id, key) in open_events if rule_id == rule.pk}
        result = conditions(rule, tenant, health, states, at, still_open)
        if result is not None:
            found[rule.pk] = result
    return found


def _changes(found: Found, open_events: Mapping[tuple[int, str], AlertEvent]) -> bool:
    """Whether anything would start or clear (read only: a write transaction costs a lock)."""
    for rule_id, (current, _) in found.items():
        if any((rule_id, key) not in open_events for key in current):
            return True
        if any(r == rule_id and key not in current for (r, key) in open_events):
            return True
    return False


def _claim_all(rules: list[AlertRule], found: Found, at: datetime) -> list[Transition]:
    """Claim every start and clear; open events are read again under the write lock."""
    open_events = _open_events(rules)
    transitions: list[Transition] = []
    for rule in rules:
        if rule.pk not in found:
            continue  # nothing known about this rule this cycle: events stay as they are
        current, reason = found[rule.pk]
        for key, condition in current.items():
            if (rule.pk, key) not in open_events:
                event = _claim_start(rule, condition, at)
                if event is not None:
                    transitions.append(Transition(event, "start"))
        for (rule_id, key), event in open_events.items():
            if rule_id == rule.pk and key not in current and _claim_clear(event, at, reason.get(key, "")):
                transitions.append(Transition(event, "clear"))
    return transitions


def conditions(
    rule: AlertRule,
    tenant: Tenant,
    health: TenantHealth | None,
    states: Mapping[str, BoardState],
    at: datetime,
    still_open: Iterable[str] = (),
) -> tuple[dict[str, Condition], dict[str, str]] | None:
    """What holds now for the rule, by key, and why keys that do not hold stopped; None: unknown."""
    if rule.kind == "metric":
        state = states.get(rule.board.slug)
        return None if state is None else metric_conditions(rule, state)
    if health is None:
        return None
    if rule.kind == "feed":
        return feed_conditions(rule, tenant, health, at, f"tenant:{tenant.pk}" in still_open), {}
    return schedule_conditions(rule, health), {}


def metric_conditions(rule: AlertRule, state: BoardState) -> tuple[dict[str, Condition], dict[str, str]]:
    """Queues and groups whose metric is at the rule's level; closed-and-muted ones say so."""
    wanted = LEVELS.get(rule.level, ("alert",))
    mutes = bool(state["board"].get("mute_when_closed"))
    found: dict[str, Condition] = {}
    muted: dict[str, str] = {}
    entries: Iterable[Any] = list(state["queues"].values()) + list(state["groups"].values())
    for entry in entries:
        if rule.target_id and entry["id"] != rule.target_id:
            continue
        closed = mutes and (entry.get("schedule") or {}).get("state") == "closed"
        for metric, level in entry["states"].items():
            if rule.metric and metric != rule.metric:
                continue
            key = f"{entry['id']}:{metric}"
            if closed:
                muted[key] = "queue closed"
                continue
            if level in wanted:
                value = entry["metrics"].get(metric)
                found[key] = Condition(
                    key, messages.metric_subject(state["board"]["title"], entry, metric, level), level,
                    None, messages.metric_detail(entry, metric, value, level),
                )
    return found, muted


def feed_conditions(
    rule: AlertRule, tenant: Tenant, health: TenantHealth, at: datetime, is_open: bool = False
) -> dict[str, Condition]:
    """The tenant's feed, when unhealthy for longer than the rule allows.

    Once the alert is out it lasts until the feed is healthy again: a change from one kind of
    trouble to another (unreachable, then busy) restarts `since` but is not a recovery.
    """
    if health.state in HEALTHY or health.since is None:
        return {}
    if not is_open and at - health.since < timedelta(minutes=rule.unhealthy_minutes):
        return {}
    key = f"tenant:{tenant.pk}"
    return {key: Condition(key, messages.feed_subject(tenant, health), health.state, health.since,
                           messages.feed_detail(health))}


def schedule_conditions(rule: AlertRule, health: TenantHealth) -> dict[str, Condition]:
    """Schedules of the board's queues where 8x8's /status disagreed with our evaluation."""
    disagreements = health.schedule_disagreements or {}
    if not disagreements:
        return {}
    mapped = set(BoardQueue.objects.filter(board=rule.board).exclude(schedule_id="").values_list("schedule_id", flat=True))
    found: dict[str, Condition] = {}
    for sid in sorted(mapped & set(disagreements)):
        key = f"schedule:{sid}"
        found[key] = Condition(key, messages.schedule_subject(rule.board.title, sid), "disagree", None,
                               messages.schedule_detail(disagreements[sid]))
    return found


def _claim_start(rule: AlertRule, condition: Condition, at: datetime) -> AlertEvent | None:
    """Open the event, or None when another evaluator already did."""
    started = condition.started or at
    quiet_since = at - timedelta(minutes=rule.min_interval_minutes)
    recently = rule.min_interval_minutes > 0 and AlertEvent.objects.filter(
        rule=rule, notified=True, created__gt=quiet_since
    ).exists()
    try:
        with transaction.atomic():
            return AlertEvent.objects.create(
                rule=rule, key=condition.key, subject=condition.subject[:300], level=condition.level,
                started=started, created=at, notified=not recently, detail=condition.detail[:300],
            )
    except IntegrityError:
        return None


def _claim_clear(event: AlertEvent, at: datetime, reason: str) -> bool:
    """Close the event; False when another evaluator already did."""
    won = AlertEvent.objects.filter(pk=event.pk, cleared__isnull=True).update(cleared=at, clear_reason=reason[:100])
    if won:
        event.cleared, event.clear_reason = at, reason[:100]
    return bool(won)


def _deliveries(transitions: list[Transition], at: datetime) -> list[Delivery]:
    """One delivery per channel and transition, or one digest per channel when there are many."""
    by_channel: dict[int, tuple[NotificationChannel, list[Transition]]] = {}
    for t in transitions:
        if not t.event.notified:
            continue  # within the rule's minimum interval: recorded, not sent (nor its clear)
        for channel in t.event.rule.channels.all():
            if channel.enabled:
                by_channel.setdefault(channel.pk, (channel, []))[1].append(t)
    created: list[Delivery] = []
    for channel, items in by_channel.values():
        if len(items) >= settings.ALERTS_DIGEST_AT:
            title, body, kind = messages.digest(items)
            delivery = Delivery.objects.create(channel=channel, kind="digest", title=title, body=body,
                                               notify_type=kind, created=at)
            delivery.events.set([t.event for t in items])
            created.append(delivery)
            continue
        for t in items:
            title, body, kind = messages.transition(t.event, t.phase)
            created.append(Delivery.objects.create(channel=channel, event=t.event, kind=t.phase, title=title,
                                                   body=body, notify_type=kind, created=at))
    return created
