"""Two web processes on one Redis: every screen on the same seq stream, across a restart of one.

Real processes: the stack of tests/stack_fixtures.py (its own Redis and SQLite, the simulator,
a prefork worker, beat, and web process A), plus a second uvicorn, web process B, started
exactly as Stack.start_web starts A, on a port of its own and the same Redis and database.
Ten screens (the Screen of stack_fixtures: a kiosk page reduced to its protocol) watch the demo
board: five on A, five on B. After a few poll cycles B is stopped with SIGTERM and started
again; its screens reconnect as a page does, three of them through to A (as a proxy sends them
to the process still up) and two back to B once it is up again.

What the protocol guarantees (docs/protocol.md, "Server messages"), and what is checked:

- One stream per board, whichever process delivers it: the message with a given (epoch, seq)
  is the same message on every screen, on both processes.
- Within one connection: `seq` goes up by exactly one per message; no screen ever had to
  resync for a gap. Messages with `seq <=` the snapshot's are covered by it and ignored.
- On (re)connect the server sends a snapshot whose `seq` is the last seq sent to the board's
  group, in the same epoch (a web restart loses nothing in Redis): never behind what the page
  had already applied, and its data equal to the state every other screen reached at that seq
  by applying patches. Messages the page missed while it was away are covered by the snapshot:
  a catch-up, not a gap. No duplicate: no state is applied twice, every step a screen applies
  is the next seq or a snapshot at or after its last one.
- Screens on the process that was not restarted are not disturbed (one connection each).

No timing is asserted: waits only bound how long a broken test hangs.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import defaultdict

import pytest
from websockets.sync.client import connect

from tests.helpers import wait_for
from tests.stack_fixtures import Screen, display_cookie, sim, start_stack
from wallboard.devstack.stack import WS_MAX_SIZE, free_port, wait_for_http

pytestmark = pytest.mark.slow

SCREENS_PER_PROCESS = 5
CYCLES = 3  # poll cycles (10 s each) watched before and after the restart
WAIT = 30 + 15 * CYCLES  # bounds each wait for CYCLES patches on a loaded machine


def start_web(stack, name: str, port: int) -> None:
    """Another web process of the stack, as Stack.start_web starts the first one."""
    proc = stack.spawn(name, [
        sys.executable, "-m", "uvicorn", "wallboard.asgi:application", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--ws-per-message-deflate", "true",
        "--ws", "wallboard.live.wsprotocol:WebSocketProtocol", "--ws-max-size", str(WS_MAX_SIZE),
    ])
    wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)


class RecordingScreen(Screen):
    """A Screen that records every message and every state it applied, and follows a route.

    `ports` is where each connection attempt goes, in turn (the last one repeated): what a
    proxy in front of the web processes would do with a reconnecting page.
    """

    def __init__(self, ports: list[int], cookie: str):
        super().__init__("", {})
        self.ports, self.cookie = ports, cookie
        self.attempts = 0
        self.connected_to: list[int] = []  # port of each connection that opened
        # Per connection: every message with an epoch, as (epoch, seq, type, canonical text).
        self.received: list[list[tuple[str, int, str, str]]] = []
        # Every step the page applied: (epoch, seq, type, canonical data after it).
        self.applied: list[tuple[str, int, str, str]] = []

    def _run(self) -> None:
        while not self.stopped.is_set():
            port = self.ports[min(self.attempts, len(self.ports) - 1)]
            self.attempts += 1
            headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": self.cookie}
            try:
                with connect(f"ws://127.0.0.1:{port}/ws/boards/demo/", additional_headers=headers, max_size=None,
                             open_timeout=10, close_timeout=1) as ws:
                    with self.lock:
                        self.connects += 1
                        self.connected_to.append(port)
                        self.received.append([])
                    while not self.stopped.is_set():
                        try:
                            text = ws.recv(timeout=0.2)
                        except TimeoutError:
                            continue
                        self._handle(ws, json.loads(text))
            except Exception:  # refused while the process restarts, or dropped: retry like the page
                time.sleep(0.3)

    def _handle(self, ws, message: dict) -> None:
        kind, epoch = message["type"], message.get("epoch")
        with self.lock:
            before = (self.epoch, self.seq, self.snapshots)
            if epoch is not None and kind != "control":
                body = {k: v for k, v in message.items() if k != "version"}
                self.received[-1].append((epoch, message["seq"], kind, json.dumps(body, sort_keys=True)))
        super()._handle(ws, message)
        with self.lock:
            if (self.epoch, self.seq, self.snapshots) != before:
                self.applied.append((self.epoch, self.seq, kind, json.dumps(self.data, sort_keys=True)))

    def last_seq(self) -> int:
        with self.lock:
            return self.seq


@pytest.fixture(scope="module")
def stack():
    stack = start_stack()
    try:
        start_web(stack, "web-b", free_port())
        # The board has its first state: screens start with a snapshot, not the pending status
        # (whose answer, the first poll's status, makes a page resync by design).
        probe = Screen(f"ws://127.0.0.1:{stack.web_port}/ws/boards/demo/",
                       {"Origin": stack.web_url, "Cookie": display_cookie(stack)})
        wait_for(lambda: sim(stack, "/_sim/state")["requests"]["agents"] > 0, 90, "first poll", interval=0.5)
        probe.start()
        probe.stop()
        yield stack
    finally:
        stack.stop()


def port_of(stack, name: str) -> int:
    return int(stack.processes[name].args[stack.processes[name].args.index("--port") + 1])


def wait_all(screens: list[RecordingScreen], seq: int, what: str) -> None:
    wait_for(lambda: all(s.last_seq() >= seq for s in screens), WAIT, what, interval=0.2)


def test_it_keeps_every_screen_on_one_seq_stream_across_two_web_processes_and_a_restart(stack):
    a, b = stack.web_port, port_of(stack, "web-b")
    cookie = display_cookie(stack)
    on_a = [RecordingScreen([a], cookie) for _ in range(SCREENS_PER_PROCESS)]
    to_a = [RecordingScreen([b, a], cookie) for _ in range(3)]  # B, then A after the restart
    back_to_b = [RecordingScreen([b], cookie) for _ in range(SCREENS_PER_PROCESS - 3)]
    screens = on_a + to_a + back_to_b
    try:
        for screen in screens:
            screen.start()
        # A few cycles on both processes: every screen gets each patch through its own process.
        wait_all(screens, max(s.last_seq() for s in screens) + CYCLES, f"{CYCLES} cycles before the restart")
        before = {id(s): s.last_seq() for s in screens}

        stack.stop_process("web-b", signal.SIGTERM)
        wait_for(lambda: all(s.connects == 2 for s in to_a), WAIT, "B's screens reconnected to A", interval=0.2)
        # B stays down for a cycle: its remaining screens miss at least one message, which the
        # snapshot they get on reconnecting must cover.
        away = max(s.last_seq() for s in back_to_b)
        wait_all(on_a, away + 1, "a cycle while B is down")
        start_web(stack, "web-b", b)
        wait_for(lambda: all(s.connects == 2 for s in back_to_b), WAIT, "B's screens back on B", interval=0.2)
        wait_all(screens, max(s.last_seq() for s in screens) + CYCLES, f"{CYCLES} cycles after the restart")
    finally:
        for screen in screens:
            if screen.thread.ident is not None:  # started
                screen.stop()

    # The routes were taken: A's screens never dropped, B's moved as planned.
    assert all(s.connected_to == [a] for s in on_a), [s.connected_to for s in on_a]
    assert all(s.connected_to == [b, a] for s in to_a), [s.connected_to for s in to_a]
    assert all(s.connected_to == [b, b] for s in back_to_b), [s.connected_to for s in back_to_b]

    # One epoch (Redis kept the state), no gap anywhere, every patch applied.
    epochs = {epoch for s in screens for epoch, *_ in s.applied}
    assert len(epochs) == 1, epochs
    for s in screens:
        assert s.gaps == 0 and s.resyncs == 0 and not s.errors, (s.connected_to, s.gaps, s.resyncs, s.errors)

    # One stream: the message at a given seq is the same on every screen and process.
    messages: dict[tuple[str, int], set[str]] = defaultdict(set)
    for s in screens:
        for connection in s.received:
            for epoch, seq, kind, text in connection:
                if kind != "snapshot":
                    messages[epoch, seq].add(text)
    assert messages and all(len(texts) == 1 for texts in messages.values()), \
        {key: len(texts) for key, texts in messages.items() if len(texts) > 1}
    seqs = sorted(seq for _, seq in messages)
    assert seqs == list(range(seqs[0], seqs[-1] + 1)), f"the stream itself has a hole: {seqs}"

    for s in screens:
        # Within a connection: a snapshot first, then seq + 1 per message (or covered by it).
        for connection in s.received:
            assert connection and connection[0][2] == "snapshot", connection[:1]
            snapshot = head = connection[0][1]
            for _, seq, kind, _ in connection[1:]:
                assert kind != "snapshot", "no resync was asked for"
                if seq <= snapshot:
                    continue  # sent to the group before the snapshot was read: covered by it
                assert seq == head + 1, (s.connected_to, head, seq)
                head = seq
        # Across connections: no step applied twice, no step skipped except by a snapshot.
        steps = s.applied
        for (_, prev, _, _), (_, seq, kind, _) in zip(steps, steps[1:], strict=False):
            assert seq == prev + 1 or (kind == "snapshot" and seq >= prev), (s.connected_to, prev, seq, kind)
        # A reconnect's snapshot was not behind what the page had shown.
        firsts = [connection[0][1] for connection in s.received]
        assert firsts == sorted(firsts), firsts
        assert s.last_seq() > before[id(s)]

    # One state per seq: a snapshot after a reconnect equals what the screens that stayed on
    # reached by applying patches (the catch-up lost nothing), on either process.
    states: dict[tuple[str, int], set[str]] = defaultdict(set)
    for s in screens:
        for epoch, seq, _, data in s.applied:
            states[epoch, seq].add(data)
    assert all(len(d) == 1 for d in states.values()), sorted(k for k, d in states.items() if len(d) > 1)
    for s in to_a + back_to_b:
        catch_up = s.received[1][0]
        assert len(states[catch_up[0], catch_up[1]]) == 1
        if s in back_to_b:  # it missed a message while away, and the snapshot covered it
            assert catch_up[1] > s.received[0][-1][1], (s.received[0][-1][1], catch_up[1])
        assert any(o.applied and any(step[:2] == catch_up[:2] and step[2] != "snapshot" for step in o.applied)
                   for o in on_a), f"no screen on A applied seq {catch_up[1]} by patches"
    print(f"{len(screens)} screens, seqs {seqs[0]}..{seqs[-1]} on one stream; reconnect snapshots at "
          f"{sorted({s.received[1][0][1] for s in to_a + back_to_b})}")
