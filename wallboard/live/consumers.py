"""The board websocket: authenticate, join the board's group, send the snapshot, forward."""

from __future__ import annotations

import json
import logging
import time

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
        board = await database_sync_to_async(store.load)(self.slug)
        if board is None:
            # Nothing computed yet: the first poll will start an epoch and the page resyncs.
            await self.send(text_data=json.dumps(
                {"type": "status", "board": self.slug, "epoch": None, "seq": 0, "as_of": None,
                 "status": {"state": "pending", "since": None, "last_ok": None,
                            "message": "Waiting for the first data from 8x8."}}
            ))
            return
        await self.send(text_data=store.snapshot_text(self.slug, board, wallboard.__version__))

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
        from wallboard.boards.access import display_is_active

        now = time.monotonic()
        cached = _active_cache.get(self.display_id)
        if cached and now - cached[0] < ACTIVE_CACHE_SECONDS:
            return cached[1]
        active = await database_sync_to_async(display_is_active)(self.display_id)
        _active_cache[self.display_id] = (now, active)
        return active
