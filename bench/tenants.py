"""Many tenants on one box: poll CPU per tenant, the ticks' own cost, data age, calls per refresh.

The simulator (in this process, speed 1: a real 10 s refresh) serves N tenants of its one
contact centre (default 50 agents / 10 queues), each with its own credentials; every tenant has
one board of its 10 queues. Redis, one Celery worker with the production settings (prefork,
4 processes, as docker-compose.yml) and one beat run as real processes (no web server: screens
are bench/fanout.py's business). After `--settle` seconds (the phase lock converging) the
figures are taken over `--seconds`:

- poll cycle CPU per tenant: the worker's CPU (all its processes) per poll;
- the ticks' own cost: `--ticks` extra calls of the real tick task function in a separate
  process (a second beat, as far as Redis can tell): CPU and wall time, database queries;
- data age: for every tenant and every upstream refresh in the window, from the refresh to the
  end of the first poll after it (its second call: the board is published right after), mean
  and max over all tenants, and the worst tenant's mean;
- upstream calls per tenant per refresh (target 2: one agents and one queues call).

    .venv/bin/python bench/tenants.py                       # 200 tenants
    .venv/bin/python bench/tenants.py --tenants 200 1000    # both sizes, one after the other

Targets: data age mean <= 1.5 s and max <= 3 s, calls per tenant per refresh <= 2.2 (two, and
the phase lock's probes). Exit status 0 when every size meets them, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import children, cpu_seconds, machine, percentile, verdict  # noqa: E402
from wallboard.devstack.stack import Stack  # noqa: E402
from wallboard.polling.keys import phase_key  # noqa: E402
from wallboard.simulator.server import SimulatorServer  # noqa: E402

MEAN_TARGET = 1.5
MAX_TARGET = 3.0
CALLS_TARGET = 2.2
REFRESH = 10.0

# Run by `manage.py shell -c` in the stack's environment: N tenants, one board each.
CREATE = """
import os
from wallboard.boards.models import Board, BoardQueue, Tenant
from wallboard.polling.clients import client_for
n, base = int(os.environ["BENCH_TENANTS"]), os.environ["BENCH_SIM_URL"]
tenants = Tenant.objects.bulk_create(
    Tenant(name=f"Tenant {i}", base_url=base, tenant_name=f"t{i}", token=f"token-{i}") for i in range(n)
)
queue_ids = [q.queue_id for q in client_for(tenants[0]).queues()]
boards = Board.objects.bulk_create(Board(slug=f"b{t.pk}", title=t.name, tenant=t) for t in tenants)
BoardQueue.objects.bulk_create(
    BoardQueue(board=b, queue_id=q, position=p) for b in boards for p, q in enumerate(queue_ids)
)
print(len(tenants), len(queue_ids))
"""

# Extra ticks, as a second beat would send them: what one tick costs with N tenants.
TICKS = """
import json, os, time
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wallboard.polling import tasks
out = []
for _ in range(int(os.environ["BENCH_TICKS"])):
    cpu, wall = time.process_time(), time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        due = tasks.tick()
    out.append([time.process_time() - cpu, time.perf_counter() - wall, len(queries), due])
    time.sleep(0.5)
print("TICKS " + json.dumps(out))
"""


def tree_cpu(pid: int) -> float:
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children(pid))


def ages(log: list[tuple[float, str, str]], start: float, end: float, *, to_start: bool = False) -> dict[str, list[float]]:
    """Per tenant: for each refresh in [start, end), from it to the end of the first poll after it.

    With `to_start`, to the start of that poll instead (its first call): the part of the age
    that is waiting for a worker, not calling upstream.
    """
    calls: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for at, tenant, kind in log:
        calls[tenant].append((at, kind))
    refreshes = [REFRESH * k for k in range(int(start // REFRESH) + 1, int(end // REFRESH))]
    out: dict[str, list[float]] = {}
    for tenant, seen in calls.items():
        agents = [at for at, kind in seen if kind == "agents"]
        queues = [at for at, kind in seen if kind == "queues"]
        out[tenant] = []
        for refresh in refreshes:
            i = bisect_left(agents, refresh)
            if i == len(agents):
                continue  # the window ended first
            j = bisect_left(queues, agents[i])
            done = queues[j] if j < len(queues) and not to_start else agents[i]
            out[tenant].append(done - refresh)
    return out


def phase_modes(stack: Stack) -> dict[str, int]:
    """How many tenants the phase lock has in each mode now (tenants without a phase: none)."""
    client = redis.Redis.from_url(stack.redis_url)
    modes: Counter[str] = Counter()
    for key in client.scan_iter(match=phase_key(0).replace(":0:", ":*:"), count=1000):
        mode = client.hget(key, "mode")
        modes[mode.decode() if mode else "none"] += 1
    return dict(modes)


def run(n: int, args: argparse.Namespace) -> dict:
    sim = SimulatorServer(port=0, agents=args.agents, queues=args.queues, seed=1,
                          tenants={f"t{i}": f"token-{i}" for i in range(n)})
    sim.start()
    run_dir = Path(tempfile.mkdtemp(prefix="wb-"))
    stack = Stack(run_dir, sim_port=sim.port, concurrency=args.concurrency)
    try:
        stack.start_redis()
        # SQLite by default; production's PostgreSQL with --database-url (an empty database).
        stack.database_url = args.database_url or f"sqlite:///{run_dir / 'db.sqlite3'}"
        stack.manage("migrate", "--noinput")
        stack.env_extra.update(BENCH_TENANTS=str(n), BENCH_SIM_URL=sim.base_url, BENCH_TICKS=str(args.ticks))
        print(f"{n} tenants: creating ...", flush=True)
        stack.manage("shell", "-c", CREATE, timeout=600)
        stack.start_worker()
        stack.start_beat()
        print(f"{n} tenants: settling {args.settle} s ...", flush=True)
        time.sleep(args.settle)
        worker = stack.processes["worker"].pid
        beat = stack.processes["beat"].pid
        start, cpu_worker, cpu_beat = time.time(), tree_cpu(worker), tree_cpu(beat)
        sim.reset_counters()
        ticks = json.loads(stack.manage("shell", "-c", TICKS, timeout=300).split("TICKS ", 1)[1])
        time.sleep(max(0.0, args.seconds - (time.time() - start)))
        end = time.time()
        cpu_worker, cpu_beat = tree_cpu(worker) - cpu_worker, tree_cpu(beat) - cpu_beat
        counts = sim.state()
        log = [entry for entry in list(sim.request_log) if start <= entry[0] < end]
        modes = phase_modes(stack)
    finally:
        stack.stop()
        sim.stop()
    by_tenant = ages(log, start, end)
    flat = [a for values in by_tenant.values() for a in values]
    starts = [a for values in ages(log, start, end, to_start=True).values() for a in values]
    polls = sum(1 for _, _, kind in log if kind == "agents")
    refreshes = (end - start) / REFRESH
    calls = sum(1 for _, _, kind in log if kind in ("agents", "queues"))
    busy_ticks = [t for t in ticks if t[3]]
    return {
        "tenants": n,
        "concurrency": args.concurrency,
        "database": (args.database_url or "sqlite").split(":", 1)[0],
        "seconds": round(end - start, 1),
        "polls": polls,
        "tenants_polled": len(by_tenant),
        "worker_cpu_percent": round(100 * cpu_worker / (end - start), 1),
        "poll_cpu_ms": round(1000 * cpu_worker / max(1, polls), 2),
        "beat_cpu_percent": round(100 * cpu_beat / (end - start), 2),
        "tick_cpu_ms_mean": round(1000 * sum(t[0] for t in ticks) / len(ticks), 2),
        "tick_cpu_ms_median": round(1000 * percentile([t[0] for t in ticks], 50), 2),
        "tick_wall_ms_mean": round(1000 * sum(t[1] for t in ticks) / len(ticks), 2),
        "tick_wall_ms_max": round(1000 * max(t[1] for t in ticks), 2),
        "tick_queries_max": max(t[2] for t in ticks),
        "tick_claimed_mean": round(sum(t[3] for t in ticks) / len(ticks), 1),
        "tick_cpu_ms_per_claim": round(1000 * sum(t[0] for t in busy_ticks) / max(1, sum(t[3] for t in busy_ticks)), 3),
        "age_mean": round(sum(flat) / max(1, len(flat)), 3),
        "age_p99": round(percentile(flat, 99), 3) if flat else None,
        "age_max": round(max(flat), 3) if flat else None,
        "age_to_poll_start_mean": round(sum(starts) / max(1, len(starts)), 3),
        "poll_start_after_refresh_p10_p50_p90": [round(percentile(starts, p), 2) for p in (10, 50, 90)] if starts else None,
        "phase_modes_at_end": modes,
        "worst_tenant_mean": round(max(sum(v) / len(v) for v in by_tenant.values() if v), 3) if flat else None,
        "calls_per_tenant_per_refresh": round(calls / (n * refreshes), 3),
        "busy_503": counts["busy_rejections"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, nargs="+", default=[200])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes (docker-compose.yml: 4)")
    parser.add_argument("--settle", type=int, default=120, help="seconds for the phase lock to converge")
    parser.add_argument("--seconds", type=int, default=120, help="seconds measured")
    parser.add_argument("--ticks", type=int, default=20, help="extra ticks timed in a separate process")
    parser.add_argument("--database-url", help="an empty database for the run (default: a new SQLite file)")
    args = parser.parse_args(argv)
    print(machine(), flush=True)
    ok = True
    for n in args.tenants:
        result = run(n, args)
        print(json.dumps(result), flush=True)
        ok &= verdict(f"{n} tenants: data age mean", result["age_mean"] <= MEAN_TARGET, f"{result['age_mean']} s")
        ok &= verdict(f"{n} tenants: data age max", (result["age_max"] or 99) <= MAX_TARGET, f"{result['age_max']} s")
        ok &= verdict(f"{n} tenants: calls per tenant per refresh", result["calls_per_tenant_per_refresh"] <= CALLS_TARGET,
                      str(result["calls_per_tenant_per_refresh"]))
        ok &= verdict(f"{n} tenants: every tenant polled", result["tenants_polled"] == n, str(result["tenants_polled"]))
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallboard.settings")
    sys.exit(main())
