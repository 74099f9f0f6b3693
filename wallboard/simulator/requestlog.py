"""The simulator's log of statistics refreshes and of the requests each one served.

bench/freshness.py needs, for every poll, how far its requests fell from the refresh whose data
they got, and whether its two calls (agents, then queues) got the same refresh: a poll whose
agents call came just before a refresh and whose queues call came just after it has half its
answer ten seconds old, which neither the answer nor the counters of /_sim/state show.

Each cache build gets a generation number (never reset, unlike the counters); each statistics
request answered from the cache (not one refused for its credentials or as busy: those are in
/_sim/state's counters) records the generation of the body it was handed. `GET /_sim/request-log?since=T`
returns both, from wall-clock time T on.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# Several hours of one tenant polled every few seconds; older entries fall off.
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class Refresh:
    """One build of the statistics cache."""

    generation: int
    window_start: float  # simulated time of the refresh (epoch seconds)
    began: float  # wall clock, when the build started
    ended: float  # wall clock, when its data could be served


@dataclass(frozen=True)
class Served:
    """One statistics request and the refresh whose data it got."""

    tenant: str
    kind: str  # "agents", "queues", "agent" or "queue"
    status: int
    received: float  # wall clock, when the simulator read the request
    answered: float  # wall clock, when it had written the answer
    generation: int | None  # None: no statistics body was handed (not seen so far)


class RequestLog:
    """Refreshes and statistics requests, newest last. Thread-safe: every handler thread writes."""

    def __init__(self, maxlen: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._refreshes: deque[Refresh] = deque(maxlen=maxlen)
        self._served: deque[Served] = deque(maxlen=maxlen)
        self._generation = 0
        self._handed = threading.local()

    def refreshed(self, window_start: float, began: float, ended: float) -> int:
        """Record a cache build; return its generation."""
        with self._lock:
            self._generation += 1
            self._refreshes.append(Refresh(self._generation, window_start, began, ended))
            return self._generation

    def handed(self) -> None:
        """The calling thread was just given the current cache (its request is answered from it).

        Kept per thread because the cache may be rebuilt by another thread between this and the
        request's end: reading the current generation then would name the wrong refresh.
        """
        with self._lock:
            self._handed.generation = self._generation

    def served(self, tenant: str, kind: str, status: int, received: float, answered: float) -> None:
        """Record a statistics request answered by the calling thread (with what it was handed)."""
        generation = getattr(self._handed, "generation", None)
        self._handed.generation = None
        with self._lock:
            self._served.append(Served(tenant, kind, status, received, answered, generation))

    def since(self, since: float = 0.0) -> dict[str, list[dict[str, Any]]]:
        """What `GET /_sim/request-log?since=T` answers: refreshes and requests from wall time T on."""
        with self._lock:
            # From the last refresh before `since` on: the first requests were served from it.
            kept = [r for r in self._refreshes if r.ended >= since]
            earlier = [r for r in self._refreshes if r.ended < since][-1:]
            refreshes = [asdict(r) for r in earlier + kept]
            served = [asdict(s) for s in self._served if s.received >= since]
        return {"refreshes": refreshes, "requests": served}
