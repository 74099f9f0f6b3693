"""One 8x8 client (and so one HTTP session and one in-flight slot) per tenant per process."""

from __future__ import annotations

import hashlib
import threading

from django.conf import settings

_clients: dict[int, tuple[str, object]] = {}
_lock = threading.Lock()


def _fingerprint(tenant) -> str:
    # A changed URL, name, token or format in admin must give a fresh client.
    raw = "\0".join([tenant.base_url, tenant.tenant_name, tenant.token, tenant.response_format])
    return hashlib.sha256(raw.encode()).hexdigest()


def client_for(tenant):
    """Return this process's client for the tenant, creating it when its settings changed."""
    from wallboard.vcc.client import VccClient

    fingerprint = _fingerprint(tenant)
    with _lock:
        cached = _clients.get(tenant.pk)
        if cached and cached[0] == fingerprint:
            return cached[1]
        client = VccClient(
            tenant.base_url,
            tenant.tenant_name,
            tenant.token,
            fmt=tenant.response_format,
            connect_timeout=settings.VCC_CONNECT_TIMEOUT,
            read_timeout=settings.VCC_READ_TIMEOUT,
            max_bytes=settings.VCC_MAX_BODY_BYTES,
        )
        _clients[tenant.pk] = (fingerprint, client)
        return client
