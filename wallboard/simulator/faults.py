"""Faults the simulator can be told to inject, switchable while it runs."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

KINDS = ("latency", "status", "revoke", "malformed", "truncated", "oversized", "hang")
TARGETS = ("rtstats", "schedules", "both")
DEFAULTS = {"latency": {"ms": 1000}, "status": {"code": 503}, "oversized": {"bytes": 16 * 1024 * 1024}, "hang": {"max_seconds": 300}}


@dataclass
class Fault:
    """One injected fault: what, for which API, for how many requests or until when."""

    id: int
    kind: str
    target: str
    remaining: int | None  # requests left; None: no count limit
    until: float | None  # time.monotonic() deadline; None: no time limit
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, api: str) -> bool:
        return self.target == "both" or self.target == api

    def live(self, now: float) -> bool:
        return (self.remaining is None or self.remaining > 0) and (self.until is None or now < self.until)

    def to_dict(self) -> dict[str, Any]:
        left = None if self.until is None else max(0.0, round(self.until - time.monotonic(), 3))
        return {"id": self.id, "kind": self.kind, "target": self.target, "remaining": self.remaining,
                "seconds_left": left, **self.params}


class Faults:
    """The active faults. Thread-safe; request handlers take() from it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, kind: str, target: str = "both", count: int | None = None, seconds: float | None = None, **params: Any) -> dict[str, Any]:
        """Switch a fault on; without count or seconds it stays until cleared. Returns it as a dict."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer")
        if seconds is not None and (not isinstance(seconds, int | float) or seconds <= 0):
            raise ValueError("seconds must be a positive number")
        merged = {**DEFAULTS.get(kind, {}), **params}
        for name, value in merged.items():
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        if kind == "status" and not 400 <= merged["code"] <= 599:
            raise ValueError("code must be an HTTP error status (400-599)")
        until = None if seconds is None else time.monotonic() + seconds
        with self._lock:
            fault = Fault(next(self._ids), kind, target, count, until, merged)
            self._faults.append(fault)
            return fault.to_dict()

    def clear(self, fault_id: int | None = None, kind: str | None = None) -> int:
        """Remove one fault, every fault of a kind, or all; returns how many were removed."""
        with self._lock:
            keep = [f for f in self._faults if not _selected(f, fault_id, kind)]
            removed = len(self._faults) - len(keep)
            self._faults = keep
            return removed

    def active(self) -> list[dict[str, Any]]:
        """The faults still in force."""
        with self._lock:
            self._prune()
            return [f.to_dict() for f in self._faults]

    def revoked(self, api: str) -> bool:
        """Whether a 'revoke' fault makes this request's credentials bad (uses one of its count)."""
        with self._lock:
            self._prune()
            for f in self._faults:
                if f.kind == "revoke" and f.matches(api):
                    _use(f)
                    return True
            return False

    def take(self, api: str) -> tuple[float, Fault | None]:
        """(extra latency in ms, the first other fault) for one request; counts are used up here."""
        with self._lock:
            self._prune()
            latency, chosen = 0.0, None
            for f in self._faults:
                if not f.matches(api) or f.kind == "revoke":
                    continue
                if f.kind == "latency":
                    latency += f.params["ms"]
                    _use(f)
                elif chosen is None:
                    chosen = f
                    _use(f)
            return latency, chosen

    def _prune(self) -> None:
        now = time.monotonic()
        self._faults = [f for f in self._faults if f.live(now)]


def _use(fault: Fault) -> None:
    if fault.remaining is not None:
        fault.remaining -= 1


def _selected(fault: Fault, fault_id: int | None, kind: str | None) -> bool:
    if fault_id is not None:
        return fault.id == fault_id
    if kind is not None:
        return fault.kind == kind
    return True
