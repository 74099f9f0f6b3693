"""SIGTERM (`docker stop`, systemd, `kill`) stops `make run` as cleanly as Ctrl-C, and the next one starts.

A newcomer's `kill` returns at once: the `make run` typed a second later must wait for the old
stack's Redis rather than fail with "a Redis server is already listening". The old stack is
made slow to stop on purpose (its worker is in the middle of a poll 8x8 does not answer), so
the new one always finds it still stopping.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from wallboard.devstack.stack import BASE_DIR, free_port

READY = "Press Ctrl-C to stop everything."


def runstack(run_dir: Path, port: int, sim_port: int, log_name: str, **extra_env: str) -> subprocess.Popen:
    """`manage.py runstack` as `make run` starts it, its output in a file of the run folder."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "LOG_LEVEL"}}
    env["DATABASE_URL"] = f"sqlite:///{run_dir / 'db.sqlite3'}"
    env.update(extra_env)
    argv = [sys.executable, "manage.py", "runstack", "--port", str(port), "--sim-port", str(sim_port),
            "--agents", "12", "--queues", "3", "--concurrency", "1", "--run-dir", str(run_dir)]
    log = open(run_dir / log_name, "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)


def health(port: int) -> dict | None:
    """/healthz's JSON whatever its status (200, or 503 when something is down), or None."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read()) if exc.code == 503 else None
    except (OSError, ValueError):
        return None


def wait_until_up(proc: subprocess.Popen, port: int, output: Path, timeout: float = 150) -> dict:
    """Wait until runstack has started everything and /healthz answers; return the answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"runstack exited with {proc.returncode}: {output.read_text()[-1500:]}"
        if READY in output.read_text(errors="replace") and (answer := health(port)) is not None:
            return answer
        time.sleep(0.5)
    raise AssertionError(f"the stack did not come up: {output.read_text()[-1500:]}")


def sim(port: int, path: str, body: dict | None = None) -> dict:
    """Call the simulator's control endpoint."""
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data), timeout=10) as r:
        return json.loads(r.read() or b"{}")


def hold_a_poll(sim_port: int, timeout: float = 60) -> None:
    """Make 8x8 stop answering and wait until the worker is in the middle of a poll."""
    sim(sim_port, "/_sim/faults", {"kind": "hang", "target": "rtstats"})
    deadline = time.monotonic() + timeout
    while not any(sim(sim_port, "/_sim/state")["in_flight"].values()):
        assert time.monotonic() < deadline, "no poll reached the simulator"
        time.sleep(0.2)


def processes() -> dict[int, tuple[int, int, str, str]]:
    """Every process: pid -> (parent pid, process group, start time, state), read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while we looked
        found[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[19], fields[0])
    return found


def started_by(pid: int) -> dict[int, str]:
    """The processes `pid` started, their children and their process groups: pid -> start time."""
    table = processes()
    family = {pid}
    while grown := {p for p, (ppid, *_rest) in table.items() if ppid in family} - family:
        family |= grown
    groups = family - {pid}
    family |= {p for p, (_ppid, pgid, *_rest) in table.items() if pgid in groups}
    return {p: table[p][2] for p in family - {pid} if p in table}


def alive(started: dict[int, str]) -> list[int]:
    """Those still running: same pid and start time (not a reused pid), not a zombie."""
    table = processes()
    return [p for p, start in started.items() if p in table and table[p][2] == start and table[p][3] != "Z"]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def stop(proc: subprocess.Popen, children: dict[int, str], output: Path) -> None:
    """SIGTERM, then: exit status 0 and nothing it started left running."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, output.read_text()[-2000:]
    left = alive(children)
    assert left == [], f"left running after SIGTERM: {[command_line(p) for p in left]}"


@pytest.mark.slow
def test_it_stops_everything_on_sigterm_and_the_next_run_starts_a_second_later():
    run_dir = Path(tempfile.mkdtemp(prefix="wb-term-"))
    port, sim_port = free_port(), free_port()
    # A poll that waits 8 s for 8x8: longer than the whole stack may take to stop.
    first = runstack(run_dir, port, sim_port, "first.log", VCC_READ_TIMEOUT="8")
    second = None
    try:
        wait_until_up(first, port, run_dir / "first.log")
        children = started_by(first.pid)
        commands = " ".join(command_line(p) for p in children)
        for part in ("redis-server", "uvicorn", "celery -A wallboard worker", "celery -A wallboard beat", "simulate_8x8"):
            assert part in commands, f"{part} is not among the processes runstack started"
        hold_a_poll(sim_port)

        stopping = time.monotonic()
        first.send_signal(signal.SIGTERM)
        time.sleep(1)
        second = runstack(run_dir, port, sim_port, "second.log")
        assert first.wait(60) == 0, (run_dir / "first.log").read_text()[-2000:]
        assert time.monotonic() - stopping < 12, "stopped within about the 10 s supervisors give"
        left = alive(children)
        assert left == [], f"left running after SIGTERM: {[command_line(p) for p in left]}"

        wait_until_up(second, port, run_dir / "second.log")
        later = started_by(second.pid)
        stop(second, later, run_dir / "second.log")
        second = None
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    assert not (run_dir / "redis" / "redis.sock").exists(), "the private Redis removed its socket"


# --- The private Redis on its own -------------------------------------------------------------


def answers(url: str) -> bool:
    """The Redis at `url` answers a PING, asked as its clients ask (through the URL it hands out)."""
    try:
        with redis.Redis.from_url(url, socket_timeout=2) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def test_it_waits_for_a_redis_that_announced_its_stop():
    from wallboard.devstack.embedded_redis import EmbeddedRedis

    directory = Path(tempfile.mkdtemp(prefix="wb-t-"))
    old = EmbeddedRedis(directory)
    old.start()
    old.announce_stop(10)
    timer = threading.Timer(1.5, old.stop)
    timer.start()
    new = EmbeddedRedis(directory)
    try:
        started = time.monotonic()
        new.start()
        assert 1.0 < time.monotonic() - started < 8, "it waited for the old server, not for the deadline"
        assert answers(new.url)
    finally:
        timer.join()
        new.stop()


def test_it_takes_over_the_socket_of_a_killed_redis():
    from wallboard.devstack.embedded_redis import EmbeddedRedis

    directory = Path(tempfile.mkdtemp(prefix="wb-t-"))
    old = EmbeddedRedis(directory)
    old.start()
    old.process.kill()
    old.process.wait()
    assert old.socket.exists(), "a killed server leaves its socket file"
    new = EmbeddedRedis(directory)
    try:
        new.start()
        assert answers(new.url)
    finally:
        new.stop()


@pytest.mark.parametrize("ending", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_it_leaves_the_next_server_alone_when_the_old_one_is_cleaned_up_late(ending):
    from wallboard.devstack.embedded_redis import EmbeddedRedis

    directory = Path(tempfile.mkdtemp(prefix="wb-t-"))
    old = EmbeddedRedis(directory)
    old.start()
    # The old server is gone, and the newcomer starts at once; only then (its owner slowed down
    # by a loaded machine) does the old owner's stop() come to clean up.
    old.process.send_signal(ending)
    old.process.wait()
    new = EmbeddedRedis(directory)
    try:
        new.start()
        old.stop()
        assert answers(new.url), "the old server's clean-up removed the new server's socket"
        assert new.pid_file.read_text() == f"{new.process.pid}\n"
    finally:
        new.stop()
    assert not new.socket.exists() and not new.pid_file.exists()
