"""Each tenant's polling health: what it is, how it is logged, and what browsers are told.

Written once per poll (record_success, record_failure); read by admin, /healthz and, as
status_dict, by every board of the tenant. A change of state is logged once, at the change.
"""

from __future__ import annotations

import logging
import traceback
from datetime import datetime

from django.conf import settings

from wallboard.boards.models import Tenant, TenantHealth
from wallboard.live.messages import Status
from wallboard.vcc.errors import VccError
from wallboard.vcc.records import iso_utc

log = logging.getLogger(__name__)

# Failure kinds of the 8x8 client -> tenant health state.
HEALTH_FOR_KIND = {
    "unauthorised": "unauthorised",
    "timeout": "unreachable",
    "unreachable": "unreachable",
    "busy": "busy",
    "server_error": "degraded",
    "not_found": "degraded",
    "bad_request": "degraded",
    "malformed": "malformed",
    "unsafe": "malformed",
    "too_large": "malformed",
    # Not 8x8's answer: a stored secret no configured key decrypts (the client refuses to start).
    "unreadable_secret": "unreadable_secret",
}


def tenant_label(tenant: Tenant) -> str:
    """How log lines name a tenant: its name (quoted: it is typed by people) and its id."""
    return f"tenant {tenant.name!r} (id {tenant.pk})"


def status_dict(health: TenantHealth) -> Status:
    """The health object sent to browsers (docs/protocol.md, `status`)."""
    return {
        "state": health.state,
        "since": iso_utc(health.since),
        "last_ok": iso_utc(health.last_success),
        "message": health.message,
    }


def record_success(tenant: Tenant, latency_ms: int, at: datetime) -> TenantHealth:
    """Store a good poll; log only when the tenant was not ok before."""
    health, _ = TenantHealth.objects.get_or_create(tenant=tenant)
    if health.state != "ok":
        health.since = at
        # Logged at the change only (the first poll included), never every cycle.
        log.info("%s: %s -> ok", tenant_label(tenant), health.state)
    health.state = "ok"
    health.message = ""
    health.last_poll = health.last_success = at
    health.consecutive_failures = 0
    health.latency_ms = latency_ms
    health.save()
    return health


def record_failure(tenant: Tenant, error: VccError, latency_ms: int, at: datetime) -> TenantHealth:
    """Store a failed poll and the words screens show for it; log only a change of state."""
    health, _ = TenantHealth.objects.get_or_create(tenant=tenant)
    state = HEALTH_FOR_KIND.get(error.kind, "degraded")
    if health.state != state:
        health.since = at
        # Logged once per change of state, not every cycle; a warning, as someone must look.
        log.warning("%s: %s -> %s: %s", tenant_label(tenant), health.state, state, error)
    health.state = state
    health.message = failure_message(state, str(error))
    health.last_poll = health.last_error = at
    health.last_error_kind = error.kind
    health.last_error_message = str(error)[:300]
    health.consecutive_failures += 1
    health.latency_ms = latency_ms
    health.save()
    return health


def failure_message(state: str, detail: str) -> str:
    """The words a screen shows for a failing tenant (at most 300 characters)."""
    if state == "unauthorised":
        retry = int(settings.WALLBOARD_UNAUTHORISED_RETRY)
        text = f"8x8 refused the tenant's credentials; check the token in admin (retrying every {retry} s)."
    elif state == "unreadable_secret":
        text = f"Not polling 8x8: {detail} in admin."
    elif state == "busy":
        text = "8x8 is busy (503); this cycle was skipped."
    elif state == "malformed":
        text = f"8x8 sent an answer we cannot use ({detail}); showing the last good data."
    else:
        text = f"8x8 is not answering properly ({detail}); showing the last good data."
    return text[:300]


def log_unexpected(tenant: Tenant, what: str, exc: Exception) -> None:
    """Log an unexpected exception by its class and stack only, never by its text.

    Its text may quote the request it failed on, credentials included (requests' encoding
    errors quote the token); the stack (file, line, code) is enough to find the bug.
    """
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s failed with %s (text withheld: it may quote credentials)\n%s",
              tenant_label(tenant), what, type(exc).__name__, stack)
