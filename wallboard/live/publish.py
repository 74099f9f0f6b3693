"""The only module that sends to the channel layer.

Everything that reaches a browser goes through here: one already-serialised text per board per
cycle to the board's group, and control messages to one display's group. Sync callers (Celery
tasks, admin actions) share one event loop thread per process, so the channel layer keeps one
Redis connection instead of opening one per message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer

log = logging.getLogger(__name__)

_loop: tuple[int, asyncio.AbstractEventLoop] | None = None
_loop_lock = threading.Lock()
SEND_TIMEOUT = 5.0
# Boards whose last send from this process failed: an outage of the channel layer is logged
# when it starts and when it ends, not on every cycle of every board in between.
_failing: set[str] = set()


def board_group(slug: str) -> str:
    """Channel-layer group of everyone watching a board."""
    return f"board.{slug}"


def display_group(display_id: int) -> str:
    """Channel-layer group of one display's connections."""
    return f"display.{display_id}"


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    pid = os.getpid()
    with _loop_lock:
        if _loop is None or _loop[0] != pid or _loop[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-layer-publisher", daemon=True).start()
            _loop = (pid, loop)
        return _loop[1]


def _layer() -> BaseChannelLayer:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured (CHANNEL_LAYERS)")
    return layer


def _send(group: str, message: dict[str, Any]) -> None:
    future = asyncio.run_coroutine_threadsafe(_layer().group_send(group, message), _event_loop())
    future.result(SEND_TIMEOUT)


def send_board_texts(slug: str, texts: list[str]) -> bool:
    """Send serialised protocol messages to a board's group, in order; False if that failed.

    A failed send loses nothing: the state is already stored, and browsers that miss a
    message see a gap in seq and ask for a snapshot.
    """
    try:
        for text in texts:
            _send(board_group(slug), {"type": "board.message", "text": text})
    except Exception as exc:  # the channel layer raises redis, OS and timeout errors alike
        if slug not in _failing:
            _failing.add(slug)
            log.warning("board %r: could not publish (%s); screens resync when it works again", slug, exc)
        return False
    if slug in _failing:
        _failing.discard(slug)
        log.info("board %r: publishing again", slug)
    return True


def send_display_control(display_id: int, action: str, **payload: str) -> None:
    """Tell one display's open pages to reload, switch board, or close (revoked)."""
    _send(display_group(display_id), {"type": "display.control", "action": action, **payload})


async def asend_display_control(display_id: int, action: str, **payload: str) -> None:
    """The same, from async code."""
    await _layer().group_send(display_group(display_id), {"type": "display.control", "action": action, **payload})
