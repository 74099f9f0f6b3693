"""Garbage collector settings for the processes that poll.

A poll cycle of a large tenant allocates tens of thousands of short-lived containers (the
parsed answers, one record per agent, the board states). With CPython's default first
threshold of 700 the collector runs about fifteen times per cycle, and every few cycles a full
collection walks every board state held from the last cycle: a sixth of the median cycle's
CPU and half of its 95th percentile (bench/cycle.py, docs/performance.md). Nearly none of it is cyclic garbage, so collect young
objects less often and move what exists at start-up (Django, Celery, the code) out of the
collector's sight for good.
"""

from __future__ import annotations

import gc
from typing import Any

from celery.signals import worker_process_init

# About one cycle's worth of young containers per first-generation collection.
FIRST_THRESHOLD = 10_000


def tune() -> None:
    """Apply the poller's collector settings to this process (call once, after start-up)."""
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_THRESHOLD, second, third)
    gc.freeze()


@worker_process_init.connect
def _tune_worker(**kwargs: Any) -> None:
    """Each prefork child, once its imports are done: the polls run there."""
    tune()
