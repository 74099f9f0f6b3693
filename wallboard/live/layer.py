"""The channel layer: channels-redis's pub/sub layer, reading each group message once.

The pub/sub layer receives a group message from Redis once per process and queues the very
same bytes for every member channel, but each consumer then deserialises its own copy: with a
thousand screens on a board, a 60 kB patch became a thousand 60 kB strings (60 MB a cycle to
allocate, decode and free), and every idle consumer kept its last copy alive (about 15 kB per
connection on average; docs/performance.md, "Fan-out"). Here the bytes of the last message are
remembered with their decoded form, and consumers get a shallow copy of it: their own dict,
sharing the one (immutable) text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

from channels_redis.pubsub import RedisPubSubChannelLayer


class SharedPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer that decodes the same received bytes only once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last: tuple[bytes, dict[str, Any]] | None = None
        self._last_lock = threading.Lock()  # one layer per process, one loop per thread

    def deserialize(self, message: bytes) -> dict[str, Any]:
        with self._last_lock:
            last = self._last
            if last is not None and last[0] is message:
                return dict(last[1])
        # channels-redis is untyped; its deserialize gives back the message dict that was sent.
        base_deserialize = cast(Callable[[bytes], dict[str, Any]], super().deserialize)
        value = base_deserialize(message)
        with self._last_lock:
            # The bytes object is kept, so its id cannot be reused by another message meanwhile.
            self._last = (message, value)
        return dict(value)
