"""Housekeeping for the delivery log and alert events: pruning old rows, re-sending stuck ones.

Both run from Celery beat (wallboard.alerts.tasks) and are safe to run twice at once: every
delete and every re-queue is decided by one conditional statement on the rows themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from wallboard.alerts import outbox
from wallboard.alerts.models import AlertEvent, Delivery

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)

FINAL = ("sent", "failed")
UNFINISHED = ("pending", "sending", "retrying")
BATCH = 500
# A delivery `sending` for longer than this lost its worker (killed, machine gone): the task's
# hard time limit ends any live attempt well before, so re-sending it never runs beside one.
STUCK_AFTER = timedelta(seconds=3 * outbox.DELIVER_TIME_LIMIT)
INTERRUPTED = "attempt {n} was interrupted (worker stopped while sending); "


@dataclass(frozen=True)
class Pruned:
    """How many rows one prune removed."""

    deliveries: int
    events: int


def prune(now: datetime | None = None, keep_days: int | None = None, batch: int = BATCH) -> Pruned:
    """Delete finished deliveries and closed events older than ALERTS_KEEP_DAYS, in batches.

    Never touches a delivery still to be sent, an open event, or an event such a delivery is
    about (its message would lose its subject). Batches keep each delete short, so the poller's
    claims never wait long for the table.
    """
    days = settings.ALERTS_KEEP_DAYS if keep_days is None else keep_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deliveries = _delete_in_batches(Delivery.objects.filter(outcome__in=FINAL, finished__lt=cutoff), batch)
    waiting = Q(deliveries__outcome__in=UNFINISHED) | Q(digests__outcome__in=UNFINISHED)
    old_events = AlertEvent.objects.filter(cleared__lt=cutoff).exclude(waiting)
    events = _delete_in_batches(old_events, batch)
    if deliveries or events:
        log.info("alerts: pruned %s deliveries and %s events older than %s days", deliveries, events, days)
    return Pruned(deliveries, events)


def _delete_in_batches(rows: QuerySet[M], batch: int) -> int:
    """Delete the rows `batch` at a time (by primary key: not every database has DELETE ... LIMIT)."""
    total = 0
    while True:
        ids = list(rows.values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        rows.model._default_manager.filter(pk__in=ids).delete()
        total += len(ids)
        if len(ids) < batch:
            return total


def requeue_stuck(now: datetime | None = None) -> list[int]:
    """Queue again the deliveries left `sending` by a worker that died; return their ids.

    The attempt counts (it may have reached the service: the receiver can get the message
    twice, never more, since a re-sent one is claimed like any other). Past the last attempt
    the delivery is failed instead.
    """
    cutoff = (now or timezone.now()) - STUCK_AFTER
    stuck = list(Delivery.objects.filter(outcome="sending", sending_since__lt=cutoff).values_list("pk", "attempts"))
    requeued: list[int] = []
    for pk, attempts in stuck:
        last = attempts >= outbox.MAX_ATTEMPTS
        note = INTERRUPTED.format(n=attempts) + ("failed: no attempts left" if last else "queued again")
        won = Delivery.objects.filter(pk=pk, outcome="sending", sending_since__lt=cutoff).update(
            outcome="failed" if last else "retrying", detail=note, sending_since=None,
            finished=timezone.now() if last else None,
        )
        if won and not last:
            requeued.append(pk)
        if won:
            log.warning("alert delivery %s: %s", pk, note)
    if requeued:
        outbox.enqueue(requeued)
    return requeued
