"""The words of every alert: subjects, details, start and clear messages, digests.

Plain text (Apprise turns it into what each service wants). Names typed by people (boards,
queues, tenants) go in as they are: the text is never HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wallboard.boards.models import QUEUE_METRICS, Tenant, TenantHealth
from wallboard.schedules.codes import status_label

if TYPE_CHECKING:
    from wallboard.alerts.models import AlertEvent
    from wallboard.alerts.rules import Transition

METRIC_LABELS = dict(QUEUE_METRICS)
DIGEST_LINES = 50


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def metric_subject(board_title: str, entry: Any, metric: str, level: str) -> str:
    kind = "group" if entry.get("kind") == "group" else "queue"
    return f"{board_title}: {kind} {entry['name']}: {metric_label(metric)} at {level}"


def metric_detail(entry: Any, metric: str, value: Any, level: str) -> str:
    shown = "no data" if value is None else value
    return f"{metric_label(metric)} = {shown} ({level})"


def feed_subject(tenant: Tenant, health: TenantHealth) -> str:
    return f"8x8 feed of {tenant.name}: {health.get_state_display().lower()}"


def feed_detail(health: TenantHealth) -> str:
    since = health.since.strftime("%Y-%m-%d %H:%M UTC") if health.since else "unknown"
    return f"unhealthy since {since}: {health.message}"[:300]


def schedule_subject(board_title: str, schedule_id: str) -> str:
    return f"{board_title}: schedule {schedule_id} disagrees with 8x8"


def schedule_detail(result: dict[str, Any]) -> str:
    local, api = result.get("local_status"), result.get("api_status")
    ours = status_label(local) if isinstance(local, int) else "unknown"
    theirs = status_label(api) if isinstance(api, int) else "unknown"
    return f"our evaluation says {ours}, 8x8 says {theirs}; 8x8's answer is shown until the next refresh"


def duration_text(seconds: int | None) -> str:
    """`1 h 5 min`, `12 min 30 s`, `45 s`."""
    if seconds is None:
        return "unknown"
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def transition(event: AlertEvent, phase: str) -> tuple[str, str, str]:
    """Title, body and Apprise notify type of one start or clear."""
    started = event.started.strftime("%Y-%m-%d %H:%M:%S UTC")
    if phase == "start":
        body = f"{event.subject}\n{event.detail}\nStarted {started}.\nRule: {event.rule.name}"
        return f"ALERT: {event.subject}", body, "failure" if event.level in ("alert", "disagree") else "warning"
    reason = f" ({event.clear_reason})" if event.clear_reason else ""
    lasted = duration_text(event.duration_seconds)
    body = f"{event.subject}\nCleared{reason} after {lasted} (started {started}).\nRule: {event.rule.name}"
    return f"Cleared: {event.subject} after {lasted}", body, "success"


def digest(items: Sequence[Transition]) -> tuple[str, str, str]:
    """One message for many starts and clears of one cycle."""
    started = sum(1 for t in items if t.phase == "start")
    cleared = len(items) - started
    lines = []
    for t in items[:DIGEST_LINES]:
        if t.phase == "start":
            lines.append(f"ALERT {t.event.subject}: {t.event.detail}")
        else:
            lines.append(f"cleared {t.event.subject} after {duration_text(t.event.duration_seconds)}")
    if len(items) > DIGEST_LINES:
        lines.append(f"… and {len(items) - DIGEST_LINES} more (see the delivery log in admin)")
    title = f"{started} alert(s) started, {cleared} cleared"
    return title, "\n".join(lines), "failure" if started else "success"
