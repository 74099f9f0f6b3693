"""Fan-out: N websocket clients on one web process (or a few), against the running stack at full size.

The stack runs for real (Redis, simulator at 2,000 agents / 300 queues, web, worker, beat).
Clients are added in stages (100, 500, 1,000 by default, cumulative) and spread over a few
client processes, each with one asyncio loop; every message's arrival time is taken when it
has been read in full. Per poll cycle (one patch message, same epoch and seq for everyone):

- spread: last client's arrival - first client's arrival (p50, p99 over the cycles);
- seq gaps: messages a client never received (must be 0);
- server RSS per connection: web process RSS growth / connections, after they are idle;
- CPU over the window of the web processes, the rest of the stack and the clients, as a share
  of the box, and the web CPU per poll cycle per screen (what load on a shared box does not
  change: on an idle core the spread is about the busiest process's CPU per cycle).

The clients must not be what is measured: each client process samples its own event loop's
lateness (a 5 ms sleep) during the window and reports its CPU use; both are printed, and if a
client loop was late by more than a quarter of the spread target, the run says so.

    .venv/bin/python bench/fanout.py                      # 100, 500, 1000 clients, 6 cycles each
    .venv/bin/python bench/fanout.py --clients 100 --cycles 3 --procs 1
    .venv/bin/python bench/fanout.py --web-procs 2       # clients split across two web processes
    .venv/bin/python bench/fanout.py --web-procs 2 --clients 1000 5000 --procs 4 --spread-target 500  # issue 23

With `--web-procs N` the stack runs N uvicorn processes on its one Redis and database (as
behind a proxy) and client process i connects to web process i mod N: the spread is then
measured across processes, RSS and web CPU are the sum over them.

Targets at the largest stage: p99 spread (--spread-target, 200 ms), 0 seq gaps, ≤ 40 kB RSS per
added idle connection, permessage-deflate negotiated. Exit status 0 when every one is met, 1
otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BoardClient,
    board_ready,
    children,
    cpu_seconds,
    display_cookie,
    load_average,
    loop_lag,
    machine,
    percentile,
    raise_open_files,
    rss_kb,
    sim,
    start_stack,
    verdict,
    wait_until,
    ws_target,
)

# One web process with 1,000 screens (issue 9): 200 ms. Two processes with 5,000 screens on one
# 2-core box (issue 23): `--spread-target 500`.
SPREAD_TARGET_MS = 200.0
RSS_TARGET_KB = 40.0


# --- client processes ----------------------------------------------------------------------------


def client_process(conn, url: str, headers: dict[str, str], retry: bool = False) -> None:
    """Serve the parent's commands: add k clients, measure for s seconds, count snapshots, quit."""
    raise_open_files()
    asyncio.run(_client_main(conn, url, headers, retry))


async def _client_main(conn, url: str, headers: dict[str, str], retry: bool) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    clients: list[BoardClient] = []
    tasks = []
    while True:
        command, arg = await loop.run_in_executor(None, conn.recv)
        if command == "add":
            tasks += await _add(clients, arg, url, headers, stop, retry)
            conn.send(("ready", sum(c.snapshots > 0 for c in clients), _extensions(clients)))
        elif command == "measure":
            conn.send(("measured", await _measure(clients, arg)))
        elif command == "snapshots":
            conn.send(("snapshots", [(c.snapshots, c.connected, c.gaps) for c in clients]))
        elif command == "quit":
            stop.set()
            await asyncio.wait(tasks, timeout=10)
            conn.send(("bye", None))
            return


async def _add(clients: list[BoardClient], count: int, url: str, headers: dict, stop: asyncio.Event,
               retry: bool) -> list:
    new = [BoardClient(url, headers) for _ in range(count)]
    clients.extend(new)
    tasks = []
    for i, client in enumerate(new):
        tasks.append(asyncio.ensure_future(client.run(stop, retry=retry)))
        if i % 25 == 24:
            await asyncio.sleep(0.05)  # a ramp, not a SYN flood
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(c.snapshots for c in new):
        await asyncio.sleep(0.2)
    return tasks


def _extensions(clients: list[BoardClient]) -> str:
    for client in clients:
        if client.ws is not None:
            return ", ".join(repr(e) for e in client.ws.protocol.extensions) or "none"
    return "none"


async def _measure(clients: list[BoardClient], seconds: float) -> dict:
    for client in clients:
        client.arrivals.clear()
    gaps_before = sum(c.gaps for c in clients)
    lag: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.ensure_future(loop_lag(stop, lag))
    cpu_before = time.process_time()
    await asyncio.sleep(seconds)
    stop.set()
    await probe
    arrivals: dict[tuple, list[float]] = defaultdict(list)
    sizes: dict[tuple, int] = {}
    as_of: dict[tuple, str | None] = {}
    for client in clients:
        for a in client.arrivals:
            if a.kind == "patch":
                arrivals[(a.epoch, a.seq)].append(a.at)
                sizes[(a.epoch, a.seq)] = a.size
                as_of[(a.epoch, a.seq)] = a.as_of
    return {
        "arrivals": dict(arrivals), "sizes": sizes, "as_of": as_of,
        "gaps": sum(c.gaps for c in clients) - gaps_before,
        "connected": sum(c.connected for c in clients),
        "lag_p99_ms": percentile(lag, 99) * 1000, "lag_max_ms": max(lag, default=0) * 1000,
        "cpu": time.process_time() - cpu_before,
    }


# --- the parent ------------------------------------------------------------------------------------


class Clients:
    """The client processes, driven over pipes."""

    def __init__(self, url: str, headers: dict[str, str], procs: int, retry: bool = False,
                 targets: list[tuple[str, dict[str, str]]] | None = None):
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        targets = targets or [(url, headers)]
        for i in range(procs):
            parent, child = ctx.Pipe()
            url, headers = targets[i % len(targets)]  # client process i -> web process i mod N
            proc = ctx.Process(target=client_process, args=(child, url, headers, retry), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def ask(self, command: str, args: list) -> list:
        for pipe, arg in zip(self.pipes, args, strict=True):
            pipe.send((command, arg))
        return [pipe.recv() for pipe in self.pipes]

    def add(self, count: int) -> tuple[int, str]:
        share = [count // len(self.pipes) + (1 if i < count % len(self.pipes) else 0) for i in range(len(self.pipes))]
        answers = self.ask("add", share)
        return sum(a[1] for a in answers), answers[0][2]

    def snapshots(self) -> list[tuple[int, bool, int]]:
        """(snapshots received, connected, gaps) of every client."""
        return [entry for answer in self.ask("snapshots", [None] * len(self.pipes)) for entry in answer[1]]

    def measure(self, seconds: float) -> list[dict]:
        return [a[1] for a in self.ask("measure", [seconds] * len(self.pipes))]

    def quit(self) -> None:
        try:
            self.ask("quit", [None] * len(self.pipes))
        finally:
            for proc in self.procs:
                proc.join(5)
                if proc.is_alive():
                    proc.kill()


def merge(results: list[dict], expected: int) -> dict:
    """Spread per cycle over every client process."""
    arrivals: dict[tuple, list[float]] = defaultdict(list)
    sizes, as_of = {}, {}
    for r in results:
        for key, times in r["arrivals"].items():
            arrivals[key].extend(times)
        sizes.update(r["sizes"])
        as_of.update(r["as_of"])
    spreads, complete, first_after = [], 0, []
    for key, times in sorted(arrivals.items(), key=lambda kv: kv[0][1]):
        if len(times) < expected:
            continue  # a cycle cut by the window's edges
        complete += 1
        spreads.append((max(times) - min(times)) * 1000)
        if as_of.get(key):
            fetched = datetime.fromisoformat(as_of[key]).timestamp()
            first_after.append((min(times) - fetched) * 1000)
    return {
        "cycles": complete, "spreads": spreads, "gaps": sum(r["gaps"] for r in results),
        "size": max(sizes.values(), default=0), "first_after_ms": first_after,
        "lag_p99_ms": max(r["lag_p99_ms"] for r in results), "lag_max_ms": max(r["lag_max_ms"] for r in results),
        "client_cpu": sum(r["cpu"] for r in results),
    }


def web_names(stack) -> list[str]:
    """The stack's web processes: "web", and "web-2"... when --web-procs started more."""
    return [name for name in stack.processes if name == "web" or name.startswith("web-")]


def web_rss_kb(stack) -> int:
    return sum(rss_kb(stack.processes[name].pid) for name in web_names(stack))


def web_cpu_seconds(stack) -> float:
    return sum(cpu_seconds(stack.processes[name].pid) for name in web_names(stack))


def stack_cpu_seconds(stack) -> float:
    """Every process of the stack but the web ones (Redis, simulator, worker and its pool, beat)."""
    pids = [proc.pid for name, proc in stack.processes.items() if name not in web_names(stack)]
    pids += [child for pid in pids for child in children(pid)]
    if stack.redis is not None and stack.redis.process is not None:
        pids.append(stack.redis.process.pid)
    return sum(cpu_seconds(pid) for pid in pids)


def start_more_web(stack, count: int) -> list[int]:
    """Start `count` more web processes ("web-2", ...) on the stack's Redis and database; their ports."""
    names = [f"web-{n}" for n in range(2, count + 2)]
    for name in names:
        stack.start_web(name, wait=False)  # at once: each takes seconds to import Django
    for name in names:
        stack.wait_for_web(name)
    return [stack.web_ports[name] for name in names]


def ws_targets(stack, cookie: str, web_procs: int) -> list[tuple[str, dict[str, str]]]:
    """The board websocket of the stack's web process and of `web_procs - 1` more, started here."""
    targets = [ws_target(stack, cookie)]
    for port in start_more_web(stack, web_procs - 1):
        targets.append((f"ws://127.0.0.1:{port}/ws/boards/demo/", {"Origin": f"http://127.0.0.1:{port}", "Cookie": cookie}))
    return targets


def run_stage(stack, clients: Clients, total: int, added: int, cycles: int, baseline_kb: int) -> dict:
    started = time.monotonic()
    ready, extensions = clients.add(added)
    print(f"\n{total} clients: {ready}/{added} new ones got a snapshot in {time.monotonic() - started:.1f} s "
          f"(extensions: {extensions})", flush=True)
    time.sleep(12)  # let every connection settle and go idle through one cycle
    rss = web_rss_kb(stack)
    web_cpu = web_cpu_seconds(stack)
    stack_cpu = stack_cpu_seconds(stack)
    sim(stack, "/_sim/reset-counters", {})
    seconds = cycles * 10 + 2
    result = merge(clients.measure(seconds), total)
    state = sim(stack, "/_sim/state")
    result.update(
        clients=total, rss_kb=rss, per_conn_kb=(rss - baseline_kb) / total, extensions=extensions,
        web_cpu_pct=(web_cpu_seconds(stack) - web_cpu) / seconds * 100,
        stack_cpu_pct=(stack_cpu_seconds(stack) - stack_cpu) / seconds * 100,
        client_cpu_pct=result["client_cpu"] / seconds * 100, load=load_average(),
        upstream_per_cycle=(state["requests"]["agents"] + state["requests"]["queues"]) / max(1, state["refresh_count"]),
        max_in_flight=max(state["max_in_flight"].values(), default=0),
    )
    print_stage(result)
    return result


def print_stage(r: dict) -> None:
    s = r["spreads"]
    first = r["first_after_ms"]
    print(f"  cycles measured {r['cycles']}, patch size up to {r['size'] / 1024:.1f} kB (uncompressed)")
    print(f"  spread first->last client: p50 {percentile(s, 50):.0f} ms, p99 {percentile(s, 99):.0f} ms, "
          f"max {max(s, default=float('nan')):.0f} ms")
    print(f"  as_of -> first client: p50 {percentile(first, 50):.0f} ms (fetch + parse + compute + publish)")
    print(f"  seq gaps: {r['gaps']}")
    print(f"  web RSS {r['rss_kb'] / 1024:.1f} MB, {r['per_conn_kb']:.1f} kB per connection; web CPU {r['web_cpu_pct']:.0f} %")
    print(f"  upstream calls per refresh {r['upstream_per_cycle']:.2f}, max in flight {r['max_in_flight']}")
    print(f"  client loops: lateness p99 {r['lag_p99_ms']:.1f} ms, max {r['lag_max_ms']:.1f} ms, "
          f"client CPU {r['client_cpu']:.1f} s over the window")
    cores = os.cpu_count() or 1
    # CPU per cycle is what load on a shared box does not change: the spread on an idle core is
    # about the web CPU per cycle of the busiest process.
    per_cycle = r["web_cpu_pct"] / 100 * 10  # 10 s cycles
    print(f"  web CPU per cycle {per_cycle * 1000:.0f} ms over all web processes, "
          f"{per_cycle / max(1, r['clients']) * 1e6:.0f} us per screen")
    print(f"  CPU share of the {cores}-core box over the window: web {r['web_cpu_pct'] / cores:.0f} %, "
          f"rest of the stack {r['stack_cpu_pct'] / cores:.0f} %, clients {r['client_cpu_pct'] / cores:.0f} % "
          f"(load average {r['load']})")


def naive(stack, screens: int, seconds: float) -> None:
    """The design we do not use: every screen polls 8x8 itself (agents + queues every 10 s).

    Screens start at random points of the cycle, as TVs switched on at different times do.
    Prints what the simulator saw: calls per refresh and how many were refused (503, one
    request in flight per tenant).
    """
    stop = threading.Event()
    outcomes: list[tuple[int, int]] = []

    def screen() -> None:
        session = requests.Session()
        session.auth = ("demo", "demo-token")
        stop.wait(random.uniform(0, 10))
        while not stop.is_set():
            started = time.monotonic()
            codes = [session.get(f"{stack.sim_url}/api/rtstats/stats/{kind}.json", timeout=10).status_code
                     for kind in ("agents", "queues")]
            outcomes.append(tuple(codes))
            stop.wait(max(0.0, 10 - (time.monotonic() - started)))

    stack.stop_process("beat")  # only the screens poll
    sim(stack, "/_sim/reset-counters", {})
    threads = [threading.Thread(target=screen, daemon=True) for _ in range(screens)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(15)
    state = sim(stack, "/_sim/state")
    calls = state["requests"]["agents"] + state["requests"]["queues"]
    refused = state["responses"].get("503", 0)
    whole = sum(1 for codes in outcomes if codes == (200, 200))
    print(f"\nnaive design, {screens} screens polling 8x8 themselves for {seconds:.0f} s: {calls} calls "
          f"({calls / max(1, state['refresh_count']):.0f} per refresh), {refused} answered 503 "
          f"({refused / max(1, calls) * 100:.0f} %); screen cycles with both answers: {whole} of {len(outcomes)} "
          f"({whole / max(1, len(outcomes)) * 100:.0f} %); max in flight {max(state['max_in_flight'].values())}")
    stack.start_beat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500, 1000], help="stages, cumulative")
    parser.add_argument("--cycles", type=int, default=6, help="poll cycles measured per stage")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--web-procs", type=int, default=1,
                        help="web processes on the one stack; client process i uses web process i mod N")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=300)
    parser.add_argument("--spread-target", type=float, default=SPREAD_TARGET_MS, metavar="MS",
                        help="p99 spread target at the largest stage (issue 23: 500 for 5,000 on two processes)")
    parser.add_argument("--naive", type=int, default=0, metavar="N",
                        help="instead: N screens polling 8x8 themselves for 60 s (the design we avoid)")
    args = parser.parse_args(argv)
    print(machine())
    raise_open_files()
    stack = start_stack(args.agents, args.queues)
    clients = None
    results = []
    try:
        wait_until(lambda: board_ready(stack), 90, what="first board state")
        if args.naive:
            naive(stack, args.naive, 60)
            return 0
        cookie = display_cookie(stack)
        targets = ws_targets(stack, cookie, args.web_procs)
        url, headers = targets[0]
        time.sleep(3)
        baseline = web_rss_kb(stack)
        print(f"web RSS with no client: {baseline / 1024:.1f} MB ({len(targets)} web process(es))", flush=True)
        clients = Clients(url, headers, max(args.procs, len(targets)), targets=targets)
        total = 0
        for count in sorted(args.clients):
            added, total = count - total, count
            results.append(run_stage(stack, clients, total, added, args.cycles, baseline))
    finally:
        if clients is not None:
            clients.quit()
        stack.stop()
    return report(results, args.spread_target)


def marginal_kb(results: list[dict]) -> float:
    """RSS per added connection between the first and the last stage.

    The growth from no client to the first stage also holds what any first client costs once
    (the snapshot cache, the shared compressed frames, the allocator's first arenas); the slope
    between stages is what one more idle screen costs.
    """
    first, last = results[0], results[-1]
    if last["clients"] == first["clients"]:
        return last["per_conn_kb"]
    return (last["rss_kb"] - first["rss_kb"]) / (last["clients"] - first["clients"])


def report(results: list[dict], spread_target: float = SPREAD_TARGET_MS) -> int:
    last = results[-1]
    marginal = marginal_kb(results)
    print(f"\ntargets at {last['clients']} clients ({machine()}):")
    ok = verdict("p99 spread", percentile(last["spreads"], 99) <= spread_target and last["cycles"] > 0,
                 f"{percentile(last['spreads'], 99):.0f} ms (target <= {spread_target:.0f} ms)")
    ok &= verdict("seq gaps", sum(r["gaps"] for r in results) == 0, f"{sum(r['gaps'] for r in results)} (target 0)")
    ok &= verdict("RSS per idle connection", marginal <= RSS_TARGET_KB,
                  f"{marginal:.1f} kB from {results[0]['clients']} to {last['clients']} clients "
                  f"({last['per_conn_kb']:.1f} kB counting the whole growth from 0) (target <= {RSS_TARGET_KB:.0f} kB)")
    ok &= verdict("permessage-deflate", "PerMessageDeflate" in last["extensions"], last["extensions"])
    if last["lag_p99_ms"] > spread_target / 4:
        print(f"  note: a client loop ran {last['lag_p99_ms']:.0f} ms late (p99): add --procs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
