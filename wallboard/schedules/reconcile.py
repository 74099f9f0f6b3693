"""Reconcile the locally computed status with the one 8x8's /status endpoint gave.

The local evaluation runs every cycle; /status is asked every few minutes as a check. When
they disagree, 8x8 is the authority (its rules may differ from ours in a corner we do not
know), so its answer is used until the next refresh. One exception: if the local status
changed after 8x8 was asked, the API answer describes the previous period and local wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wallboard.schedules.codes import parse_status, status_label, status_state

if TYPE_CHECKING:
    from wallboard.schedules.engine import ScheduleState


@dataclass(frozen=True)
class ReconciledState:
    """Which status to show, and both answers for a log line or the health surface."""

    status: int
    label: str
    state: str
    source: str  # "local" or "api"
    agree: bool | None  # None when there is no API answer to compare with
    local_status: int
    api_status: int | None
    checked_at: datetime | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for /healthz and logs."""
        return {
            "status": self.status,
            "label": self.label,
            "state": self.state,
            "source": self.source,
            "agree": self.agree,
            "local_status": self.local_status,
            "api_status": self.api_status,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "reason": self.reason,
        }

    def log_line(self) -> str:
        """One line saying what was used and why."""
        api = status_label(self.api_status) if self.api_status is not None else "none"
        return (
            f"schedule status {self.label} from {self.source}: local {status_label(self.local_status)}, "
            f"api {api} ({self.reason})"
        )


def reconcile(local: ScheduleState, api_status: int | str | None, checked_at: datetime | None) -> ReconciledState:
    """Decide between the local state and the API's status fetched at checked_at.

    api_status may be None (no answer yet): the local status is used. A string status is
    parsed with parse_status (ValueError on garbage, as for any other status).
    """
    if api_status is None:
        return _result(local, None, checked_at, local.status, "local", None, "no API answer")
    api = parse_status(api_status)
    if api == local.status:
        return _result(local, api, checked_at, api, "local", True, "agree")
    since = getattr(local, "since", None)
    if since is not None and checked_at is not None and checked_at < since:
        reason = f"API answer predates the scheduled change at {since.isoformat()}"
        return _result(local, api, checked_at, local.status, "local", False, reason)
    return _result(local, api, checked_at, api, "api", False, "disagree: API wins until the next refresh")


def _result(
    local: ScheduleState,
    api: int | None,
    checked_at: datetime | None,
    status: int,
    source: str,
    agree: bool | None,
    reason: str,
) -> ReconciledState:
    """Build a ReconciledState showing status."""
    return ReconciledState(
        status=status,
        label=status_label(status),
        state=status_state(status),
        source=source,
        agree=agree,
        local_status=local.status,
        api_status=api,
        checked_at=checked_at,
        reason=reason,
    )
