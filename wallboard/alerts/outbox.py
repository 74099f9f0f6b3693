"""Deliveries: queue them for the workers, and send one (one attempt) with its outcome recorded.

A delivery is claimed before it is sent (pending or retrying -> sending, one UPDATE), so a
task that runs twice (a redelivered message, two workers) sends once. The URL is read from the
channel at send time: an administrator's fix applies to the retries still to come.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import current_app
from django.db.models import F
from django.utils import timezone

from wallboard.alerts.apprise_urls import redact
from wallboard.alerts.delivery import SendResult, send
from wallboard.alerts.models import Delivery, NotificationChannel
from wallboard.boards.crypto import UnreadableSecret

log = logging.getLogger(__name__)

DELIVER_TASK = "wallboard.alerts.tasks.deliver"
MAX_ATTEMPTS = 5
# The deliver task's hard time limit (seconds): above the Apprise send timeout (at most 60 s)
# with room for the database. wallboard.alerts.retention counts on it: a delivery `sending`
# for longer than this has no live worker left.
DELIVER_TIME_LIMIT = 80
UNREADABLE = "The channel's URL cannot be decrypted with the current keys: enter it again in admin."


def enqueue(ids: Iterable[int]) -> None:
    """Hand deliveries to the workers (by task name: services do not import entry points)."""
    for delivery_id in ids:
        current_app.send_task(DELIVER_TASK, args=(delivery_id,))


def send_to_channel(channel: NotificationChannel, title: str, body: str, notify_type: str = "info") -> SendResult:
    """One attempt to one channel."""
    if isinstance(channel.url, UnreadableSecret):
        return SendResult(False, UNREADABLE)
    return send(channel.url, title, body, notify_type)


def deliver_one(delivery_id: int) -> str:
    """Send a pending delivery once; return its outcome (`skipped`: someone else has it, or done)."""
    claimed = Delivery.objects.filter(pk=delivery_id, outcome__in=("pending", "retrying")).update(
        outcome="sending", attempts=F("attempts") + 1, sending_since=timezone.now()
    )
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    channel = delivery.channel
    if not channel.enabled:
        result = SendResult(False, "The channel is disabled.")
        outcome = "failed"
    else:
        result = send_to_channel(channel, delivery.title, delivery.body, delivery.notify_type)
        outcome = "sent" if result.ok else ("retrying" if delivery.attempts < MAX_ATTEMPTS else "failed")
    Delivery.objects.filter(pk=delivery_id).update(
        outcome=outcome, detail=result.detail, finished=timezone.now() if outcome != "retrying" else None,
        sending_since=None,
    )
    level = logging.INFO if result.ok else logging.WARNING
    log.log(level, "alert delivery %s to channel %r (%s), attempt %s: %s: %s",
            delivery_id, channel.name, redact(channel.url), delivery.attempts, outcome, result.detail)
    return outcome


def record_test(channel: NotificationChannel, result: SendResult, title: str) -> Delivery:
    """A Send test, in the delivery log like every other message."""
    return Delivery.objects.create(
        channel=channel, kind="test", title=title, body="", outcome="sent" if result.ok else "failed",
        attempts=1, detail=result.detail, finished=timezone.now(),
    )
