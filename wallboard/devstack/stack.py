"""The whole stack as real processes: Redis, the simulator, web, worker and one beat.

`make run` uses it to bring everything up; tests and benchmarks use it to restart or kill one
part (the web server, a worker, Redis) and watch the rest recover. Each process logs to a file
in the run folder, so a failing test can say what the process said.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from wallboard.devstack.embedded_redis import EmbeddedRedis, private_dir

BASE_DIR = Path(__file__).resolve().parent.parent.parent


# Where the demo contact center could be: the run picks one where it is office hours now, so
# a demo started at any hour shows agents at work rather than an empty night shift.
DEMO_ZONES = [
    "America/Los_Angeles", "America/Chicago", "America/New_York", "America/Sao_Paulo", "Europe/London",
    "Europe/Berlin", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
    "Pacific/Auckland",
]


def business_hours_zone(now: datetime | None = None) -> str:
    """The demo zone whose local time is closest to 11:00 on a weekday."""
    now = now or datetime.now(UTC)

    def distance(zone: str) -> float:
        local = now.astimezone(ZoneInfo(zone))
        weekend = 24 if local.weekday() >= 5 else 0
        return abs(local.hour + local.minute / 60 - 11) + weekend

    return min(DEMO_ZONES, key=distance)


# The only message a page sends is {"type": "resync"}: the server refuses larger frames itself,
# before the application buffers them (the consumer's own limit is 1 kB; see docs/protocol.md).
WS_MAX_SIZE = 4096


# How long the parts may take to stop before they are killed. Web, worker and beat stop
# together (the worker finishes the poll it is running), then the simulator, then Redis: all
# within the 10 s that `docker stop` and most supervisors give before SIGKILL.
STOP_TIMEOUT = 6.0
SIMULATOR_STOP_TIMEOUT = 2.0
REDIS_STOP_TIMEOUT = 2.0

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class StackError(RuntimeError):
    """A part of the stack did not start."""


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until `url` answers any HTTP status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"process for {url} exited with status {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise StackError(f"nothing answered at {url} within {timeout:.0f} s")


def _signal_group(pid: int, sig: int) -> None:
    """Signal a process started in its own session, with everything it started (its group)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # gone already (EPERM: on some systems, a group of zombies only)


def _exited(pid: int, deadline: float) -> bool:
    """Wait until a child has exited, without reaping it; False if it is still running at the deadline."""
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@dataclass
class Stack:
    """Processes of one wallboard installation, started and stopped as a unit."""

    run_dir: Path
    web_port: int = 0
    sim_port: int = 0
    agents: int = 60
    queues: int = 8
    seed: int = 1
    sim_args: tuple[str, ...] = ()
    concurrency: int = 2
    redis_url: str | None = None
    database_url: str | None = None
    env_extra: dict[str, str] = field(default_factory=dict)
    quiet: bool = True
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis: EmbeddedRedis | None = None
    kiosk_url: str | None = None
    web_ports: dict[str, int] = field(default_factory=dict)  # by web process name (start_web)
    demo_time_zone: str = "UTC"

    def __post_init__(self) -> None:
        self.run_dir = private_dir(Path(self.run_dir))
        self.web_port = self.web_port or free_port()
        self.sim_port = self.sim_port or free_port()

    # --- addresses -------------------------------------------------------------------------
    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "wallboard.settings"}
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.env_extra)
        return env

    @property
    def log_level(self) -> str:
        """LOG_LEVEL for Celery's --loglevel, which sets its processes' root logger level.

        Passing a fixed INFO would override settings.LOGGING's level there (Celery sets the
        root level from --loglevel): LOG_LEVEL=DEBUG would show no detail, WARNING no quiet.
        """
        level = (self.env.get("LOG_LEVEL") or "INFO").strip().upper()
        return level if level in LOG_LEVELS else "INFO"  # settings refuse it, in words, at start-up

    # --- parts -----------------------------------------------------------------------------
    def start_redis(self) -> str:
        """Use REDIS_URL as given, or start a private server in the run folder."""
        if self.redis_url is None:
            self.redis = EmbeddedRedis(self.run_dir / "redis")
            self.redis_url = self.redis.start()
        return self.redis_url

    def restart_redis(self) -> None:
        """Stop Redis and start it again empty, as a crash or a restart without persistence does."""
        if self.redis is None:
            raise StackError("this stack did not start its Redis, so it cannot restart it")
        self.redis.restart()

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run a management command to completion and return what it printed."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise StackError(f"manage.py {' '.join(args)} failed: {result.stderr.strip()[-800:]}")
        return result.stdout

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a process in its own session (so signals reach only it), logging to a file."""
        stdout: IO[bytes] | None = None  # None: the terminal's, as for the parent
        stderr: int | None = None
        if self.quiet:
            # 0600 like everything in the run folder: logs name tenants, boards and errors.
            fd = os.open(self.run_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            stdout = os.fdopen(fd, "ab")  # noqa: SIM115 - the child owns it
            stderr = subprocess.STDOUT
        proc = subprocess.Popen(argv, cwd=BASE_DIR, env=self.env, start_new_session=True, stdout=stdout, stderr=stderr)
        self.processes[name] = proc
        return proc

    def start_simulator(self) -> None:
        proc = self.spawn("simulator", [
            sys.executable, "manage.py", "simulate_8x8", "--port", str(self.sim_port), "--agents", str(self.agents),
            "--queues", str(self.queues), "--seed", str(self.seed), *self.sim_args,
        ])
        wait_for_http(self.sim_url + "/_sim/state", timeout=120, proc=proc)

    def setup_demo(self) -> str:
        """Create the demo tenant and board; return the kiosk URL (with its display token)."""
        out = self.manage(
            "setup_demo", "--base-url", self.sim_url, "--web-url", self.web_url, "--time-zone", self.demo_time_zone
        )
        match = re.search(r"(http://\S+/d/\S+)", out)
        if not match:
            raise StackError(f"setup_demo printed no kiosk URL: {out}")
        self.kiosk_url = match.group(1)
        return out

    def start_web(self, name: str = "web", port: int | None = None, wait: bool = True) -> None:
        """A web process (uvicorn) on `port` (the stack's web_port for "web"; web_ports[name]).

        More than one ("web-2", ...) share the stack's Redis and database, as behind a proxy;
        restart() starts each again on its own port. Without `wait`, call wait_for_web() later
        (to start several at once).
        """
        port = port or (self.web_port if name == "web" else self.web_ports.get(name) or free_port())
        self.web_ports[name] = port
        self.spawn(name, [
            sys.executable, "-m", "uvicorn", "wallboard.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--ws-per-message-deflate", "true",
            "--ws", "wallboard.live.wsprotocol:WebSocketProtocol", "--ws-max-size", str(WS_MAX_SIZE),
        ])
        if wait:
            self.wait_for_web(name)

    def wait_for_web(self, name: str = "web") -> None:
        """Wait until a web process started by start_web answers /healthz."""
        port = self.web_ports[name]
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=self.processes[name])

    def start_worker(self, name: str = "worker", queues: str | None = None, concurrency: int | None = None) -> None:
        """A prefork worker; by default on both queues, polls and the tick (settings.WALLBOARD_TICK_QUEUE).

        A worker on the tick queue alone (`queues=self.tick_queue`, docker-compose.yml's
        ticker) keeps ticks from waiting behind a burst of polls in the other's pool.
        """
        self.spawn(name, [
            sys.executable, "-m", "celery", "-A", "wallboard", "worker", "--pool", "prefork",
            "--concurrency", str(concurrency or self.concurrency), "--loglevel", self.log_level,
            "--without-gossip", "--without-mingle", "-Q", queues or ",".join(dict.fromkeys(["celery", self.tick_queue])),
            "--hostname", f"{name}-{self.web_port}@%h",
        ])

    @property
    def tick_queue(self) -> str:
        """The tick's queue, as settings.WALLBOARD_TICK_QUEUE will read it (Celery's default unless set)."""
        return (self.env.get("WALLBOARD_TICK_QUEUE") or "celery").strip()

    def start_beat(self) -> None:
        self.spawn("beat", [
            sys.executable, "-m", "celery", "-A", "wallboard", "beat", "--loglevel", self.log_level,
            "--schedule", str(self.run_dir / "celerybeat-schedule"),
        ])

    def start(self, *, simulator: bool = True) -> Stack:
        """Everything, in dependency order."""
        self.start_redis()
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.run_dir / 'db.sqlite3'}"
        self.manage("migrate", "--noinput")
        if simulator:
            self.start_simulator()
            self.setup_demo()
        self.start_web()
        self.start_worker()
        self.start_beat()
        return self

    # --- faults and shutdown -----------------------------------------------------------------
    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Stop one process (and its process group) and wait until it is gone."""
        self.stop_processes([name], sig, timeout)

    def stop_processes(self, names: list[str], sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> None:
        """Signal these processes at once, wait for all of them, and kill those still there at the deadline.

        At once, so stopping takes as long as the slowest part rather than the sum of them. The
        signal goes to the process itself, not its group: a worker's pool children must finish
        their tasks (a warm shutdown), not die in the middle of them.
        """
        procs = [proc for name in names if (proc := self.processes.pop(name, None)) is not None]
        procs = [proc for proc in procs if proc.returncode is None]  # not reaped yet: its pid is still its own
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)  # not send_signal: it may reap the process, and the sweep below needs its pid
        deadline = time.monotonic() + timeout
        for proc in procs:
            if not _exited(proc.pid, deadline):
                _signal_group(proc.pid, signal.SIGKILL)
            # Whatever is left of its group (a worker's pool children when the worker was
            # killed) would live on as orphans. Before reaping: until then the group id cannot
            # be given to another process.
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()

    def restart(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop one process (SIGKILL for a crash) and start it again."""
        self.stop_process(name, sig)
        if name in self.web_ports:
            self.start_web(name)
            return
        starts: dict[str, Callable[[], None]] = {
            "worker": self.start_worker, "beat": self.start_beat, "simulator": self.start_simulator,
        }
        starts[name]()

    def dead(self) -> list[str]:
        """Names of processes that exited on their own."""
        return [name for name, proc in self.processes.items() if proc.poll() is not None]

    def stop(self) -> None:
        """Stop everything this stack started and wait until every process is gone.

        Web, worker and beat first, together; then the simulator (after the worker, so a poll
        in flight does not record an outage on the way out); Redis last, as the others use it
        to the end. Redis announces its stop first, so a `make run` started meanwhile in the
        same folder waits for it instead of finding it still listening.
        """
        if self.redis is not None:
            self.redis.announce_stop(STOP_TIMEOUT + SIMULATOR_STOP_TIMEOUT + REDIS_STOP_TIMEOUT + 1)
        self.stop_processes([name for name in reversed(list(self.processes)) if name != "simulator"])
        self.stop_processes(list(self.processes), timeout=SIMULATOR_STOP_TIMEOUT)
        if self.redis is not None:
            self.redis.stop(REDIS_STOP_TIMEOUT)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
