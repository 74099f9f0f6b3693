"""Celery tasks: thin shells over wallboard.alerts.outbox, with retries, backoff and time limits."""

from __future__ import annotations

from celery import Task, shared_task

from wallboard.alerts import outbox, retention

# Seconds before retry n (1-based): 15 s, 1 min, 4 min, 16 min; then the delivery is failed.
BACKOFF = (15, 60, 240, 960)


def backoff(retries: int) -> int:
    return BACKOFF[min(retries, len(BACKOFF) - 1)]


# Above the Apprise send timeout (ALERTS_SEND_TIMEOUT, at most 60 s) with room for the database.
@shared_task(
    bind=True, ignore_result=True, soft_time_limit=outbox.DELIVER_TIME_LIMIT - 10, time_limit=outbox.DELIVER_TIME_LIMIT,
    max_retries=outbox.MAX_ATTEMPTS - 1,
)
def deliver(self: Task[[int], str], delivery_id: int) -> str:
    """Send one alert delivery; retry later when the service did not take it."""
    outcome = outbox.deliver_one(delivery_id)
    if outcome == "retrying":
        raise self.retry(countdown=backoff(self.request.retries))
    return outcome


# Beat runs these (settings.CELERY_BEAT_SCHEDULE). Batched deletes: an interrupted prune leaves
# a consistent log, and the next run goes on.
@shared_task(ignore_result=True, soft_time_limit=240, time_limit=270)
def prune_log() -> int:
    """Delete deliveries and alert events older than ALERTS_KEEP_DAYS."""
    pruned = retention.prune()
    return pruned.deliveries + pruned.events


@shared_task(ignore_result=True, soft_time_limit=25, time_limit=30)
def requeue_stuck() -> int:
    """Send again the deliveries whose worker died while sending."""
    return len(retention.requeue_stuck())
