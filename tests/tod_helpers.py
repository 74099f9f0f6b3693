"""ContactNow test helpers: the project's simulator with a ContactNow token issued."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wallboard.simulator.server import SimulatorServer


@contextmanager
def contactnow_sim(token: str) -> Iterator[SimulatorServer]:
    """A running simulator (two agents, one queue) whose ContactNow API accepts `token` for an hour."""
    server = SimulatorServer(port=0, agents=2, queues=1)
    server.contactnow.issue_token(token, ttl=3600)
    server.start()
    try:
        yield server
    finally:
        server.stop()
