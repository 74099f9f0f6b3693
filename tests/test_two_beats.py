"""Two Celery beats against one Redis: one poll per tenant per cycle, and no gap when one dies.

Real processes (one prefork worker, two beats) on the test's Redis and database, and the
simulator in this process, running twice as fast (an upstream refresh every 5 s) for
tenants polled every 5 s. Calls are counted in the simulator (its per-tenant counters, as
/_sim/state reports them, and its request log for when each poll came), not timed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers import wait_for
from wallboard.boards.models import Tenant
from wallboard.polling.keys import phase_key
from wallboard.simulator.server import SimulatorServer

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TENANTS = 4
INTERVAL = 5  # seconds; the simulator at speed 2 refreshes every 5 s too


@pytest.fixture
def sim():
    server = SimulatorServer(port=0, agents=20, queues=4, seed=3, speed=2.0,
                             tenants={f"t{n}": f"token-{n}" for n in range(TENANTS)})
    server.start()
    yield server
    server.stop()


def spawn(argv: list[str], env: dict, log_path: Path) -> tuple[subprocess.Popen, object]:
    log = open(log_path, "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "wallboard", *argv], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@pytest.fixture
def stack(subprocess_env, redis_client, tmp_path):
    """One worker and two beats; yields {name: process}."""
    procs = {
        "worker": spawn(["worker", "--pool", "prefork", "--concurrency", "2", "--loglevel", "INFO", "--without-gossip",
                         "--without-mingle", "--hostname", f"beats-{os.getpid()}@%h"], subprocess_env, tmp_path / "worker.log"),
    }
    # DEBUG: a beat logs each tick it sends, which shows that both of them tick.
    beat_env = {**subprocess_env, "LOG_LEVEL": "DEBUG"}
    for name in ("beat-a", "beat-b"):
        procs[name] = spawn(["beat", "--loglevel", "DEBUG", "--schedule", str(tmp_path / f"{name}.schedule")],
                            beat_env, tmp_path / f"{name}.log")
    yield {name: proc for name, (proc, _) in procs.items()}
    for proc, log in procs.values():
        stop(proc)
        log.close()


def polls_by_tenant(sim: SimulatorServer, since: float) -> dict[str, list[float]]:
    """When each tenant's agents call came (one per poll), from the simulator's request log."""
    polls: dict[str, list[float]] = defaultdict(list)
    for at, tenant, kind in list(sim.request_log):
        if kind == "agents" and at >= since:
            polls[tenant].append(at)
    return polls


def ticks_sent(log_path: Path) -> int:
    return log_path.read_text().count("Sending due task dispatch-polls")


def all_locked(redis_client) -> bool:
    """Every tenant's phase lock has found its refresh: from now on one poll per refresh."""
    modes = [redis_client.hget(phase_key(t.pk), "mode") for t in Tenant.objects.all()]
    return len(modes) == TENANTS and all(m == b"locked" for m in modes)


def test_it_polls_each_tenant_once_per_cycle_with_two_beats_and_goes_on_when_one_dies(sim, stack, tmp_path,
                                                                                        redis_client):
    for n in range(TENANTS):
        Tenant.objects.create(name=f"T{n}", base_url=sim.base_url, tenant_name=f"t{n}", token=f"token-{n}",
                              poll_interval=INTERVAL, schedule_refresh_interval=60)
    # Processes start slowly on a loaded machine; then the phase lock searches (more polls,
    # by design). Measured from when every tenant is locked: one poll per refresh from then on.
    wait_for(lambda: all_locked(redis_client), timeout=150, interval=0.5, what="every tenant's phase locked")
    start = time.time()
    time.sleep(5 * INTERVAL)  # five cycles with both beats ticking
    ticks_a = ticks_sent(tmp_path / "beat-a.log")
    ticks_b = ticks_sent(tmp_path / "beat-b.log")
    killed_at = time.time()
    stop(stack["beat-a"], signal.SIGKILL)  # no goodbye: as a lost machine
    time.sleep(5 * INTERVAL)  # five more with one
    end = time.time()
    # Both ticked all along (once a second each): every poll had two beats racing for it.
    assert ticks_a >= 5 * INTERVAL and ticks_b >= 5 * INTERVAL, (ticks_a, ticks_b)
    assert ticks_sent(tmp_path / "beat-b.log") > ticks_b + 3 * INTERVAL
    stop(stack["beat-b"])
    stop(stack["worker"])  # a warm shutdown: the poll it runs ends with both of its calls

    counts = sim.state()["requests_by_tenant"]
    polls = polls_by_tenant(sim, start)
    assert sim.state()["busy_rejections"] == 0, "two requests of one tenant were in flight at once"
    cycles = (end - start) / INTERVAL
    for n in range(TENANTS):
        tenant = f"t{n}"
        times = [t for t in polls[tenant] if t < end]
        assert counts[tenant]["agents"] == counts[tenant]["queues"], "every poll makes one call of each"
        # One poll per refresh (and the lock's occasional probe); a poll claimed by both beats
        # would have made it two.
        assert cycles - 1 <= len(times) <= cycles + 2, f"{tenant}: {len(times)} polls in {cycles:.1f} cycles"
        # The lost beat cost no cycle: every poll came within one cycle (and a tick) of the last.
        gaps = [b - a for a, b in zip([start, *times], [*times, end], strict=False)]
        assert max(gaps) < INTERVAL + 2, f"{tenant}: {max(gaps):.2f} s without a poll (beat killed at {killed_at - start:.0f} s)"
        # One schedule refresh per interval (60 s): two beats did not make it two.
        refreshes = [at for at, who, kind in list(sim.request_log) if who == tenant and kind == "schedules"]
        assert refreshes and counts[tenant]["schedules"] == len(refreshes)
        assert all(b - a > 59 for a, b in zip(refreshes, refreshes[1:], strict=False)), refreshes
        print(f"{tenant}: {len(times)} polls in {cycles:.1f} cycles, longest gap {max(gaps):.2f} s, "
              f"{len(refreshes)} schedule refresh(es)")
