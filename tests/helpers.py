"""Helpers every kind of test shares (no Django, no stack: importable from anywhere)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0, what: str = "condition", interval: float = 0.02) -> T:
    """Wait until `condition()` is truthy and return it; fail the test after `timeout` seconds.

    Synchronisation with another thread or process, not a timing assertion: the timeout only
    bounds how long a broken test hangs.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)
