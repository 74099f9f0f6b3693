"""Keep polling in step with what administrators change."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from redis import RedisError

from wallboard.boards.models import Tenant
from wallboard.polling.dispatch import forget_tenant, track_tenant

log = logging.getLogger(__name__)


@receiver(post_save, sender=Tenant)
def poll_tenant_soon(sender: type[Tenant], instance: Tenant, **kwargs: Any) -> None:
    """A saved tenant (a fixed token, a new URL) is polled at the next tick, not after a back-off.

    Also how the tick's due sets learn that a tenant was added, enabled or disabled.
    """
    try:
        track_tenant(instance)
    except RedisError as exc:
        # Saving in admin must work even while Redis is down; polling catches up by itself.
        log.warning("could not reschedule polling of tenant %s: %s", instance.pk, exc)


@receiver(post_delete, sender=Tenant)
def stop_polling_tenant(sender: type[Tenant], instance: Tenant, **kwargs: Any) -> None:
    """A deleted tenant leaves the due sets (a missed one is dropped at its next poll)."""
    try:
        forget_tenant(instance.pk)
    except RedisError as exc:
        log.warning("could not stop polling of tenant %s: %s", instance.pk, exc)
