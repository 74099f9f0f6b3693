"""Soak: 10,000 poll cycles through the real worker, with screens connected; memory and Redis flat?

Weeks of a board in minutes. The simulator runs 100 times faster than the clock (its cache
refreshes every 0.1 s, so every poll brings new data: agents change state, counters grow,
history minutes roll over every 0.6 s of real time). Beat is stopped and this script sends the
worker one `poll_tenant` task after the other (the next as soon as the board's seq moved), so
each cycle is the full production path: Celery broker, prefork worker, 8x8 client, board
state, Redis, channel layer, web process, N websocket screens (keeping epoch/seq, resyncing
on a gap). Sampled ten times: RSS of the web process and of the worker (parent and pool
children, from /proc), Redis DBSIZE and used memory, pub/sub channels (one per connected
screen plus the groups) and the board group's subscribers.

    .venv/bin/python bench/soak.py                               # 10,000 cycles, 100 screens
    .venv/bin/python bench/soak.py --cycles 2000 --clients 20

Targets: from the middle sample to the end, RSS of web and worker within +10 %, Redis keys and
pub/sub channels not growing, no seq gap. Exit status 0 when met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BoardClient,
    board_ready,
    display_cookie,
    machine,
    raise_open_files,
    redis_client,
    rss_kb,
    start_stack,
    tree_rss_kb,
    verdict,
    wait_until,
    ws_target,
)

GROWTH_LIMIT = 0.10


class Screens:
    """N websocket clients on their own event loop thread, keeping counts only (no history)."""

    def __init__(self, url: str, headers: dict, count: int):
        self.clients = [BoardClient(url, headers, keep=False) for _ in range(count)]
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self.stop_event = asyncio.Event()
        await asyncio.gather(*(c.run(self.stop_event) for c in self.clients))

    def start(self) -> Screens:
        self.thread.start()
        wait_until(lambda: all(c.snapshots for c in self.clients), 60, what="every screen's snapshot")
        return self

    def stop(self) -> None:
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)


def sample(stack, done: int, screens: Screens) -> dict:
    client = redis_client(stack)
    channels = client.pubsub_channels()
    board = [c for c in channels if b"board.demo" in c]
    info = client.info("memory")
    return {
        "cycles": done,
        "web_kb": rss_kb(stack.processes["web"].pid),
        "worker_kb": tree_rss_kb(stack.processes["worker"].pid),
        "keys": client.dbsize(),
        "redis_kb": info["used_memory"] // 1024,
        "channels": len(channels),
        "group_subscribers": sum(n for _, n in client.pubsub_numsub(*board)) if board else 0,
        "messages": sum(c.messages for c in screens.clients),
        "gaps": sum(c.gaps for c in screens.clients),
    }


def configure_django(stack) -> None:
    """This process sends tasks like beat does: same settings, the stack's Redis and database."""
    os.environ["REDIS_URL"] = stack.redis_url
    os.environ["DATABASE_URL"] = stack.database_url
    # Here, not at the top: Django may start only once the stack's Redis and database are known.
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--queues", type=int, default=40)
    parser.add_argument("--speed", type=float, default=100)
    parser.add_argument("--max-seconds", type=float, default=1200, help="stop early after this long")
    args = parser.parse_args(argv)
    print(machine())
    raise_open_files()
    stack = start_stack(args.agents, args.queues, sim_args=("--speed", str(args.speed)))
    samples: list[dict] = []
    screens = None
    started = time.monotonic()
    try:
        wait_until(lambda: board_ready(stack), 90, what="first board state")
        stack.stop_process("beat")
        configure_django(stack)
        # Models and tasks load only after django.setup() (configure_django), with the stack's URLs.
        from wallboard.boards.models import Tenant
        from wallboard.live import store
        from wallboard.polling.tasks import poll_tenant

        tenant_id = Tenant.objects.get(name="Demo (simulator)").pk
        url, headers = ws_target(stack, display_cookie(stack))
        screens = Screens(url, headers, args.clients).start()
        every = max(1, args.cycles // 10)
        done = 0
        samples.append(sample(stack, 0, screens))
        print_sample(samples[-1], 0)
        while done < args.cycles and time.monotonic() - started < args.max_seconds:
            head = store.load_head("demo")
            poll_tenant.apply_async((tenant_id,))
            wait_until(lambda head=head: store.load_head("demo") != head, 30, interval=0.005, what="the poll")
            done += 1
            if done % every == 0:
                samples.append(sample(stack, done, screens))
                print_sample(samples[-1], time.monotonic() - started)
    finally:
        if screens is not None:
            screens.stop()
        stack.stop()
    return report(samples, args.cycles, time.monotonic() - started)


def print_sample(s: dict, elapsed: float) -> None:
    print(f"  {s['cycles']:>6} cycles ({elapsed:5.0f} s): web {s['web_kb'] / 1024:6.1f} MB, worker "
          f"{s['worker_kb'] / 1024:6.1f} MB, Redis {s['keys']} keys / {s['redis_kb'] / 1024:.1f} MB, pub/sub "
          f"channels {s['channels']}, board group subscribers {s['group_subscribers']}, "
          f"messages to screens {s['messages']}, gaps {s['gaps']}", flush=True)


def report(samples: list[dict], wanted: int, elapsed: float) -> int:
    start, middle, end = samples[1] if len(samples) > 1 else samples[0], samples[len(samples) // 2], samples[-1]
    print(f"\n{end['cycles']} cycles in {elapsed:.0f} s ({machine()})")
    print("  first sample after warm-up / middle / end:")
    for key in ("web_kb", "worker_kb", "keys", "redis_kb", "channels", "group_subscribers"):
        print(f"    {key:<18} {start[key]:>10} {middle[key]:>10} {end[key]:>10}")
    ok = verdict("cycles", end["cycles"] >= wanted, f"{end['cycles']} of {wanted}")
    for key in ("web_kb", "worker_kb"):
        growth = (end[key] - middle[key]) / max(1, middle[key])
        ok &= verdict(f"{key} flat", growth <= GROWTH_LIMIT, f"{growth * 100:+.1f} % from middle to end")
    # Not growing: a key with a TTL may expire (beat, which re-arms some, is stopped here).
    for key in ("keys", "channels", "group_subscribers"):
        ok &= verdict(f"{key} flat", end[key] <= middle[key], f"{middle[key]} -> {end[key]}")
    ok &= verdict("seq gaps", end["gaps"] == 0, str(end["gaps"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
