"""The live pipeline end to end: simulator -> poll -> board state -> channel layer -> websocket.

Real Redis (the session's private server), real HTTP to the simulator, the real ASGI app.
"""

from __future__ import annotations

import copy
import threading

import jsonpatch
import pytest
from asgiref.sync import sync_to_async

from tests.pipeline_helpers import Clock, communicator, make_board, receive
from wallboard.boards.models import TenantHealth
from wallboard.live import store
from wallboard.live.boards import forget_cached_boards
from wallboard.polling.cycle import poll_tenant
from wallboard.polling.dispatch import claim_due_polls, poll_now
from wallboard.simulator.server import SimulatorServer

pytestmark = pytest.mark.django_db(transaction=True)

poll = sync_to_async(poll_tenant, thread_sensitive=False)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(clock, redis_client):
    server = SimulatorServer(port=0, agents=40, queues=6, seed=5, clock=clock)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def setup(sim):
    return make_board(sim.base_url)


async def next_patch(comm, expected_epoch, seq):
    """Messages up to the next patch: every one in order, in the same epoch."""
    seen = []
    while True:
        message = await receive(comm)
        assert message["epoch"] == expected_epoch
        assert message["seq"] == seq + 1, "a message was skipped or repeated"
        seq = message["seq"]
        seen.append(message)
        if message["type"] == "patch":
            return seen, seq


async def test_it_sends_patches_that_add_up_to_fresh_snapshots(setup, clock):
    tenant, board, cookie = setup
    assert (await poll(tenant.pk)).outcome == "ok"
    comm = communicator(board.slug, cookie)
    connected, _ = await comm.connect()
    assert connected
    snapshot = await receive(comm)
    assert snapshot["type"] == "snapshot"
    state, seq, epoch = snapshot["data"], snapshot["seq"], snapshot["epoch"]
    assert set(state["queues"]) and set(state["agents"])
    changed = 0
    for _ in range(8):
        clock.advance(10)
        await poll(tenant.pk)
        messages, seq = await next_patch(comm, epoch, seq)
        ops = messages[-1]["ops"]
        changed += bool(ops)
        state = jsonpatch.apply_patch(state, ops)
        fresh = await sync_to_async(store.load)(board.slug)
        assert fresh.seq == seq
        assert state == fresh.data
    assert changed >= 4, "the simulator should have changed something in most cycles"
    # A browser connecting now gets exactly the state the first one built from patches.
    late = communicator(board.slug, cookie)
    await late.connect()
    late_snapshot = await receive(late)
    assert late_snapshot["seq"] == seq and late_snapshot["data"] == state
    await late.disconnect()
    await comm.disconnect()


async def test_it_sends_an_empty_patch_when_nothing_changed(setup, clock):
    tenant, board, cookie = setup
    await poll(tenant.pk)
    comm = communicator(board.slug, cookie)
    await comm.connect()
    snapshot = await receive(comm)
    # Same simulated instant: the upstream cache has not moved, so neither has the board.
    await poll(tenant.pk)
    message = await receive(comm)
    assert message["type"] == "patch" and message["ops"] == []
    assert message["seq"] == snapshot["seq"] + 1
    await comm.disconnect()


async def test_it_answers_resync_with_a_snapshot(setup, clock):
    tenant, board, cookie = setup
    await poll(tenant.pk)
    comm = communicator(board.slug, cookie)
    await comm.connect()
    first = await receive(comm)
    await comm.send_json_to({"type": "resync"})
    again = await receive(comm)
    assert again["type"] == "snapshot" and again["data"] == first["data"]
    await comm.disconnect()


def test_it_keeps_upstream_calls_at_two_per_cycle_whatever_the_number_of_screens(setup, clock, sim):
    import asyncio

    tenant, board, cookie = setup

    def cycles(n):
        sim.reset_counters()
        for _ in range(n):
            clock.advance(10)
            poll_tenant(tenant.pk)
        return dict(sim.state()["requests"])

    alone = cycles(3)

    async def with_screens():
        comms = [communicator(board.slug, cookie) for _ in range(25)]
        for comm in comms:
            assert (await comm.connect())[0]
        counts = await sync_to_async(cycles, thread_sensitive=False)(3)
        for comm in comms:
            await comm.disconnect()
        return counts

    crowded = asyncio.run(with_screens())
    assert alone == crowded
    assert sum(alone.values()) == 6, f"expected one agents and one queues call per cycle, got {alone}"


def test_it_never_runs_two_polls_of_a_tenant_at_once(setup, sim, settings):
    tenant, board, _ = setup
    poll_tenant(tenant.pk)
    sim.reset_counters()
    sim.latency_ms = 1500  # each poll takes 3 s: longer than a second poll waits for the lock
    results = []
    threads = [threading.Thread(target=lambda: results.append(poll_tenant(tenant.pk).outcome)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["locked", "locked", "locked", "ok"]
    state = sim.state()
    assert max(state["max_in_flight"].values()) == 1
    assert sum(state["requests"].values()) == 2


def test_it_backs_off_after_bad_credentials_and_recovers_when_fixed(setup, sim, clock):
    tenant, board, _ = setup
    poll_tenant(tenant.pk)
    sim.revoke_token()
    clock.advance(10)
    assert poll_tenant(tenant.pk).outcome == "unauthorised"
    health = TenantHealth.objects.get(tenant=tenant)
    assert health.state == "unauthorised" and "token" in health.message
    stored = store.load(board.slug)
    assert stored.status["state"] == "unauthorised"
    # Not due again at the next ticks: a slow retry, not a 401 every cycle.
    assert tenant.pk not in [t for t, _ in claim_due_polls(horizon_seconds=30)]
    # The administrator fixes the token (saving the tenant asks for a poll at once).
    sim.restore_token()
    poll_now(tenant.pk)
    assert tenant.pk in [t for t, _ in claim_due_polls()]
    assert poll_tenant(tenant.pk).outcome == "ok"
    assert store.load(board.slug).status["state"] == "ok"


@pytest.mark.parametrize(
    ("fault", "outcome", "health_state"),
    [
        ({"kind": "status", "code": 503}, "busy", "busy"),
        ({"kind": "status", "code": 500}, "server_error", "degraded"),
        ({"kind": "malformed"}, "malformed", "malformed"),
        ({"kind": "truncated"}, "malformed", "malformed"),
    ],
)
def test_it_keeps_the_last_good_data_when_upstream_fails(setup, sim, clock, fault, outcome, health_state):
    tenant, board, _ = setup
    poll_tenant(tenant.pk)
    good = store.load(board.slug)
    kind = fault.pop("kind")
    sim.faults.add(kind, target="rtstats", count=1, **fault)
    clock.advance(10)
    assert poll_tenant(tenant.pk).outcome == outcome
    after = store.load(board.slug)
    assert after.data == good.data, "a failed cycle must not change what the board shows"
    assert after.as_of == good.as_of, "as_of must keep saying how old the data is"
    assert after.status["state"] == health_state
    assert after.seq == good.seq + 2  # a status message, then an empty patch
    clock.advance(10)
    assert poll_tenant(tenant.pk).outcome == "ok"
    assert store.load(board.slug).status["state"] == "ok"


def test_it_starts_a_new_epoch_when_redis_loses_the_state(setup, clock, redis_client):
    tenant, board, _ = setup
    poll_tenant(tenant.pk)
    before = store.load(board.slug)
    redis_client.flushdb()  # what a Redis restart does to memory (of our database: xdist workers may share a REDIS_URL)
    clock.advance(10)
    poll_tenant(tenant.pk)
    after = store.load(board.slug)
    assert after.epoch != before.epoch
    assert after.seq == 1
    # The history survives nowhere, but the board is whole again at once.
    assert set(after.data["queues"]) == set(before.data["queues"])


def test_it_reaches_browsers_again_after_a_redis_restart(setup, clock, redis_server):
    import asyncio

    if redis_server is None:
        pytest.skip("REDIS_URL points to a server this test must not restart")
    tenant, board, cookie = setup
    poll_tenant(tenant.pk)

    async def scenario():
        comm = communicator(board.slug, cookie)
        await comm.connect()
        first = await receive(comm)
        await sync_to_async(redis_server.restart, thread_sensitive=False)()
        # The next polls start a new epoch; the page is told and resyncs.
        for _ in range(20):
            clock.advance(10)
            await poll(tenant.pk)
            if not await comm.has_output(1):
                continue
            message = await receive(comm)
            if message["epoch"] != first["epoch"]:
                break
        else:
            pytest.fail("no message of the new epoch reached the browser")
        await comm.send_json_to({"type": "resync"})
        while True:
            snapshot = await receive(comm)
            if snapshot["type"] == "snapshot":
                break
        assert snapshot["epoch"] == message["epoch"]
        fresh = await sync_to_async(store.load)(board.slug)
        assert snapshot["data"] == fresh.data or snapshot["seq"] < fresh.seq
        await comm.disconnect()

    asyncio.run(scenario())


def test_it_applies_patches_to_an_untouched_copy_only(setup, clock):
    """The differ must not share mutable parts between the stored and the new state."""
    tenant, board, _ = setup
    poll_tenant(tenant.pk)
    before = copy.deepcopy(store.load(board.slug).data)
    clock.advance(10)
    poll_tenant(tenant.pk)
    clock.advance(10)
    poll_tenant(tenant.pk)
    assert before != store.load(board.slug).data


async def test_it_stays_exact_when_polls_alternate_between_worker_processes(setup, clock):
    """Prefork workers take turns: a process that did not write last must not trust its cache."""
    tenant, board, cookie = setup
    await poll(tenant.pk)
    comm = communicator(board.slug, cookie)
    await comm.connect()
    snapshot = await receive(comm)
    state, seq, epoch = snapshot["data"], snapshot["seq"], snapshot["epoch"]
    for cycle in range(6):
        if cycle % 2:
            # What another process sees: none of this one's cached state or fragments.
            forget_cached_boards()
        clock.advance(10)
        await poll(tenant.pk)
        messages, seq = await next_patch(comm, epoch, seq)
        state = jsonpatch.apply_patch(state, messages[-1]["ops"])
        assert state == (await sync_to_async(store.load)(board.slug)).data
    await comm.disconnect()
