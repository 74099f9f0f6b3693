"""Sending one notification through Apprise, and saying exactly how it went.

Apprise knows every service (Slack, Teams, SMTP, webhooks, ...); this module only turns its
structured result into one line a person understands, scrubbed of the URL's secrets (Apprise's
messages may quote parts of it). Retries are the Celery task's business: one call here is one
attempt, bounded by a timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import apprise
from django.conf import settings

from wallboard.alerts.apprise_urls import scrub, url_problem

# Apprise logs each failure itself, sometimes with parts of the URL. We log our own scrubbed
# line instead, so its records never reach the process's handlers.
_apprise_log = logging.getLogger("apprise")
_apprise_log.propagate = False
_apprise_log.addHandler(logging.NullHandler())

NOTIFY_TYPES = {"info": apprise.NotifyType.INFO, "success": apprise.NotifyType.SUCCESS,
                "warning": apprise.NotifyType.WARNING, "failure": apprise.NotifyType.FAILURE}
MAX_DETAIL = 480


@dataclass(frozen=True)
class SendResult:
    """Whether the service accepted the message, and in words why not."""

    ok: bool
    detail: str


def send(url: str, title: str, body: str, notify_type: str = "info", timeout: float | None = None) -> SendResult:
    """Send one message to one Apprise URL; never raises for a delivery problem."""
    problem = url_problem(url)
    if problem:
        return SendResult(False, problem)
    notifier = apprise.Apprise()
    notifier.add(url.strip())
    limit = timeout if timeout is not None else settings.ALERTS_SEND_TIMEOUT
    try:
        result = notifier.notify(
            body=body or title, title=title, notify_type=NOTIFY_TYPES.get(notify_type, apprise.NotifyType.INFO),
            body_format=apprise.NotifyFormat.TEXT, timeout=limit,
        )
    except Exception as exc:  # a plugin bug: still one clear line, never a traceback with the URL
        return SendResult(False, scrub(f"Apprise failed: {type(exc).__name__}: {exc}", url)[:MAX_DETAIL])
    if result:
        return SendResult(True, "delivered")
    return SendResult(False, _explain(result, url, limit))


def _explain(result: apprise.AppriseResult, url: str, limit: float) -> str:
    """The service's own words for the failure (its last warning or error), scrubbed."""
    status = result.status.name.lower()
    messages = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    if result.status == apprise.AppriseResultStatus.TIMEOUT:
        text = f"timed out after {limit:g} s"
    elif messages:
        text = messages[-1]
    else:
        text = f"not delivered ({status})"
    return scrub(" ".join(text.split()), url)[:MAX_DETAIL]
