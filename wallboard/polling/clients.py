"""One 8x8 client (and so one HTTP session and one in-flight slot) per tenant per process."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

from django.conf import settings

from wallboard.boards.crypto import DecryptionError, unreadable_fields, unreadable_message
from wallboard.boards.models import BoardAgentGroup, BoardQueue, QueueGroup, Tenant
from wallboard.polling import analytics_source
from wallboard.polling.analytics_source import TenantClient
from wallboard.vcc.client import VccClient
from wallboard.vcc.errors import VccError

_clients: dict[int, tuple[str, TenantClient]] = {}
_lock = threading.Lock()


def _fingerprint(tenant: Tenant) -> str:
    # A changed URL, name, token, API choice, API key or format in admin must give a fresh client.
    raw = "\0".join(
        [tenant.base_url, tenant.tenant_name, tenant.token, tenant.api, tenant.api_key, tenant.response_format,
         *analytics_source.fingerprint_parts(tenant)]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


class UnreadableSecretError(VccError, DecryptionError):
    """A secret the client needs is stored, but no configured key decrypts it.

    A VccError so every caller that reports 8x8 failures (the poller's health, the admin's
    test connection) reports this one in words without a traceback; its own kind gives it
    its own health state. Nothing is sent: 8x8 would only refuse the placeholder.
    """

    kind = "unreadable_secret"
    prefix = "unreadable secret"

    @property
    def message(self) -> str:
        return self.detail


def unreadable_credentials(tenant: Tenant) -> list[str]:
    """Names of the secrets this tenant's client would send that no configured key decrypts.

    A classic tenant never sends its API key: an unreadable one is shown in admin but does
    not stop polling.
    """
    needed = ["token", "api_key"] if tenant.api == "gateway" else ["token"]
    if analytics_source.uses_analytics(tenant):
        needed += analytics_source.SECRETS
    return [name for name in unreadable_fields(tenant) if name in needed]


def refuse_unreadable(tenant: Tenant) -> None:
    """Raise UnreadableSecretError when a secret this tenant's client would send cannot be read."""
    unreadable = unreadable_credentials(tenant)
    if unreadable:
        raise UnreadableSecretError(unreadable_message(unreadable))


def client_for(tenant: Tenant) -> TenantClient:
    """Return this process's client for the tenant, creating it when its settings changed."""
    refuse_unreadable(tenant)
    fingerprint = _fingerprint(tenant)
    with _lock:
        cached = _clients.get(tenant.pk)
        if cached and cached[0] == fingerprint:
            return cached[1]
        gateway = tenant.api == "gateway"
        client = VccClient(
            tenant.base_url,
            tenant.tenant_name,
            tenant.token,
            fmt=tenant.response_format,
            api=tenant.api,
            api_key=tenant.api_key if gateway else None,
            queue_ids=board_queue_ids(tenant.pk) if gateway else None,
            connect_timeout=settings.VCC_CONNECT_TIMEOUT,
            read_timeout=settings.VCC_READ_TIMEOUT,
            max_bytes=settings.VCC_MAX_BODY_BYTES,
        )
        source = analytics_source.with_analytics(tenant, client)  # Analytics tenants: agents and queues from v5
        _clients[tenant.pk] = (fingerprint, source)
        return source


def forget_clients() -> None:
    """Drop every cached client, so the next client_for builds each one afresh.

    client_for already rebuilds a client whose tenant's own settings or credentials changed
    in admin; it does not notice a change of the process-wide settings it reads once (the
    VCC_* timeouts and body limit). After such a change, or to start over as a new worker
    process would (no HTTP sessions, the shared token read back from Redis), forget them all.
    """
    with _lock:
        _clients.clear()


def board_queue_ids(tenant_id: int) -> Callable[[], list[str]]:
    """The ids of every queue the tenant's boards show, read afresh each time it is called.

    The gateway has no queue list, so a gateway client reads these one by one. Asked at each
    call, not once, because boards change in admin without the client being rebuilt: a queue
    added to a board is polled from the next cycle on.
    """

    def ids() -> list[str]:
        rows = list(
            BoardQueue.objects.filter(board__tenant_id=tenant_id)
            .order_by("board_id", "position", "id")
            .values_list("queue_id", flat=True)
        )
        for model in (QueueGroup, BoardAgentGroup):
            for queue_ids in model.objects.filter(board__tenant_id=tenant_id).order_by("pk").values_list(
                "queue_ids", flat=True
            ):
                rows.extend(str(queue_id) for queue_id in queue_ids or ())
        return list(dict.fromkeys(rows))

    return ids
