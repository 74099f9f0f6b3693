"""The board websocket: authenticate, join the board's group, send the snapshot, forward.

Every refusal is sent after accepting, as a close code (4401, 4403, 4404; docs/protocol.md):
a browser cannot read why a handshake was refused, and the TV must tell "not allowed" from
"network down". While a socket is open its credential is re-checked against the database
every few seconds, by the consumer itself, so revocation does not depend on Redis delivering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

import wallboard
from wallboard.boards import access
from wallboard.boards.access import authorize_websocket
from wallboard.live import messages, store
from wallboard.live.publish import board_group, display_group

log = logging.getLogger(__name__)
T = TypeVar("T")

CLOSE_FORBIDDEN = 4403
CLOSE_REVOKED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
# A misbehaving page must not turn resyncs into a load test of Redis.
MIN_RESYNC_INTERVAL = 1.0
# The only thing a page sends is {"type": "resync"} (17 bytes): anything much longer is refused
# unread, which also bounds how deep a JSON document can nest before it is parsed.
MAX_CLIENT_MESSAGE = 1024
# How often an open socket re-checks its credential against the database. Together with the
# cache below a revocation ends the stream within 8 s, inside one 10 s poll cycle.
ACCESS_CHECK_SECONDS = 5.0
# Sockets asking the same question share the answer for a few seconds, so a thousand screens
# of one display cost one query, not a thousand.
ACTIVE_CACHE_SECONDS = 3.0
# How long a snapshot read from Redis serves screens connecting after it, unless a board
# message arrives first (which drops it; BoardAudience.snapshot_text).
RECENT_SNAPSHOT_SECONDS = 1.0
PRUNE_EVERY_SECONDS = 60.0
# A board's listener that failed to read a message tries again after this long, not in a spin.
LISTENER_RETRY_SECONDS = 0.1


class AnswerCache:
    """Access answers by question, each with the monotonic time it was asked.

    Questions are ("display", id), ("display-board", id, token prefix, board id) or ("session",
    user id, session key, board id). Session keys come and go, so answers too old to be used are
    dropped now and then (a pass over the dict, at most once every PRUNE_EVERY_SECONDS).
    """

    def __init__(self) -> None:
        self._answers: dict[tuple[Any, ...], tuple[float, bool]] = {}
        self._last_pruned: float | None = None

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: tuple[Any, ...], now: float, max_age: float) -> bool | None:
        """The answer asked less than `max_age` seconds before `now`, else None."""
        cached = self._answers.get(key)
        if cached and now - cached[0] < max_age:
            return cached[1]
        return None

    def remember(self, key: tuple[Any, ...], asked: float, answer: bool, max_age: float) -> None:
        """Keep an answer; now and then drop every answer older than `max_age` at `asked`."""
        self._answers[key] = (asked, answer)
        if self._last_pruned is None or asked - self._last_pruned > PRUNE_EVERY_SECONDS:
            self._last_pruned = asked
            for old in [k for k, (when, _) in self._answers.items() if asked - when > max_age]:
                del self._answers[old]

    def clear(self) -> None:
        """Forget every answer (a test's database hands the same ids out again)."""
        self._answers.clear()


answers = AnswerCache()
# The check in progress per (event loop, question): the thousand screens that ask in the same
# instant await one query instead of queueing a thousand behind each other in the database
# thread (which spread one cycle's delivery over hundreds of milliseconds).
_active_checks: dict[tuple[int, tuple[Any, ...]], asyncio.Future[Any]] = {}


class BadFrame(Exception):
    """A client frame no page of ours sends; `code` is the close code it earns."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code


def read_client_message(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    """The JSON object a page sent, or BadFrame: never a deep parse, never an uncaught error."""
    if text_data is None:
        raise BadFrame(CLOSE_UNSUPPORTED_DATA, "binary frame")
    if len(text_data) > MAX_CLIENT_MESSAGE:
        raise BadFrame(CLOSE_TOO_BIG, f"frame of {len(text_data)} characters")
    try:
        message = json.loads(text_data)
    except (ValueError, RecursionError):
        raise BadFrame(CLOSE_POLICY, "frame is not JSON") from None
    if not isinstance(message, dict):
        raise BadFrame(CLOSE_POLICY, "frame is not a JSON object")
    return message


class BoardConsumer(AsyncWebsocketConsumer):
    """One browser watching one board."""

    async def connect(self) -> None:
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.groups_joined: list[str] = []
        self.board_id = self.display_id = self.user_id = self.token_prefix = self.session_key = None
        self.closing = False
        self.watch_timer: asyncio.TimerHandle | None = None
        self.watcher: asyncio.Task[None] | None = None  # only while a check runs
        self.last_resync = 0.0
        self.audience: BoardAudience | None = None
        # Board messages held while a snapshot is read and sent (or a send waits for the socket).
        self.pending: list[str] | None = []
        self.sender: asyncio.Future[None] | None = None
        verdict = await authorize(self.scope, self.slug)
        await self.accept()
        if not verdict.allowed:
            log.info("websocket refused for board %s: %s", self.slug, verdict.reason)
            await self._close(CLOSE_NOT_FOUND if verdict.reason == "unknown board" else CLOSE_FORBIDDEN)
            return
        self.board_id = verdict.board_id
        self.display_id = verdict.display_id
        self.token_prefix = verdict.token_prefix
        self.user_id = verdict.user_id
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        self._watch_later()
        self.audience = await BoardAudience.join(self.slug, self)
        if self.display_id is not None:
            await self._join(display_group(self.display_id))
        await self.send_snapshot()
        await self._send_pending()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' consumer loop; however it ends, the screen leaves its board's audience.

        disconnect() does that when the socket closes, but a handler that raised ends the
        consumer without it: the screen must not stay behind, holding the board's messages.
        """
        try:
            await super().__call__(scope, receive, send)
        finally:
            audience = getattr(self, "audience", None)
            if audience is not None:
                self.closing = True
                self.audience = None
                await audience.leave(self)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Run the message's handler, without Channels' hop through the database thread first.

        Channels (4.2+) awaits close_old_connections() in the one thread-sensitive sync thread
        before every handler. A board message reaches every screen in the same instant, so
        each cycle queued one such hop per screen behind each other in that thread: the last
        of 2,500 screens waited for 2,499 hops (docs/performance.md, "Fan-out"). Nothing here
        uses the database on the event loop: every query goes through database_sync_to_async,
        which closes stale connections around itself in the thread that runs it.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def disconnect(self, code: int) -> None:
        self.closing = True  # no re-check is armed from here on
        timer = getattr(self, "watch_timer", None)
        if timer is not None:
            timer.cancel()
        watcher = getattr(self, "watcher", None)
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        sender = getattr(self, "sender", None)
        if sender is not None:
            sender.cancel()
        audience = getattr(self, "audience", None)
        if audience is not None:
            self.audience = None
            await audience.leave(self)
        for group in getattr(self, "groups_joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:  # Redis down: the layer has forgotten the member already
                log.warning("could not leave %s (Redis down?): %s", group, exc)

    async def _close(self, code: int) -> None:
        """Close once; whatever still arrives before the server's disconnect is dropped."""
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """A page only ever asks for a resync; anything it cannot have sent ends the socket.

        Unknown message types are ignored (a newer page may briefly talk to an older server),
        but oversized, binary or malformed frames close the socket with a code, logged once:
        no page of ours sends them, and parsing them was a way to make the server work.
        """
        if self.closing:
            return
        try:
            message = read_client_message(text_data, bytes_data)
        except BadFrame as bad:
            log.info("websocket closed for board %s: %s", self.slug, bad)
            await self._close(bad.code)
            return
        if message.get("type") != "resync":
            return
        now = time.monotonic()
        if now - self.last_resync < MIN_RESYNC_INTERVAL:
            return
        self.last_resync = now
        # A snapshot is the whole board: never for a credential revoked since the last check.
        code = await self._access_lost()
        if code is not None:
            await self._close(code)
            return
        holding = self.pending is None  # else a sender is already there to send them
        if holding:
            self.pending = []
        await self.send_snapshot()
        if holding:
            await self._send_pending()

    async def send_snapshot(self) -> None:
        if self.audience is not None:
            text = await self.audience.snapshot_text()
        else:
            text = await sync_to_async(snapshot_text, thread_sensitive=False)(self.slug)
        if self.closing:
            return
        if text is None:
            # Nothing computed yet: the first poll will start an epoch and the page resyncs.
            await self.send(text_data=messages.dumps(messages.pending_status(self.slug)))
            return
        await self.send(text_data=text)

    async def board_message(self, event: dict[str, Any]) -> None:
        """A board message sent to this screen's own channel (the board's reach it via BoardAudience)."""
        self.deliver(event["text"])

    def deliver(self, text: str) -> None:
        """Send a board message now, in order, without a task unless the socket makes it wait.

        The board's listener calls this for every screen of the board in the process: the
        send runs at once up to its first wait (none while the socket takes data), so one
        cycle costs a send per screen, not a queue, a task wake-up and a dispatch as well.
        Messages arriving before the snapshot is out, or while a send waits, are held and
        sent after it by the snapshot's sender or by a task that finishes the waiting send.
        """
        if self.closing:
            return
        if self.pending is not None:
            self.pending.append(text)
            return
        try:
            rest = start_now(self.send(text_data=text))
        except Exception as exc:  # the socket is going away; its disconnect follows
            log.debug("board %s: a screen's send failed: %s", self.slug, exc)
            return
        if rest is not None:
            self.pending = []
            self.sender = asyncio.ensure_future(self._finish_sending(rest))

    async def _finish_sending(self, rest: Awaitable[None]) -> None:
        try:
            await rest
            await self._send_pending()
        except Exception as exc:  # as in deliver
            log.debug("board %s: a screen's send failed: %s", self.slug, exc)
        finally:
            self.sender = None

    async def _send_pending(self) -> None:
        """Send the held board messages in order, then let deliver send directly again."""
        while self.pending:
            text = self.pending.pop(0)
            if not self.closing:
                await self.send(text_data=text)
        self.pending = None

    async def display_control(self, event: dict[str, Any]) -> None:
        """An administrator's action for this display: reload, switch board, or revoked.

        A control message carries the board's current epoch, seq and as_of, read from the
        store (docs/protocol.md): it is outside the board's sequence, so seq is not advanced.
        """
        action = event.get("action")
        if action == "revoke":
            await self._close(CLOSE_REVOKED)  # closes once, so a second revoke does nothing
            return
        if action != "reload" and action != "switch":
            log.warning("display control %r for board %s ignored: no such action", action, self.slug)
            return
        try:
            head = await sync_to_async(store.load_head, thread_sensitive=False)(self.slug)
        except Exception as exc:  # Redis errors of every kind: the action matters more than its seq
            log.warning("board %s: no head for a control message (Redis down?): %s", self.slug, exc)
            head = None
        if self.closing:
            return
        message = messages.control_message(self.slug, head, action, event.get("url"))
        await self.send(text_data=messages.dumps(message))

    def _watch_later(self) -> None:
        """Re-check the credential in a few seconds, then again, until the socket closes.

        Independent of the channel layer: a revocation made while Redis is down (so neither
        the admin's "revoke" message nor board messages arrive) still ends the stream. A timer
        while idle and a task only while a check runs: a task sleeping between checks cost
        about 1.5 kB per idle screen (tracemalloc) and woke twice a cycle.
        """
        if not self.closing:
            self.watch_timer = asyncio.get_running_loop().call_later(ACCESS_CHECK_SECONDS, self._start_check)

    def _start_check(self) -> None:
        self.watch_timer = None
        self.watcher = asyncio.ensure_future(self._check_access())

    async def _check_access(self) -> None:
        """One re-check: close the socket once its credential is gone, else check again later."""
        code = await self._access_lost()
        self.watcher = None
        if code is not None:
            log.info("websocket closed for board %s: access ended", self.slug)
            await self._close(code)
            return
        self._watch_later()

    async def _access_lost(self) -> int | None:
        """The close code once this socket's credential no longer admits it, else None.

        A display revoked, expired, given a new URL or no longer showing the board gets 4401; a
        supervisor whose session ended (logged out, password changed, deactivated, deleted) or
        whose grant was removed gets 4403, which the page shows as "not allowed" rather than
        "display revoked".
        """
        if self.display_id is not None:
            if await self._display_still_active() and await self._display_still_shows_board():
                return None
            return CLOSE_REVOKED
        if self.user_id is not None:
            return None if await self._session_still_allowed() else CLOSE_FORBIDDEN
        return None

    async def _display_still_active(self) -> bool:
        return await _shared_check(("display", self.display_id), access.display_is_active, self.display_id)

    async def _display_still_shows_board(self) -> bool:
        key = ("display-board", self.display_id, self.token_prefix, self.board_id)
        return await _shared_check(key, access.display_still_shows, self.display_id, self.token_prefix, self.board_id)

    async def _session_still_allowed(self) -> bool:
        key = ("session", self.user_id, self.session_key, self.board_id)
        return await _shared_check(key, access.session_may_view, self.user_id, self.session_key, self.board_id)


class BoardAudience:
    """The screens of one board in this process (one event loop): one member of the board's group.

    The pub/sub layer put each board message into every screen's queue, and each screen's task
    woke to take it, dispatch it and send it: per screen about as much CPU again as the send
    (docs/performance.md, "Fan-out"), which spread one cycle's delivery over seconds at 2,500
    screens a process. Here one channel per board and process is in the group, and one task
    reads it and hands each message to every screen's deliver().
    """

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.loop = asyncio.get_running_loop()
        # Any: BaseChannelLayer declares no groups and a new_channel without a prefix.
        self.layer: Any = get_channel_layer()
        self.screens: dict[BoardConsumer, None] = {}  # a dict: screens in the order they came
        self.joining = 0
        self.channel: str | None = None
        self.listener: asyncio.Task[None] | None = None
        # The snapshot last read by a screen of the audience, with when the read began, and
        # when the last board message passed: a snapshot read since is still the board's.
        self.recent: tuple[float, str] | None = None
        self.moved = float("-inf")
        self.ready: asyncio.Future[None] = asyncio.ensure_future(self._subscribe())

    @classmethod
    async def join(cls, slug: str, screen: BoardConsumer) -> BoardAudience:
        """Add a screen to its board's audience, once the audience is in the board's group."""
        audience = _audiences.get(slug)
        if audience is None or audience.loop is not asyncio.get_running_loop() or audience.layer is not get_channel_layer():
            audience = _audiences[slug] = cls(slug)
        audience.joining += 1
        try:
            await asyncio.shield(audience.ready)
        except BaseException:
            audience.joining -= 1
            if _audiences.get(slug) is audience and not audience.screens and not audience.joining:
                del _audiences[slug]  # the next screen tries again
            raise
        audience.joining -= 1
        audience.screens[screen] = None
        return audience

    async def leave(self, screen: BoardConsumer) -> None:
        """Remove a screen; the last one out takes the board's channel out of the group."""
        self.screens.pop(screen, None)
        if self.screens or self.joining:
            return
        if _audiences.get(self.slug) is self:
            del _audiences[self.slug]
        if self.listener is not None:
            self.listener.cancel()  # the layer drops the channel when its receive is cancelled
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        if self.channel is not None:
            try:
                await self.layer.group_discard(board_group(self.slug), self.channel)
            except Exception as exc:  # Redis down: the layer has forgotten the member already
                log.warning("could not leave %s (Redis down?): %s", board_group(self.slug), exc)

    async def snapshot_text(self) -> str | None:
        """The board's snapshot for a screen of the audience: one read for the screens connecting together.

        After a restart thousands of screens connect within seconds, and each read the board's
        head from Redis in the thread pool. A snapshot read while the audience was in the
        board's group, with no board message since, is still current: any later message
        reaches the screen after it, as it would after a fresh read.
        """
        recent = self.recent
        if recent is not None and time.monotonic() - recent[0] < RECENT_SNAPSHOT_SECONDS:
            return recent[1]
        return await _together(("snapshot", self), self._read_snapshot)

    async def _read_snapshot(self) -> str | None:
        started = time.monotonic()
        text = await sync_to_async(snapshot_text, thread_sensitive=False)(self.slug)
        if text is not None and self.moved < started:
            self.recent = (started, text)
        return text

    async def _subscribe(self) -> None:
        self.channel = await self.layer.new_channel("board.")
        await self.layer.group_add(board_group(self.slug), self.channel)
        self.listener = asyncio.ensure_future(self._listen(self.channel))

    async def _listen(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except Exception:  # one bad message must not silence the board for every screen
                log.exception("board %s: could not read a board message", self.slug)
                await asyncio.sleep(LISTENER_RETRY_SECONDS)
                continue
            if message.get("type") != "board.message":
                continue
            self.moved, self.recent = time.monotonic(), None  # the next screen reads Redis again
            text = message["text"]
            for screen in list(self.screens):
                screen.deliver(text)


# The audience of each board with screens in this process (at most one per board: one loop).
_audiences: dict[str, BoardAudience] = {}


def start_now(coroutine: Coroutine[Any, Any, None]) -> Awaitable[None] | None:
    """Run a coroutine until it first waits: None when it finished, else what runs the rest.

    What an eagerly started task does (Python 3.12), without a task for the sends that
    never wait. The rest must be awaited (by a task) for the coroutine to finish.
    """
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return _resume(coroutine, waiting_on)


@types.coroutine
def _resume(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> Generator[Any, Any, None]:
    """Drive a started coroutine on from the future it waits on, as `await` would have."""
    while True:
        try:
            try:
                sent = yield waiting_on
            except BaseException as exc:  # cancelled while waiting: hand it on
                waiting_on = coroutine.throw(exc)
            else:
                waiting_on = coroutine.send(sent)
        except StopIteration:
            return


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any websocket path that is not a board's: accepted and closed with 4404.

    Without it the router raises, which the server answers with HTTP 500 and a traceback.
    """

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)


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
    text = messages.snapshot_text(slug, board, wallboard.__version__)
    _snapshots[slug] = ((board.epoch, board.seq), text)
    return text


async def _shared_check(key: tuple[Any, ...], check: Callable[..., bool], *args: Any) -> bool:
    """Ask the database `check(*args)` once for every socket asking the same now, and cache it.

    A failed query (database down) keeps the socket: revoking needs the database too, and
    closing every screen on a database blip would make the TVs flap.
    """
    cached = answers.get(key, time.monotonic(), ACTIVE_CACHE_SECONDS)
    if cached is not None:
        return cached
    answer: bool = await _together(key, lambda: _ask(key, check, *args))
    return answer


async def _together(key: tuple[Any, ...], start: Callable[[], Awaitable[T]]) -> T:
    """Await the run of `start()` in progress for `key` on this loop, or start one.

    Nothing is kept once it is done: only the callers arriving while it runs share it. One
    caller cancelled (its socket closed) does not cancel it for the others.
    """
    running_key = (id(asyncio.get_running_loop()), key)
    running = _active_checks.get(running_key)
    if running is None:
        running = asyncio.ensure_future(start())
        _active_checks[running_key] = running
        running.add_done_callback(lambda _: _active_checks.pop(running_key, None))
    result: T = await asyncio.shield(running)
    return result


async def authorize(scope: Mapping[str, Any], slug: str) -> access.Access:
    """authorize_websocket for a handshake, asked once for the screens of a display arriving together.

    After a restart every screen reconnects within seconds, and each handshake was one query
    run after another in Channels' one database thread, each on a new connection (half the
    web process's samples in the storm; docs/performance.md, "Fan-out"). Without a signed-in
    user the answer depends on the board and the display cookie only, so handshakes with the
    same cookie that arrive while one is being answered take that answer. Only an answer in
    progress is shared, none is kept: a display revoked before a handshake is refused by it.
    """
    if access.signed_in(scope) or not access.origin_allowed(scope):
        verdict: access.Access = await database_sync_to_async(authorize_websocket)(scope, slug)
        return verdict
    cookie = access.display_cookie(scope)
    agent, ip = access.user_agent(scope), access.client_ip(scope)
    ask = database_sync_to_async(access.authorize_display)
    return await _together(("handshake", slug, cookie), lambda: ask(slug, cookie, agent, ip))


async def _ask(key: tuple[Any, ...], check: Callable[..., bool], *args: Any) -> bool:
    started = time.monotonic()
    try:
        answer = await database_sync_to_async(check)(*args)
    except Exception as exc:  # database errors of every driver
        log.warning("access check %s failed, keeping the socket for now: %s", key[0], exc)
        return True
    answers.remember(key, started, answer, ACTIVE_CACHE_SECONDS)
    return answer
