"""The board websocket: authenticate, join the board's group, send the snapshot, forward."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

import wallboard
from wallboard.live import store
from wallboard.live.publish import board_group, display_group

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
CLOSE_REVOKED = 4401
CLOSE_NOT_FOUND = 4404
# A misbehaving page must not turn resyncs into a load test of Redis.
MIN_RESYNC_INTERVAL = 1.0
# Revocation is re-checked on every board message (once a cycle); screens of one display
# share the answer for a few seconds so a thousand screens cost one query, not a thousand.
ACTIVE_CACHE_SECONDS = 3.0
_active_cache: dict[int, tuple[float, bool]] = {}
# The check in progress per (event loop, display): the thousand screens that receive a board
# message in the same instant await one query instead of queueing a thousand behind each other
# in the database thread (which spread one cycle's delivery over hundreds of milliseconds).
_active_checks: dict[tuple[int, int], asyncio.Future] = {}


class BoardConsumer(AsyncWebsocketConsumer):
    """One browser watching one board."""

    async def connect(self):
        from wallboard.boards.access import authorize_websocket

        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.groups_joined: list[str] = []
        self.display_id = None
        self.last_resync = 0.0
        access = await database_sync_to_async(authorize_websocket)(self.scope, self.slug)
        if not access.allowed:
            log.info("websocket refused for board %s: %s", self.slug, access.reason)
            await self.close(code=CLOSE_NOT_FOUND if access.reason == "unknown board" else CLOSE_FORBIDDEN)
            return
        self.display_id = access.display_id
        await self.accept()
        await self._join(board_group(self.slug))
        if self.display_id is not None:
            await self._join(display_group(self.display_id))
        await self.send_snapshot()

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "resync":
            now = time.monotonic()
            if now - self.last_resync >= MIN_RESYNC_INTERVAL:
                self.last_resync = now
                await self.send_snapshot()

    async def send_snapshot(self) -> None:
        text = await sync_to_async(snapshot_text, thread_sensitive=False)(self.slug)
        if text is None:
            # Nothing computed yet: the first poll will start an epoch and the page resyncs.
            await self.send(text_data=json.dumps(
                {"type": "status", "board": self.slug, "epoch": None, "seq": 0, "as_of": None,
                 "status": {"state": "pending", "since": None, "last_ok": None,
                            "message": "Waiting for the first data from 8x8."}}
            ))
            return
        await self.send(text_data=text)

    async def board_message(self, event):
        """A serialised protocol message for everyone on the board."""
        if self.display_id is not None and not await self._display_still_active():
            await self.close(code=CLOSE_REVOKED)
            return
        await self.send(text_data=event["text"])

    async def display_control(self, event):
        """An administrator's action for this display: reload, switch board, or revoked."""
        action = event.get("action")
        if action == "revoke":
            await self.close(code=CLOSE_REVOKED)
            return
        message = {"type": "control", "board": self.slug, "action": action}
        if action == "switch":
            message["url"] = event.get("url", "/kiosk/")
        await self.send(text_data=json.dumps(message))

    async def _display_still_active(self) -> bool:
        now = time.monotonic()
        cached = _active_cache.get(self.display_id)
        if cached and now - cached[0] < ACTIVE_CACHE_SECONDS:
            return cached[1]
        key = (id(asyncio.get_running_loop()), self.display_id)
        check = _active_checks.get(key)
        if check is None:
            check = asyncio.ensure_future(_check_display(self.display_id))
            _active_checks[key] = check
            check.add_done_callback(lambda _: _active_checks.pop(key, None))
        return await asyncio.shield(check)


# The last snapshot text built per board, with its (epoch, seq): after a restart a thousand
# screens reconnect at once, and each would otherwise pull the whole state out of Redis.
_snapshots: dict[str, tuple[tuple[str, int], str]] = {}


def snapshot_text(slug: str) -> str | None:
    """The board's snapshot message, from the cache when Redis still has the same epoch and seq.

    Redis only (no database), so it runs in the thread pool rather than queueing behind
    database work in the one database thread.
    """
    head = store.load_head(slug)
    if head is None:
        _snapshots.pop(slug, None)
        return None
    cached = _snapshots.get(slug)
    if cached and cached[0] == (head.epoch, head.seq):
        return cached[1]
    board = store.load(slug)
    if board is None:
        return None
    text = store.snapshot_text(slug, board, wallboard.__version__)
    _snapshots[slug] = ((board.epoch, board.seq), text)
    return text


async def _check_display(display_id: int) -> bool:
    """Ask the database once whether a display is still active, and cache the answer."""
    from wallboard.boards.access import display_is_active

    started = time.monotonic()
    active = await database_sync_to_async(display_is_active)(display_id)
    _active_cache[display_id] = (started, active)
    return active
