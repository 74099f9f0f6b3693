"""`make run`: Redis (if needed), migrations, simulator, demo data, web, worker and one beat.

Ctrl-C stops everything it started, Redis included. If any part dies on its own, everything
stops, so a broken stack never looks half alive.
"""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wallboard.core.stack import Stack, StackError, business_hours_zone
from wallboard.embedded_redis import EmbeddedRedisError
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
        parser.add_argument("--run-dir", default=None, help="folder for Redis, logs and beat state (default .run)")

    def handle(self, *args, **options):
        import os

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
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            self._start(stack, simulator=not options["no_simulator"])
            self.stdout.write("Press Ctrl-C to stop everything.")
            while not stop["now"]:
                if dead := stack.dead():
                    raise CommandError(f"{', '.join(dead)} exited on its own; stopping everything")
                time.sleep(0.5)
            self.stdout.write("Stopping...")
        except (StackError, EmbeddedRedisError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            stack.stop()

    def _start(self, stack: Stack, simulator: bool) -> None:
        url = stack.start_redis()
        self.stdout.write(f"redis      {url}{'  (private server)' if stack.redis else ''}")
        if stack.database_url is None:
            stack.database_url = f"sqlite:///{settings.BASE_DIR / 'db.sqlite3'}"
        stack.manage("migrate", "--noinput")
        if simulator:
            zone = business_hours_zone()
            stack.sim_args = ("--tenant-tz", zone)
            stack.demo_time_zone = zone
            stack.start_simulator()
            self.stdout.write(f"simulator  {stack.sim_url}  (tenant demo, token demo-token, contact center in {zone})")
            self.stdout.write(stack.setup_demo().rstrip())
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        self.stdout.write(f"web        {stack.web_url}/  (health: {stack.web_url}/healthz)")
