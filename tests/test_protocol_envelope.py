"""Every server message type, as it really reaches a socket, follows the envelope rule.

The real consumer (wallboard.asgi.application), a real Redis, a board published by the real
poll cycle from the simulator, and display control sent through the real publish path; each
message is checked with wallboard.live.messages.check_envelope (docs/protocol.md).
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from tests.pipeline_helpers import Clock, communicator, make_board, receive
from wallboard.boards.models import Display
from wallboard.live import messages, store
from wallboard.live.publish import asend_display_control
from wallboard.polling.cycle import poll_tenant
from wallboard.simulator.server import SimulatorServer

pytestmark = pytest.mark.django_db(transaction=True)

poll = sync_to_async(poll_tenant, thread_sensitive=False)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(clock, redis_client):
    server = SimulatorServer(port=0, agents=20, queues=4, seed=7, clock=clock)
    server.start()
    yield server
    server.stop()


def assert_envelope(message: dict, kind: str) -> dict:
    assert messages.check_envelope(message) == [], message
    assert message["type"] == kind
    return message


async def test_every_message_type_through_the_real_consumer_follows_the_envelope_rule(sim, clock):
    tenant, board, cookie = await sync_to_async(make_board)(sim.base_url, slug="envelope")
    display = await sync_to_async(Display.objects.get)(name="TV envelope")
    comm = communicator(board.slug, cookie)
    connected, _ = await comm.connect()
    assert connected

    # Before the first poll: the "pending" status, outside any epoch.
    pending = assert_envelope(await receive(comm), "status")
    assert pending["status"]["state"] == "pending"
    assert (pending["epoch"], pending["seq"], pending["as_of"]) == (None, 0, None)

    # A control message before any state: the same "no epoch yet" envelope.
    await asend_display_control(display.pk, "reload")
    early = assert_envelope(await receive(comm), "control")
    assert (early["action"], early["epoch"], early["seq"]) == ("reload", None, 0)

    # The first poll starts an epoch with a status message.
    assert (await poll(tenant.pk)).outcome == "ok"
    status = assert_envelope(await receive(comm), "status")
    assert status["epoch"] and status["seq"] == 1 and status["status"]["state"] == "ok"
    assert status["as_of"] is not None

    # The next cycle: a patch, seq + 1.
    clock.advance(10)
    await poll(tenant.pk)
    patch = assert_envelope(await receive(comm), "patch")
    assert (patch["epoch"], patch["seq"]) == (status["epoch"], 2)

    # A resync: a snapshot at the group's last seq.
    await comm.send_json_to({"type": "resync"})
    snapshot = assert_envelope(await receive(comm), "snapshot")
    assert (snapshot["epoch"], snapshot["seq"], snapshot["as_of"]) == (patch["epoch"], 2, patch["as_of"])
    assert set(snapshot["data"]) == {
        "board", "queues", "groups", "agents", "announcements", "campaigns", "leaderboard", "occupancy", "day_totals"
    }

    # Control messages carry the board's current epoch, seq and as_of, and do not advance seq.
    await asend_display_control(display.pk, "reload")
    reload = assert_envelope(await receive(comm), "control")
    await asend_display_control(display.pk, "switch", url="/kiosk/")
    switch = assert_envelope(await receive(comm), "control")
    for control in (reload, switch):
        assert (control["epoch"], control["seq"], control["as_of"]) == (patch["epoch"], 2, patch["as_of"])
    assert reload["action"] == "reload" and "url" not in reload
    assert switch["action"] == "switch" and switch["url"] == "/kiosk/"

    clock.advance(10)
    await poll(tenant.pk)
    after = assert_envelope(await receive(comm), "patch")
    head = await sync_to_async(store.load_head)(board.slug)
    assert head is not None and (after["epoch"], after["seq"]) == (head.epoch, head.seq) == (patch["epoch"], 3), (
        "control messages must not advance the board's seq"
    )
    await comm.disconnect()


def test_the_envelope_rule_flags_what_breaks_it():
    good = {"type": "patch", "board": "b", "epoch": "e1", "seq": 3, "as_of": "2026-11-18T10:00:00+00:00", "ops": []}
    assert messages.check_envelope(good) == []
    assert messages.check_envelope([]) == ["not a JSON object"]
    assert messages.check_envelope({k: v for k, v in good.items() if k != "as_of"}) == ["no 'as_of'"]
    assert messages.check_envelope({**good, "epoch": None})  # a patch needs an epoch
    assert messages.check_envelope({**good, "seq": 0})  # seq counts from 1 within an epoch
    assert messages.check_envelope({**good, "seq": True})
    assert messages.check_envelope({**good, "as_of": "2026-11-18T10:00:00"})  # not UTC
    assert messages.check_envelope({**good, "type": "hello"})
    assert messages.check_envelope({**good, "data": {}}) == ["patch with unexpected 'data'"]
    control = {"type": "control", "board": "b", "epoch": None, "seq": 0, "as_of": None, "action": "switch"}
    assert messages.check_envelope(control) == ["switch url None is not a path"]
    assert messages.check_envelope({**control, "action": "reload"}) == []
    assert messages.check_envelope({**control, "seq": 4})  # no epoch, but a seq


def test_every_builder_goes_through_the_envelope_rule():
    head = store.BoardHead("e1", 5, "2026-11-22T10:00:00+00:00", '{"state":"ok"}')
    board = store.StoredBoard(head.epoch, head.seq, head.as_of, head.status_json, store.fragments_of(
        {"board": {"slug": "b"}, "queues": {}, "groups": {}, "agents": {}}))
    built = [
        store.loads(messages.snapshot_text("b", board, "1.0")),
        store.loads(messages.patch_text("b", head, [])),
        store.loads(messages.status_text("b", head, head.status_json)),
        messages.pending_status("b"),
        messages.control_message("b", head, "reload"),
        messages.control_message("b", None, "switch", "/kiosk/"),
    ]
    assert [m["type"] for m in built] == ["snapshot", "patch", "status", "status", "control", "control"]
    for message in built:
        assert messages.check_envelope(message) == [], message
    # The stored JSON parts go into the texts as they are.
    assert built[0]["data"] == {"board": {"slug": "b"}, "queues": {}, "groups": {}, "agents": {}}
    assert built[0]["status"] == built[2]["status"] == {"state": "ok"}
    assert (built[1]["epoch"], built[1]["seq"], built[1]["ops"]) == ("e1", 5, [])
    with pytest.raises(messages.EnvelopeError):
        messages.patch_text("b", store.BoardHead("e1", 0, None, "{}"), [])
