"""A board message reaches a screen without a hop through the database thread.

Channels runs close_old_connections() in its one sync thread before every handler; with every
screen of a board getting the cycle's message in the same instant, those hops queued behind
each other and spread one cycle's delivery over hundreds of milliseconds. The real consumer
(wallboard.asgi.application), a real Redis and the real publish path; the check counts calls
of the function Channels would run there.
"""

from __future__ import annotations

from unittest import mock

import channels.db
import pytest
from asgiref.sync import sync_to_async

from tests.pipeline_helpers import communicator, make_board, receive
from wallboard.live.publish import send_board_texts
from wallboard.simulator.server import SimulatorServer

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 30


@pytest.fixture
def sim(redis_client):
    server = SimulatorServer(port=0, agents=10, queues=3, seed=3)
    server.start()
    yield server
    server.stop()


async def test_it_forwards_board_messages_without_closing_old_connections_per_message(sim):
    _, board, cookie = await sync_to_async(make_board)(sim.base_url, slug="dispatch")
    comm = communicator(board.slug, cookie)
    connected, _ = await comm.connect()
    assert connected
    assert (await receive(comm))["type"] == "status"  # pending: no poll yet
    texts = [f'{{"type":"status","n":{n}}}' for n in range(MESSAGES)]
    real = channels.db.close_old_connections
    with mock.patch("channels.db.close_old_connections", wraps=real) as closes:
        assert await sync_to_async(send_board_texts, thread_sensitive=False)(board.slug, texts)
        received = [await comm.receive_from() for _ in texts]
    assert received == texts
    # The access watcher may run one check meanwhile (two queries, each closing around itself).
    assert closes.call_count <= 4, f"{closes.call_count} database-thread hops for {MESSAGES} messages"
    await comm.disconnect()
