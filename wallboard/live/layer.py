"""The channel layer: channels-redis's pub/sub layer, reading each group message once.

The pub/sub layer receives a group message from Redis once per process and queues the very
same bytes for every member channel, but each consumer then deserialises its own copy: with a
thousand screens on a board, a 60 kB patch became a thousand 60 kB strings (60 MB a cycle to
allocate, decode and free), and every idle consumer kept its last copy alive (about 15 kB per
connection on average; docs/performance.md, "Fan-out"). Here the bytes of the last message are
remembered with their decoded form, and consumers get a shallow copy of it: their own dict,
sharing the one (immutable) text.

Each screen's channel also gets a LightQueue instead of an asyncio.Queue: an empty
asyncio.Queue holds three deques and an Event, each deque with a 64-slot block allocated up
front, about 3 kB per idle screen for a queue that holds one message for a moment each cycle
(tracemalloc with 1,000 screens; docs/performance.md, "Fan-out").
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from channels_redis.pubsub import RedisPubSubChannelLayer

T = TypeVar("T")


class LightQueue(asyncio.Queue[T]):
    """The part of asyncio.Queue a websocket's queues use (put_nowait, get, empty), with no deques.

    Unbounded, for a few readers at most: an idle one holds two empty lists. A subclass only so
    that it can stand where an asyncio.Queue is declared; the rest of asyncio.Queue (join,
    task_done, put, get_nowait, maxsize) is not there and must not be used.
    """

    def __init__(self) -> None:  # asyncio.Queue.__init__ (the deques) is not called, on purpose
        self._items: list[T] = []
        self._waiters: list[asyncio.Future[None]] = []

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        self._wake_one()

    async def get(self) -> T:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                # Woken and cancelled at once: the item it was woken for goes to another reader.
                if self._items:
                    self._wake_one()
                raise
            finally:
                self._waiters.remove(waiter)
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def _wake_one(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
                return


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

    async def new_channel(self, prefix: str = "specific.") -> str:
        """A consumer's channel, as channels-redis makes it, with a LightQueue for its messages.

        Swapped in before the name is returned, so nothing can have been sent to it yet.
        """
        get_layer: Callable[[], Any] = self._get_layer  # channels-redis 4.3 (untyped): this loop's layer
        layer = get_layer()
        channel: str = await layer.new_channel(prefix)
        layer.channels[channel] = LightQueue()
        return channel
