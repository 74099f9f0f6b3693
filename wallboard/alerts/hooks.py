"""What the poller calls each cycle (wallboard.polling.cycle): the two points where alerts join in.

Both run under the tenant lock, inside the poll. Neither may ever break a poll: a failure
here is logged and the boards go on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from wallboard.alerts.announcements import republish_locked, with_announcements
from wallboard.alerts.rules import evaluate_cycle
from wallboard.boards.models import Tenant, TenantHealth
from wallboard.boards.state import BoardConfig, BoardState

log = logging.getLogger(__name__)

__all__ = ["after_cycle", "with_announcements"]


def after_cycle(
    tenant: Tenant, health: TenantHealth | None, states: Mapping[str, BoardState], configs: Sequence[BoardConfig],
    at: datetime,
) -> None:
    """After the boards are published: alert rules, and announcements a failed poll did not show.

    `states` is empty when 8x8 failed this cycle or was not called (the upstream hold after a
    timeout): the boards were repeated as stored, so an announcement that started or ended
    since is published here, and only feed and schedule rules are evaluated (from `health`);
    metric rules keep their events until a poll brings figures again.
    """
    try:
        if not states and configs:
            republish_locked([c.slug for c in configs], at, only_changed=True)
        evaluate_cycle(tenant, health, states, at)
    except Exception:
        log.exception("tenant %r (id %s): alerts could not be evaluated this cycle", tenant.name, tenant.pk)
