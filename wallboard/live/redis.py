"""The one Redis connection pool per process for board state, locks and the catalogue.

Here because `live` is the lowest layer that talks to Redis (the board store): polling and
campaigns, which keep their locks, dispatch keys and catalogue in the same Redis, sit above
it and import it downward; boards, schedules and vcc never touch Redis.
"""

from __future__ import annotations

import os
import threading
from typing import cast

import redis
from django.conf import settings

_pool: tuple[int, str, redis.Redis] | None = None
_lock = threading.Lock()


def get_redis() -> redis.Redis:
    """A client for settings.REDIS_URL; re-created after fork or when the URL changes."""
    global _pool
    # settings.py always sets it (env_url with a default); env_url is typed str | None.
    url = cast(str, settings.REDIS_URL)
    pid = os.getpid()
    with _lock:
        if _pool is None or _pool[0] != pid or _pool[1] != url:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=30)
            _pool = (pid, url, client)
        return _pool[2]
