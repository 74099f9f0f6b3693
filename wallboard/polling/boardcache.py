"""The tenant row and its boards' configurations, kept in process memory between polls.

Each poll read the tenant and built every board's configuration from the database: about
half of the cycle's queries and a third of its CPU (docs/performance.md, "Many tenants"), for
rows that change only when someone edits them in admin. Now each poll asks Redis for one
version token (one GET) and rebuilds only when it changed. The token changes whenever a row
that a configuration is built from is saved or deleted (wallboard.polling.signals), at once
and again when the transaction commits: a poll between the two may cache the old rows under
the first token, never under the second. A token is a random string, not a counter, so a
Redis that lost its data never hands back a token some process cached before. Whatever
changes rows without signals (a queryset's update(), a raw SQL edit) is picked up within
MAX_AGE seconds. Secrets are decrypted when the row is read, so other encryption keys (settings)
read it again too.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings

from wallboard.boards.models import Tenant
from wallboard.boards.selectors import board_configs_for_tenant
from wallboard.boards.state import BoardConfig
from wallboard.live.redis import get_redis

VERSION_KEY = "wb:boards:config-version"
# The longest a cached copy is used without being read again, whatever the token says.
MAX_AGE = 60.0


@dataclass(frozen=True)
class _Entry:
    version: str
    keys: tuple[str, ...]  # the encryption keys the tenant's secrets were decrypted with
    at: float
    tenant: Tenant | None  # None: no such tenant (deleted)
    configs: tuple[BoardConfig, ...]


_entries: dict[int, _Entry] = {}
_lock = threading.Lock()


def configs_changed() -> None:
    """Make every process read tenants and boards from the database at its next poll."""
    get_redis().set(VERSION_KEY, uuid.uuid4().hex)


def current_version() -> str:
    """The version token, made when Redis has none (first use, or Redis lost it)."""
    client = get_redis()
    version = client.get(VERSION_KEY)
    if version is None:
        client.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
        version = client.get(VERSION_KEY)
    return version.decode() if isinstance(version, bytes) else str(version)


def _entry(tenant_id: int) -> _Entry:
    version = current_version()
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    now = time.monotonic()
    with _lock:
        entry = _entries.get(tenant_id)
    if entry is not None and entry.version == version and entry.keys == keys and now - entry.at < MAX_AGE:
        return entry
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    configs = tuple(board_configs_for_tenant(tenant)) if tenant is not None else ()
    entry = _Entry(version, keys, now, tenant, configs)
    with _lock:
        _entries[tenant_id] = entry
    return entry


def tenant(tenant_id: int) -> Tenant | None:
    """The tenant's row as of the current version: a copy of its own for the caller.

    A copy, because a poll caches related rows on the instance it holds (its health row):
    the next poll must not see them.
    """
    cached = _entry(tenant_id).tenant
    return copy.copy(cached) if cached is not None else None


def board_configs(tenant_id: int) -> list[BoardConfig]:
    """Every board configuration of the tenant as of the current version (frozen, so shared)."""
    return list(_entry(tenant_id).configs)


def forget() -> None:
    """Drop every cached tenant and configuration in this process (tests, benchmarks)."""
    with _lock:
        _entries.clear()
