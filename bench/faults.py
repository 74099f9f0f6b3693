"""Faults, timed: what a screen shows when a part of the stack or 8x8 misbehaves, and for how long.

The longer sibling of tests/test_stack_faults.py: the stack at full size (2,000 agents / 300
queues by default), one screen (tests.stack_fixtures.Screen: applies every patch, resyncs on a
gap or a new epoch, reconnects). Each upstream fault stays on for `--hold` seconds; each process
fault is a restart or a kill. For each: seconds until the screen showed the right status, until
it had fresh data again after the fault cleared, seq gaps, whether the data stayed on screen,
and the simulator's max requests in flight for the tenant.

    .venv/bin/python bench/faults.py
    .venv/bin/python bench/faults.py --agents 200 --queues 20 --hold 20
    .venv/bin/python bench/faults.py --only 500 --only "worker kill -9" --repeat 3

Targets: status within one cycle (10 s + the 3 s read timeout for a silent upstream), fresh
data within one cycle of clearing (plus the 12 s hold after a timeout), no gap, data kept,
max in flight 1. Exit status 0 when met for every fault, 1 otherwise.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import board_ready, machine, sim, start_stack, verdict, wait_until  # noqa: E402
from tests.stack_fixtures import Screen, display_cookie  # noqa: E402

CYCLE, READ_TIMEOUT, HOLD = 10.0, 3.0, 12.0

UPSTREAM = [
    ("503 burst", {"kind": "status", "code": 503}, "busy", CYCLE),
    ("401", {"kind": "status", "code": 401}, "unauthorised", CYCLE),
    ("500", {"kind": "status", "code": 500}, "degraded", CYCLE),
    ("timeout (hang)", {"kind": "hang", "target": "rtstats"}, "unreachable", CYCLE + HOLD + READ_TIMEOUT),
    ("timeout (12 s latency)", {"kind": "latency", "ms": 12000}, "unreachable", CYCLE + 2 * HOLD + READ_TIMEOUT),
    ("malformed", {"kind": "malformed"}, "malformed", CYCLE),
    ("truncated", {"kind": "truncated"}, "malformed", CYCLE),
    ("oversized", {"kind": "oversized", "bytes": 24 * 2**20}, "malformed", CYCLE),
]


def clear(stack) -> None:
    sim(stack, "/_sim/faults", method="DELETE")
    sim(stack, "/_sim/restore", {})


def wait_fresh(screen: Screen, as_of: str | None, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if screen.as_of != as_of and screen.state() == "ok":
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def upstream_fault(stack, screen: Screen, name: str, fault: dict, state: str, recovery: float, hold: float) -> dict:
    gaps, epochs = screen.gaps, len(screen.epochs)
    queues = set(screen.data["queues"])
    sim(stack, "/_sim/reset-counters", {})
    started = time.monotonic()
    sim(stack, "/_sim/faults", fault)
    shown = None
    while time.monotonic() - started < CYCLE + READ_TIMEOUT + 10:
        if screen.state() == state:
            shown = time.monotonic() - started
            break
        time.sleep(0.05)
    time.sleep(max(0.0, hold - (time.monotonic() - started)))
    kept = set(screen.data["queues"]) == queues and screen.shows_data()
    as_of = screen.as_of
    clear(stack)
    fresh = wait_fresh(screen, as_of, recovery + 15)
    return {"fault": name, "expected": state, "shown": shown, "shown_limit": CYCLE + READ_TIMEOUT + 2,
            "fresh": fresh, "fresh_limit": recovery + 2, "kept": kept, "gaps": screen.gaps - gaps,
            "new_epochs": len(screen.epochs) - epochs, "in_flight": max(sim(stack, "/_sim/state")["max_in_flight"].values())}


def process_fault(stack, screen: Screen, name: str, action) -> dict:
    gaps, epochs = screen.gaps, len(screen.epochs)
    as_of = screen.as_of
    sim(stack, "/_sim/reset-counters", {})
    started = time.monotonic()
    action()
    fresh = wait_fresh(screen, as_of, 60)
    fresh = fresh + (time.monotonic() - started - fresh) if fresh is not None else None
    return {"fault": name, "expected": "ok", "shown": None, "shown_limit": None, "fresh": fresh,
            "fresh_limit": 2 * CYCLE, "kept": screen.shows_data(), "gaps": screen.gaps - gaps,
            "new_epochs": len(screen.epochs) - epochs, "in_flight": max(sim(stack, "/_sim/state")["max_in_flight"].values())}


def process_faults(stack) -> list[tuple[str, Callable[[], object]]]:
    """The process faults by name, each an action on `stack` (None: for their names only)."""
    return [
        ("Redis restart", lambda: stack.restart_redis()),
        ("worker kill -9", lambda: (stack.stop_process("worker", signal.SIGKILL), stack.start_worker())),
        ("beat restart", lambda: stack.restart("beat")),
        ("web restart", lambda: stack.restart("web")),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=300)
    parser.add_argument("--hold", type=float, default=30, help="seconds each upstream fault stays on")
    parser.add_argument("--only", action="append", default=[], metavar="FAULT",
                        help="run only this fault (its name as printed; repeatable)")
    parser.add_argument("--repeat", type=int, default=1, help="run the faults this many times over")
    args = parser.parse_args(argv)
    wanted = [name for name, *_ in UPSTREAM] + [name for name, _ in process_faults(None)]
    unknown = set(args.only) - set(wanted)
    if unknown:
        parser.error(f"unknown fault {sorted(unknown)}; one of {wanted}")
    print(machine())
    stack = start_stack(args.agents, args.queues, env={"WALLBOARD_UNAUTHORISED_RETRY": "10"})
    results = []
    screen = None
    try:
        wait_until(lambda: board_ready(stack), 90, what="first board state")
        port = stack.web_port
        screen = Screen(f"ws://127.0.0.1:{port}/ws/boards/demo/",
                        {"Origin": f"http://127.0.0.1:{port}", "Cookie": display_cookie(stack)}).start()
        screen.wait_state("ok", 30)
        for _ in range(args.repeat):
            for name, fault, state, recovery in UPSTREAM:
                if not args.only or name in args.only:
                    results.append(upstream_fault(stack, screen, name, fault, state, recovery, args.hold))
                    print_row(results[-1])
            for name, action in process_faults(stack):
                if not args.only or name in args.only:
                    time.sleep(5)
                    results.append(process_fault(stack, screen, name, action))
                    print_row(results[-1])
    finally:
        if screen is not None:
            screen.stop()
        stack.stop()
    return report(results, screen)


def print_row(r: dict) -> None:
    shown = "-" if r["shown"] is None and r["shown_limit"] is None else (
        f"{r['shown']:.1f} s" if r["shown"] is not None else "NEVER")
    fresh = f"{r['fresh']:.1f} s" if r["fresh"] is not None else "NEVER"
    print(f"  {r['fault']:<24} status {r['expected']:<12} shown after {shown:>7}; fresh data after {fresh:>7}; "
          f"data kept {'yes' if r['kept'] else 'NO'}; gaps {r['gaps']}; new epochs {r['new_epochs']}; "
          f"max in flight {r['in_flight']}", flush=True)


def report(results: list[dict], screen: Screen | None) -> int:
    print(f"\ntargets ({machine()}):")
    ok = True
    for r in results:
        good = (r["shown_limit"] is None or (r["shown"] is not None and r["shown"] <= r["shown_limit"]))
        good &= r["fresh"] is not None and r["fresh"] <= r["fresh_limit"]
        good &= r["kept"] and r["gaps"] == 0 and r["in_flight"] <= 1
        good &= r["new_epochs"] == (1 if r["fault"] == "Redis restart" else 0)
        ok &= verdict(r["fault"], good, f"status in {r['shown'] or 0:.1f} s, fresh in {r['fresh'] or -1:.1f} s "
                      f"(limits {r['shown_limit'] or '-'} / {r['fresh_limit']} s)")
    if screen is not None:
        ok &= verdict("patches applied cleanly", not screen.errors, f"{len(screen.errors)} errors")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
