"""`python manage.py simulate_8x8`: serve a stand-in 8x8 platform (both APIs) until stopped."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallboard.simulator.server import SimulatorServer


class Command(BaseCommand):
    help = "Serve a simulated 8x8 Contact Center (Real Time Statistics and Tenant Schedule APIs) on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8088, help="port to listen on (0: any free port)")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--agents", type=int, default=50, help="number of agents")
        parser.add_argument("--queues", type=int, default=8, help="number of queues")
        parser.add_argument("--seed", type=int, default=1, help="random seed: same seed and time, same data")
        parser.add_argument("--latency", type=float, default=0, metavar="MS", help="hold every answer this long")
        parser.add_argument("--speed", type=float, default=1.0, metavar="X", help="simulated time runs X times faster")
        parser.add_argument("--tenant", default="demo", help="tenant name (basic auth user)")
        parser.add_argument("--token", default="demo-token", help="data request token (basic auth password)")
        parser.add_argument("--tenant-tz", default="UTC", help="tenant time zone: day boundaries, schedules without a zone")
        parser.add_argument("--start", default=None, metavar="ISO", help="simulated start time, e.g. 2026-03-02T10:00")
        parser.add_argument("--max-customers", type=int, default=10, metavar="N",
                            help="503 when more than N tenants have a request in flight at once (0: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        sim = self._server(options)
        try:
            base_url = sim.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}") from None
        self._announce(sim, base_url, options)
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stop.wait(0.5):
            pass
        self.stdout.write("Stopping the simulator...")
        sim.stop()

    def _server(self, options: dict[str, Any]) -> SimulatorServer:
        if options["agents"] < 1 or options["queues"] < 1:
            raise CommandError("--agents and --queues must be at least 1")
        if options["speed"] <= 0:
            raise CommandError("--speed must be positive")
        if options["latency"] < 0:
            raise CommandError("--latency must not be negative")
        if options["max_customers"] < 0:
            raise CommandError("--max-customers must not be negative (0 switches the rule off)")
        try:
            tz = ZoneInfo(options["tenant_tz"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"unknown time zone {options['tenant_tz']!r}") from None
        start_at = None
        if options["start"]:
            try:
                start = datetime.fromisoformat(options["start"])
            except ValueError:
                raise CommandError("--start must be an ISO-8601 date and time") from None
            start_at = (start if start.tzinfo else start.replace(tzinfo=tz)).timestamp()
        self.stdout.write(f"Simulating {options['agents']} agents and {options['queues']} queues...")
        return SimulatorServer(
            port=options["port"], agents=options["agents"], queues=options["queues"], seed=options["seed"],
            latency_ms=options["latency"], speed=options["speed"], host=options["host"], tenant=options["tenant"],
            token=options["token"], tenant_tz=options["tenant_tz"], start_at=start_at,
            max_customers=options["max_customers"] or None,
        )

    def _announce(self, sim: SimulatorServer, base_url: str, options: dict[str, Any]) -> None:
        write = self.stdout.write
        write(f"8x8 simulator at {base_url}")
        write(f"  tenant     {options['tenant']}")
        write(f"  token      {options['token']}")
        write(f"  statistics {base_url}/api/rtstats/stats/queues.json")
        write(f"  schedules  {base_url}/api/provisioning/schedules.json")
        write(f"  analytics  {base_url}/analytics/cc/v5/realtime-metrics/queues  (key demo-client, secret demo-secret)")
        write(f"  control    {base_url}/_sim/state  (see docs/simulator.md)")
        write(f"  seed {options['seed']}, speed x{options['speed']:g}, latency {options['latency']:g} ms")
        write("Press Ctrl-C to stop.")
        self.stdout.flush()
