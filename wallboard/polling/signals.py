"""Keep polling in step with what administrators change."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from redis import RedisError

from wallboard.boards.models import (
    Board,
    BoardAgentGroup,
    BoardQueue,
    ContactNowAccount,
    DisplayBoard,
    QueueGroup,
    Tenant,
    Threshold,
)
from wallboard.polling import boardcache, tod
from wallboard.polling.dispatch import forget_tenant, track_tenant

log = logging.getLogger(__name__)

# Rows a poll's tenant and board configurations are built from (wallboard.polling.boardcache).
# ContactNowAccount: deleting one sets its queues' account to NULL by an update, without their
# own signals.
CONFIG_MODELS: tuple[type[models.Model], ...] = (
    Tenant, Board, BoardQueue, QueueGroup, BoardAgentGroup, Threshold, DisplayBoard, ContactNowAccount,
)


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


def _quietly(what: str, action: Callable[[], None]) -> None:
    """Run a Redis action for a saved row; a Redis that is down must not stop the save."""
    try:
        action()
    except RedisError as exc:
        log.warning("could not %s: %s", what, exc)


def configs_changed(sender: type[models.Model], **kwargs: Any) -> None:
    """A row the polls' cached configurations come from changed: the next poll reads them again.

    At once, and again once the transaction commits: a poll in between may have cached the
    rows as they were before the commit, under the first version (boardcache's docstring).
    """
    _quietly("invalidate the cached board configurations", boardcache.configs_changed)
    transaction.on_commit(lambda: _quietly("invalidate the cached board configurations", boardcache.configs_changed))


for _model in CONFIG_MODELS:
    post_save.connect(configs_changed, sender=_model, dispatch_uid=f"configs_changed_save_{_model.__name__}")
    post_delete.connect(configs_changed, sender=_model, dispatch_uid=f"configs_changed_delete_{_model.__name__}")


def _rebuild_tod_due_set() -> None:
    _quietly("update the ContactNow due set", tod.rebuild_due_set)


@receiver(post_save, sender=ContactNowAccount)
@receiver(post_delete, sender=ContactNowAccount)
def account_changed(sender: type[ContactNowAccount], **kwargs: Any) -> None:
    """An account enabled, disabled, deleted or given a new interval: the due set follows now.

    A newly followed account is refreshed at the next tick instead of within a minute (the
    due set's own rebuild), so its board shows the policy at once. After the commit: the
    rebuild reads the database.
    """
    transaction.on_commit(_rebuild_tod_due_set)


@receiver(post_save, sender=BoardQueue)
@receiver(post_delete, sender=BoardQueue)
def queue_follow_changed(sender: type[BoardQueue], instance: BoardQueue, **kwargs: Any) -> None:
    """A queue that follows a ContactNow account makes that account due at the next tick.

    Only for queues that follow one (an 8x8 queue saved costs nothing more); a queue that stops
    following one leaves its account in the set until the minute's rebuild, a refresh too many.
    """
    if instance.contactnow_account_id:
        transaction.on_commit(_rebuild_tod_due_set)
