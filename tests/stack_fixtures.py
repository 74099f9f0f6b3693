"""The whole stack as real processes for fault tests, and a websocket client that acts like a TV.

One small stack (40 agents, 6 queues, its own Redis and database) is shared by a test module;
each test injects one fault, watches what a screen sees, and leaves the stack as it found it.

The stack's database is on the suite's engine: a SQLite file in its run folder, as `make run`
has it, or, when the suite runs on PostgreSQL, a PostgreSQL database of its own made for it and
dropped when it stops (tests/databases.py), so production's database is the one the real
processes write to.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import tempfile
import threading
import time
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonpatch
import psycopg
from websockets.sync.client import connect

from tests import databases
from tests.helpers import wait_for
from wallboard.devstack.stack import Stack

# Numbers the session's stack databases (`<session's database>_s1`, `_s2`...).
_stack_numbers = itertools.count(1)


@dataclass
class PostgresqlStack(Stack):
    """A Stack on a PostgreSQL database of its own: created when it starts, dropped when it stops."""

    claim: databases.Claim | None = field(default=None, repr=False)
    database: str = ""

    def start(self, *, simulator: bool = True) -> Stack:
        if self.claim is None:
            raise RuntimeError("the suite is not running on PostgreSQL: use new_stack()")
        self.database = databases.stack_database_name(self.claim.database, next(_stack_numbers))
        self.claim.create_database(self.database)
        self.database_url = databases.subprocess_database_url(os.environ["DATABASE_URL"], self.database)
        return super().start(simulator=simulator)  # migrates it, as `make run` migrates its SQLite file

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            if self.claim is not None and self.database:
                self.claim.drop_database(self.database)
                self.database = ""


def new_stack(run_dir: str | Path, **options: Any) -> Stack:
    """A Stack (not started) on the suite's database engine: see the module's docstring."""
    claim = databases.session_claim()
    if claim is None:
        return Stack(Path(run_dir), **options)
    return PostgresqlStack(Path(run_dir), claim=claim, **options)


def stack_rows(stack: Stack, query: str) -> list[tuple]:
    """Rows of a query (no parameters) on the stack's own database, SQLite or PostgreSQL."""
    url = stack.database_url or ""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20)) as db:
            return db.execute(query).fetchall()
    with psycopg.connect(url, connect_timeout=10) as db:
        return db.execute(query).fetchall()


def start_stack(**env: str) -> Stack:
    """A small stack in a short temporary folder (unix socket paths are limited to ~100 chars)."""
    stack = new_stack(tempfile.mkdtemp(prefix="wb-"), agents=40, queues=6, env_extra=env)
    try:
        stack.start()
    except Exception:
        stack.stop()
        raise
    return stack


def display_cookie(stack: Stack) -> str:
    """The `wb_display` cookie the kiosk URL sets (read from the redirect, not followed)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        response = urllib.request.build_opener(NoRedirect).open(stack.kiosk_url, timeout=10)
    except urllib.error.HTTPError as exc:
        response = exc
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith("wb_display="):
            return header.split(";", 1)[0]
    raise AssertionError("the kiosk URL set no wb_display cookie")


def sim(stack: Stack, path: str, body: dict | None = None, method: str | None = None) -> dict:
    """Call the simulator's control endpoint."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.sim_url + path, data=data, method=method or ("POST" if data else "GET"))
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else {}


class Screen:
    """A kiosk page reduced to its protocol, in a thread: applies patches, resyncs, reconnects.

    It records what a person in front of the TV would care about: the board state (applying
    every patch to the last snapshot), the latest health status and when it arrived, and every
    way the stream could have lost something (a seq gap within an epoch, a patch that does not
    apply).
    """

    def __init__(self, url: str, headers: dict[str, str]):
        self.url, self.headers = url, headers
        self.lock = threading.Lock()
        self.epoch: str | None = None
        self.seq = 0
        self.data: dict | None = None
        self.as_of: str | None = None
        self.status: dict = {}
        self.statuses: list[tuple[float, str]] = []
        self.messages = self.patches = self.snapshots = self.resyncs = self.gaps = self.connects = 0
        self.epochs: list[str] = []
        self.errors: list[str] = []
        self.waiting = False  # a resync was asked for: patches are ignored until the snapshot
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Screen:
        self.thread.start()
        wait_for(lambda: self.data is not None, 30, "first snapshot")
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(10)

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                with connect(self.url, additional_headers=self.headers, max_size=None, open_timeout=10,
                             close_timeout=1) as ws:
                    self.connects += 1
                    while not self.stopped.is_set():
                        try:
                            text = ws.recv(timeout=0.2)
                        except TimeoutError:
                            continue
                        self._handle(ws, json.loads(text))
            except Exception:  # refused while the web process restarts, or dropped: retry like the page
                time.sleep(0.3)

    def _handle(self, ws, message: dict) -> None:
        with self.lock:
            self.messages += 1
            kind, epoch, seq = message["type"], message.get("epoch"), message.get("seq") or 0
            if kind == "snapshot":
                self.snapshots += 1
                self.waiting = False
                self.data, self.as_of = message["data"], message["as_of"]
                self._set_status(message["status"])
                self._set_head(epoch, seq)
                return
            if kind == "status":
                self._set_status(message["status"])
            if epoch is None or kind == "control":
                return
            if epoch != self.epoch:
                self._resync(ws)
                return
            if seq <= self.seq or self.waiting:
                return
            if seq != self.seq + 1:
                self.gaps += 1
                self._resync(ws)
                return
            self.seq = seq
            if kind == "patch":
                self.patches += 1
                try:
                    self.data = jsonpatch.apply_patch(self.data, message["ops"])
                except jsonpatch.JsonPatchException as exc:
                    self.errors.append(f"patch {seq} did not apply: {exc}")
                self.as_of = message["as_of"]

    def _set_head(self, epoch: str, seq: int) -> None:
        if epoch not in self.epochs:
            self.epochs.append(epoch)
        self.epoch, self.seq = epoch, seq

    def _set_status(self, status: dict) -> None:
        self.status = status
        if not self.statuses or self.statuses[-1][1] != status.get("state"):
            self.statuses.append((time.monotonic(), status.get("state")))

    def _resync(self, ws) -> None:
        self.resyncs += 1
        self.waiting = True
        ws.send('{"type": "resync"}')

    # --- what tests ask -----------------------------------------------------------------------

    def state(self) -> str | None:
        return self.status.get("state")

    def wait_state(self, state: str, timeout: float) -> float:
        """Wait for the board's status to be `state`; return how long it took."""
        started = time.monotonic()
        wait_for(lambda: self.state() == state, timeout, f"board status {state!r} (is {self.state()!r})")
        return time.monotonic() - started

    def wait_patches(self, count: int, timeout: float) -> None:
        """Wait until `count` more patches have been applied."""
        target = self.patches + count
        wait_for(lambda: self.patches >= target, timeout, f"{count} more patches")

    def shows_data(self) -> bool:
        """The board still shows every queue and agents: nothing was blanked by the fault."""
        data = self.data or {}
        return bool(data.get("queues")) and bool(data.get("agents"))
