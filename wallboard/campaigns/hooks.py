"""What the poller calls once per cycle: blending, then each board's campaign badges."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from wallboard.boards.models import Tenant
from wallboard.boards.state import BoardConfig, TenantSnapshot
from wallboard.campaigns.blending import run_blending
from wallboard.campaigns.selectors import badges_by_slug

log = logging.getLogger(__name__)


def with_campaigns(
    tenant: Tenant, configs: list[BoardConfig], snapshot: TenantSnapshot | None, at: datetime
) -> list[BoardConfig]:
    """Run blending on this cycle's queues (when 8x8 answered), then give each board its badges.

    Blending runs before the boards are computed, so an automatic pause is on the board in
    the same cycle. Neither may break a poll: a failure is logged and the boards go out as
    they are.
    """
    if snapshot is not None:
        try:
            run_blending(tenant, snapshot.queues, at)
        except Exception:
            log.exception("tenant %s: campaign blending failed this cycle", tenant.pk)
    if not configs:
        return configs
    try:
        badges = badges_by_slug(tenant.pk, [c.slug for c in configs])
    except Exception:
        log.exception("tenant %s: campaign badges could not be read this cycle", tenant.pk)
        return configs
    return [dataclasses.replace(c, campaigns=tuple(badges.get(c.slug, ()))) for c in configs]
