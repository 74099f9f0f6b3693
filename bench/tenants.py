"""Many tenants on one box: poll CPU per tenant, the ticks' own cost, data age, calls per refresh.

The simulator (in this process, speed 1: a real 10 s refresh) serves N tenants of its one
contact centre (default 50 agents / 10 queues), each with its own credentials; every tenant has
one board of its 10 queues. Redis, Celery workers with the production settings (as
docker-compose.yml: a poll worker of 4 prefork processes on the default queue, polls in batches
of 8 in threads, and a one-process worker for the tick's own queue) and one beat run as real
processes (no web server: screens are bench/fanout.py's business). `--workers N` starts N poll
workers (N pools, as on N hosts), `--no-tick-worker` leaves the tick in the poll pool, `--batch 1`
sends one poll per task (as before batches). After `--settle` seconds (the phase lock
converging) the figures are taken over `--seconds`:

- poll cycle CPU per poll and per tenant per refresh: the poll workers' CPU (all processes);
  the ticker's, Redis's and the simulator's (this process) CPU;
- the ticks' own cost: `--ticks` extra calls of the real tick task function in a separate
  process (a second beat, as far as Redis can tell): CPU and wall time, database queries;
- data age: for every tenant and every upstream refresh in the window, from the refresh to the
  end of the first poll after it (its second call: the board is published right after), mean
  and max over all tenants, and the worst tenant's mean;
- upstream calls per tenant per refresh (target 2: one agents and one queues call).

    .venv/bin/python bench/tenants.py                       # 200 tenants
    .venv/bin/python bench/tenants.py --tenants 200 1000    # both sizes, one after the other
    .venv/bin/python bench/tenants.py --tenants 100 --workers 2 --postgres postgres://postgres@127.0.0.1:5432

SQLite (the default) locks under many writers; `--postgres` (a database made for each run on
that server and dropped after it) measures production's database.

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


def call_gaps(log: list[tuple[float, str, str]]) -> list[float]:
    """Per poll, from its agents call to its queues call: how long a poll takes once started."""
    last: dict[str, float] = {}
    gaps = []
    for at, tenant, kind in sorted(log):
        if kind == "agents":
            last[tenant] = at
        elif kind == "queues" and tenant in last:
            gaps.append(at - last.pop(tenant))
    return gaps


def phase_modes(stack: Stack) -> dict[str, int]:
    """How many tenants the phase lock has in each mode now (tenants without a phase: none)."""
    client = redis.Redis.from_url(stack.redis_url)
    modes: Counter[str] = Counter()
    for key in client.scan_iter(match=phase_key(0).replace(":0:", ":*:"), count=1000):
        mode = client.hget(key, "mode")
        modes[mode.decode() if mode else "none"] += 1
    return dict(modes)


def scratch_database(server: str, name: str) -> str:
    """Make an empty database on a PostgreSQL server (a URL without a database); return its URL."""
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rstrip('/')}/{name}"


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_workers(stack: Stack, args: argparse.Namespace) -> list[str]:
    """The poll workers (each its own prefork pool, as on separate hosts) and the tick's worker.

    With `--tick-worker` the tick has its own queue and a worker of its own (one process, as
    docker-compose.yml's ticker); without, it shares the poll workers' pools.
    """
    names = [f"worker{i}" if i else "worker" for i in range(args.workers)]
    if args.tick_worker:
        stack.env_extra["WALLBOARD_TICK_QUEUE"] = "tick"
        stack.start_worker("ticker", queues="tick", concurrency=1)
    for name in names:
        stack.start_worker(name, queues="celery" if args.tick_worker else None)
    return names


def run(n: int, args: argparse.Namespace) -> dict:
    sim = SimulatorServer(port=0, agents=args.agents, queues=args.queues, seed=1,
                          tenants={f"t{i}": f"token-{i}" for i in range(n)})
    sim.start()
    run_dir = Path(tempfile.mkdtemp(prefix="wb-"))
    scratch = scratch_database(args.postgres, f"wb_tenants_{os.getpid()}_{n}") if args.postgres else None
    stack = Stack(run_dir, sim_port=sim.port, concurrency=args.concurrency)
    try:
        stack.start_redis()
        # SQLite by default; production's PostgreSQL with --database-url (an empty database) or
        # --postgres (a server: a database made for the run and dropped after it).
        stack.database_url = args.database_url or scratch or f"sqlite:///{run_dir / 'db.sqlite3'}"
        stack.manage("migrate", "--noinput")
        stack.env_extra.update(BENCH_TENANTS=str(n), BENCH_SIM_URL=sim.base_url, BENCH_TICKS=str(args.ticks),
                               WALLBOARD_POLL_BATCH=str(args.batch))
        print(f"{n} tenants: creating ...", flush=True)
        stack.manage("shell", "-c", CREATE, timeout=600)
        workers = start_workers(stack, args)
        stack.start_beat()
        print(f"{n} tenants: settling {args.settle} s ...", flush=True)
        time.sleep(args.settle)
        pids = [stack.processes[name].pid for name in workers]
        beat = stack.processes["beat"].pid
        ticker = stack.processes["ticker"].pid if args.tick_worker else None
        start, cpu_beat, cpu_sim = time.time(), tree_cpu(beat), time.process_time()
        cpu_worker = sum(tree_cpu(pid) for pid in pids)
        cpu_ticker = tree_cpu(ticker) if ticker else 0.0
        redis_pid = stack.redis.process.pid if stack.redis and stack.redis.process else None
        cpu_redis = cpu_seconds(redis_pid) if redis_pid else 0.0
        load_start = os.getloadavg()
        sim.reset_counters()
        ticks = json.loads(stack.manage("shell", "-c", TICKS, timeout=300).split("TICKS ", 1)[1])
        time.sleep(max(0.0, args.seconds - (time.time() - start)))
        end = time.time()
        cpu_worker, cpu_beat = sum(tree_cpu(pid) for pid in pids) - cpu_worker, tree_cpu(beat) - cpu_beat
        cpu_ticker = tree_cpu(ticker) - cpu_ticker if ticker else 0.0
        cpu_redis = cpu_seconds(redis_pid) - cpu_redis if redis_pid else 0.0
        load_end = os.getloadavg()
        cpu_sim = time.process_time() - cpu_sim
        counts = sim.state()
        log = [entry for entry in list(sim.request_log) if start <= entry[0] < end]
        modes = phase_modes(stack)
    finally:
        stack.stop()
        sim.stop()
        if scratch:
            drop_database(args.postgres, scratch.rsplit("/", 1)[1])
    by_tenant = ages(log, start, end)
    flat = [a for values in by_tenant.values() for a in values]
    starts = [a for values in ages(log, start, end, to_start=True).values() for a in values]
    polls = sum(1 for _, _, kind in log if kind == "agents")
    gaps = call_gaps(log)
    refreshes = (end - start) / REFRESH
    calls = sum(1 for _, _, kind in log if kind in ("agents", "queues"))
    busy_ticks = [t for t in ticks if t[3]]
    return {
        "tenants": n,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "batch": args.batch,
        "tick_worker": args.tick_worker,
        "load_avg_start_end": [round(load_start[0], 2), round(load_end[0], 2)],
        "database": (args.database_url or args.postgres or "sqlite").split(":", 1)[0],
        "seconds": round(end - start, 1),
        "polls": polls,
        "tenants_polled": len(by_tenant),
        "worker_cpu_percent": round(100 * cpu_worker / (end - start), 1),
        "poll_cpu_ms": round(1000 * cpu_worker / max(1, polls), 2),
        "simulator_cpu_percent": round(100 * cpu_sim / (end - start), 1),
        "ticker_cpu_percent": round(100 * cpu_ticker / (end - start), 1),
        "redis_cpu_percent": round(100 * cpu_redis / (end - start), 1),
        # What sizing needs: worker CPU for one tenant's refresh (every process of every worker).
        "cpu_ms_per_tenant_refresh": round(1000 * cpu_worker / (n * refreshes), 2),
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
        "agents_to_queues_call_p50_p90": [round(percentile(gaps, p), 3) for p in (50, 90)] if gaps else None,
        "phase_modes_at_end": modes,
        "tenants_with_an_age_over_max_target": sum(1 for v in by_tenant.values() if v and max(v) > MAX_TARGET),
        "worst_tenant_mean": round(max(sum(v) / len(v) for v in by_tenant.values() if v), 3) if flat else None,
        "calls_per_tenant_per_refresh": round(calls / (n * refreshes), 3),
        "busy_503": counts["busy_rejections"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, nargs="+", default=[200])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4, help="processes per worker (docker-compose.yml: 4)")
    parser.add_argument("--workers", type=int, default=1, help="poll workers, each its own pool (as separate hosts)")
    parser.add_argument("--batch", type=int, default=8, help="WALLBOARD_POLL_BATCH: polls per task, in threads")
    parser.add_argument("--tick-worker", action=argparse.BooleanOptionalAction, default=True,
                        help="the tick on its own queue and worker (docker-compose.yml's ticker)")
    parser.add_argument("--settle", type=int, default=120, help="seconds for the phase lock to converge")
    parser.add_argument("--seconds", type=int, default=120, help="seconds measured")
    parser.add_argument("--ticks", type=int, default=20, help="extra ticks timed in a separate process")
    parser.add_argument("--database-url", help="an empty database for the run (default: a new SQLite file)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (postgres://user@host:port): "
                        "a database is made for each run and dropped after it")
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
