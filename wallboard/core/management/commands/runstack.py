"""`make run`: Redis (if needed), migrations, simulator, demo data, web, worker and one beat.

A small process supervisor rather than a Procfile runner: it has to start Redis first and hand
its URL to every child, and Ctrl-C must stop everything it started, Redis included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from wallboard.embedded_redis import EmbeddedRedisError, ensure_redis
from wallboard.env import env_int


class Command(BaseCommand):
    help = "Start the whole stack for development or a demo (web, worker, beat, simulator)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="web port (default $PORT or 8000)")
        parser.add_argument("--sim-port", type=int, default=None, help="simulator port (default $SIM_PORT or 8088)")
        parser.add_argument("--no-simulator", action="store_true", help="do not start the simulator or the demo")
        parser.add_argument("--agents", type=int, default=60, help="simulated agents")
        parser.add_argument("--queues", type=int, default=8, help="simulated queues")
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")

    def handle(self, *args, **options):
        port = options["port"] or env_int("PORT", 8000, minimum=1, maximum=65535)
        sim_port = options["sim_port"] or env_int("SIM_PORT", 8088, minimum=1, maximum=65535)
        try:
            redis_url, redis_server = ensure_redis()
        except EmbeddedRedisError as exc:
            raise CommandError(str(exc)) from None
        env = {**os.environ, "REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
        os.environ["REDIS_URL"] = redis_url
        self._apply_redis(redis_url)
        children: list[tuple[str, subprocess.Popen]] = []
        try:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write(f"redis      {redis_url}{'  (private server)' if redis_server else ''}")
            if not options["no_simulator"]:
                children.append(("simulator", self._spawn(
                    ["simulate_8x8", "--port", str(sim_port), "--agents", str(options["agents"]),
                     "--queues", str(options["queues"]), "--seed", "1"], env)))
                self._wait_for_port(sim_port, children)
                call_command("setup_demo", base_url=f"http://127.0.0.1:{sim_port}", web_url=f"http://127.0.0.1:{port}")
            python = sys.executable
            children.append(("web", self._popen(
                [python, "-m", "uvicorn", "wallboard.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                 "--no-access-log", "--ws-per-message-deflate", "true"], env)))
            children.append(("worker", self._popen(
                [python, "-m", "celery", "-A", "wallboard", "worker", "--pool", "prefork",
                 "--concurrency", str(options["concurrency"]), "--loglevel", "INFO", "--without-gossip",
                 "--without-mingle"], env)))
            children.append(("beat", self._popen(
                [python, "-m", "celery", "-A", "wallboard", "beat", "--loglevel", "INFO"], env)))
            self.stdout.write(f"web        http://127.0.0.1:{port}/  (health: /healthz)")
            self.stdout.write("Press Ctrl-C to stop everything.")
            self._supervise(children)
        finally:
            self._stop(children)
            if redis_server is not None:
                redis_server.stop()

    def _apply_redis(self, url: str) -> None:
        from django.conf import settings

        from wallboard.settings import redis_settings

        for key, value in redis_settings(url).items():
            setattr(settings, key, value)

    def _spawn(self, manage_args: list[str], env: dict) -> subprocess.Popen:
        return self._popen([sys.executable, "manage.py", *manage_args], env)

    def _popen(self, argv: list[str], env: dict) -> subprocess.Popen:
        # Own process group: Ctrl-C reaches us only, and we stop children in order.
        return subprocess.Popen(argv, env=env, start_new_session=True)

    def _wait_for_port(self, port: int, children, timeout: float = 20.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in children:
                if proc.poll() is not None:
                    raise CommandError(f"{name} exited with status {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise CommandError(f"nothing answered on port {port} within {timeout:.0f} s")

    def _supervise(self, children) -> None:
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stop["now"]:
            for name, proc in children:
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with status {proc.returncode}; stopping everything")
                    return
            time.sleep(0.5)
        self.stdout.write("Stopping...")

    def _stop(self, children, timeout: float = 10.0) -> None:
        for _, proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, proc in children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
