"""Celery tasks: thin shells over wallboard.alerts.outbox, with retries, backoff and time limits."""

from __future__ import annotations

from celery import Task, shared_task

from wallboard.alerts import outbox

# Seconds before retry n (1-based): 15 s, 1 min, 4 min, 16 min; then the delivery is failed.
BACKOFF = (15, 60, 240, 960)


def backoff(retries: int) -> int:
    return BACKOFF[min(retries, len(BACKOFF) - 1)]


# Above the Apprise send timeout (ALERTS_SEND_TIMEOUT, at most 60 s) with room for the database.
@shared_task(bind=True, ignore_result=True, soft_time_limit=70, time_limit=80, max_retries=outbox.MAX_ATTEMPTS - 1)
def deliver(self: Task[[int], str], delivery_id: int) -> str:
    """Send one alert delivery; retry later when the service did not take it."""
    outcome = outbox.deliver_one(delivery_id)
    if outcome == "retrying":
        raise self.retry(countdown=backoff(self.request.retries))
    return outcome
