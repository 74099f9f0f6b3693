"""`make run`: Redis (if needed), migrations, simulator, demo data, web, worker and one beat.

Ctrl-C, SIGTERM (`docker stop`, systemd, `kill`) and SIGHUP (the terminal closed) all stop
everything it started, Redis included, and wait until every process is gone (at most about
10 s; a part that does not stop in time is killed). A requested stop exits with status 0, as
the servers it runs do; status 1 means a part failed to start or died on its own. If any part
dies on its own, everything stops, so a broken stack never looks half alive.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallboard.devstack.embedded_redis import EmbeddedRedisError
from wallboard.devstack.stack import Stack, StackError, business_hours_zone
from wallboard.env import env_int

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Command(BaseCommand):
    help = "Start the whole stack for development or a demo (web, worker, beat, simulator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=None, help="web port (default $PORT or 8000)")
        parser.add_argument("--sim-port", type=int, default=None, help="simulator port (default $SIM_PORT or 8088)")
        parser.add_argument("--no-simulator", action="store_true", help="do not start the simulator or the demo")
        parser.add_argument("--agents", type=int, default=60, help="simulated agents")
        parser.add_argument("--queues", type=int, default=8, help="simulated queues")
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
        parser.add_argument("--run-dir", default=None, help="folder for Redis, logs and beat state (default .run)")

    def handle(self, *args: Any, **options: Any) -> None:
        stack = Stack(
            run_dir=options["run_dir"] or settings.BASE_DIR / ".run",
            web_port=options["port"] or env_int("PORT", 8000, minimum=1, maximum=65535),
            sim_port=options["sim_port"] or env_int("SIM_PORT", 8088, minimum=1, maximum=65535),
            agents=options["agents"],
            queues=options["queues"],
            concurrency=options["concurrency"],
            redis_url=os.environ.get("REDIS_URL") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
            quiet=False,
        )
        requested: list[int] = []

        def request_stop(signum: int, frame: FrameType | None) -> None:
            requested.append(signum)

        for signum in STOP_SIGNALS:
            signal.signal(signum, request_stop)
        try:
            for step in self._steps(stack, simulator=not options["no_simulator"]):
                if requested:
                    break
                step()
            else:
                self.stdout.write("Press Ctrl-C to stop everything.")
            while not requested:
                if dead := stack.dead():
                    raise CommandError(f"{', '.join(dead)} exited on its own; stopping everything")
                time.sleep(0.5)
        except (StackError, EmbeddedRedisError) as exc:
            if not requested:  # a part cut short by the stop itself is no failure
                raise CommandError(str(exc)) from None
        finally:
            if requested:
                self._say(f"Stopping ({signal.Signals(requested[0]).name})...")
            stack.stop()
        self._say("Stopped.")

    def _say(self, text: str) -> None:
        """Print a line while stopping; after SIGHUP the terminal may be gone, which must not stop the stop."""
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except OSError:
            pass

    def _steps(self, stack: Stack, simulator: bool) -> list[Callable[[], None]]:
        """The start-up in steps, so a stop asked for meanwhile does not wait for the rest."""
        steps = [lambda: self._redis(stack), lambda: self._migrate(stack)]
        if simulator:
            steps += [lambda: self._simulator(stack)]
        return [*steps, stack.start_web, stack.start_worker, stack.start_beat,
                lambda: self.stdout.write(f"web        {stack.web_url}/  (health: {stack.web_url}/healthz)")]

    def _redis(self, stack: Stack) -> None:
        url = stack.start_redis()
        self.stdout.write(f"redis      {url}{'  (private server)' if stack.redis else ''}")

    def _migrate(self, stack: Stack) -> None:
        if stack.database_url is None:
            stack.database_url = f"sqlite:///{settings.BASE_DIR / 'db.sqlite3'}"
        stack.manage("migrate", "--noinput")

    def _simulator(self, stack: Stack) -> None:
        zone = business_hours_zone()
        stack.sim_args = ("--tenant-tz", zone)
        stack.demo_time_zone = zone
        stack.start_simulator()
        self.stdout.write(f"simulator  {stack.sim_url}  (tenant demo, token demo-token, contact center in {zone})")
        self.stdout.write(stack.setup_demo().rstrip())
