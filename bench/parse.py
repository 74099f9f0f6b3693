"""Fetch-and-parse CPU cost of a large tenant: 2,000 agents and 300 queues, XML and JSON.

    .venv/bin/python bench/parse.py [--agents 2000] [--queues 300] [--repeat 60]

Bodies are generated in the shape the vendor documents (both aliases, sentinels, empty
elements), served by a plain HTTP server in a *separate process* (so its CPU is not counted),
and fetched and parsed through the real VccClient over a kept-alive connection. CPU time is
time.process_time() around each call: the poll task's cost per cycle, with the network wait
excluded.

Each format's floor is timed in the same run, interleaved with the figures (bench/floor.py):
orjson.loads of the same JSON bodies, expat parsing the same XML bodies to events. Target: the
parse into records (agents + queues) <= 2x its floor, for each format; the exit status says
whether it is met. The Intel machine's absolute target (<= 30 ms CPU for agents + queues
fetched and parsed) is printed as a note.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import floor  # noqa: E402
from wallboard.polling import collector  # noqa: E402
from wallboard.vcc.client import VccClient  # noqa: E402
from wallboard.vcc.parse import parse_agents, parse_queues, route  # noqa: E402

TARGET_MS = 30.0  # the absolute target on the Intel machine of docs/performance.md (a note now)
TARGET_RATIO = 2.0  # parse into records / its floor, for each format (issue 23)
FLOORS = {"json": "orjson.loads", "xml": "expat, no handlers"}


def agent_fields(i: int, rng: random.Random) -> dict[str, object]:
    """One agent as wire fields, with the sentinels and empties real answers have."""
    logged_in = rng.random() < 0.8
    return {
        "agent-id": f"agent{i:05d}",
        "agent-media-id": rng.randint(0, 4),
        "agent-name": f"Agent Number {i}",
        "agent-status": rng.choice((0, 1, 2, 3, 4, 5, 9)),
        "assigned-skill-count": rng.randint(1, 12),
        "day-accepted-count": rng.randint(0, 200),
        "day-available-time": rng.randint(0, 30000),
        "day-avg-processing-time": rng.randint(0, 900),
        "day-break-time": rng.randint(0, 3600),
        "day-login-time": rng.randint(0, 30000),
        "day-offline-time": rng.randint(0, 3600),
        "day-processing-time": rng.randint(0, 20000),
        "day-rejected-count": rng.randint(0, 5),
        "day-wrap-up-time": rng.randint(0, 5000),
        "enabled-skill-count": rng.randint(1, 12),
        "group-id": 100 + i % 40,
        "last-login-time": 1_760_000_000 + i if logged_in else -1,
        "phone-line1-status": rng.randint(-1, 5),
        "phone-line1-status-time": rng.randint(0, 900) if logged_in else -1,
        "phone-line2-status": 0,
        "phone-line2-status-time": -1,
        "status-code-item-id": rng.randint(1, 30) if rng.random() < 0.3 else None,
        "status-code-item-short-code": "LUNCH" if rng.random() < 0.1 else None,
        "status-code-list-id": None,
        "thirty-min-accepted-count": rng.randint(0, 20),
        "thirty-min-available-time": rng.randint(0, 1800),
        "thirty-min-avg-handling-time": rng.randint(0, 600),
        "thirty-min-break-time": rng.randint(0, 900),
        "thirty-min-offline-time": rng.randint(0, 900),
        "thirty-min-processing-time": rng.randint(0, 1800),
        "thirty-min-rejected-count": rng.randint(0, 3),
        "thirty-min-wrap-up-time": rng.randint(0, 600),
        "time-in-status": rng.randint(0, 3600) if logged_in else -1,
    }


def queue_fields(i: int, rng: random.Random) -> dict[str, object]:
    day = "all-day" if i % 2 else "day"  # half the queues use the all-day-* spelling
    return {
        "agent-count-busy": rng.randint(0, 30),
        "agent-count-loggedOut": rng.randint(0, 30),
        "agent-count-onBreak": rng.randint(0, 10),
        "agent-count-postProcess": rng.randint(0, 10),
        "agent-count-waitTransact": rng.randint(0, 20),
        "agent-count-workOffline": rng.randint(0, 5),
        "day-abandoned": rng.randint(0, 50),
        f"{day}-accepted": rng.randint(0, 900),
        f"{day}-avg-duration": rng.randint(0, 600),
        f"{day}-avg-wait-time": rng.randint(0, 300),
        f"{day}-queued": rng.randint(0, 1000),
        f"{day}-sla-activity": rng.choice((-1, 80, 95, 100)),
        "assigned-agent-count": rng.randint(0, 60),
        "enabled-agent-count": rng.randint(0, 60),
        "longest-wait-time": rng.randint(0, 1200),
        "media-type": rng.choice(("phone", "chat", "vmail", "email")),
        "number-in-offered": rng.randint(0, 5),
        "number-in-progress": rng.randint(0, 30),
        "queue-id": 100 + i,
        "queue-name": f"Queue {i}",
        "queue-size": rng.randint(0, 40),
        "sla-activity": rng.choice((-1, 70, 90, 100)),
        "sla-target": 80,
        "thirty-min-abandoned": rng.randint(0, 10),
        "thirty-min-accepted": rng.randint(0, 90),
        "thirty-min-avg-duration": rng.randint(0, 600),
        "thirty-min-avg-wait-time": rng.randint(0, 300),
        "thirty-min-longest-wait-time": rng.randint(-1, 900),
        "thirty-min-queued": rng.randint(0, 100),
        "thirty-min-sla-activity": rng.choice((-1, 80, 100)),
    }


def as_xml(root: str, item: str, records: list[dict[str, object]]) -> bytes:
    lines = [f"<{root}>"]
    for record in records:
        lines.append(f"<{item}>")
        for name, value in record.items():
            lines.append(f"<{name}/>" if value is None else f"<{name}>{value}</{name}>")
        lines.append(f"</{item}>")
    lines.append(f"</{root}>")
    return "\n".join(lines).encode()


def as_json(item: str, records: list[dict[str, object]]) -> bytes:
    return json.dumps({item: [{k: ("" if v is None else v) for k, v in r.items()} for r in records]}).encode()


def bodies(n_agents: int, n_queues: int) -> dict[str, bytes]:
    rng = random.Random(8)
    agents = [agent_fields(i, rng) for i in range(n_agents)]
    queues = [queue_fields(i, rng) for i in range(n_queues)]
    return {
        "/api/rtstats/stats/agents": as_xml("agents", "agent", agents),
        "/api/rtstats/stats/queues": as_xml("queues", "queue", queues),
        "/api/rtstats/stats/agents.json": as_json("agent", agents),
        "/api/rtstats/stats/queues.json": as_json("queue", queues),
    }


def serve(routes: dict[str, bytes], ready: multiprocessing.Queue) -> None:
    """Runs in its own process: the server's CPU must not count as the client's."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body = routes.get(self.path.partition("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.put(httpd.server_address[1])
    httpd.serve_forever()


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{multiprocessing.cpu_count()} CPUs ({model}), Python {platform.python_version()}, load average {load}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--default-gc", action="store_true", help="keep CPython's collector settings (workers tune them)")
    args = parser.parse_args()

    routes = bodies(args.agents, args.queues)
    ready: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(routes, ready), daemon=True)
    server.start()
    port = ready.get(timeout=10)
    if not args.default_gc:
        collector.tune()  # as every worker process does (wallboard/celery.py)
    print(f"{machine()}; {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{args.agents} agents, {args.queues} queues, {args.repeat} repetitions; bodies:", end="")
    print("".join(f" {path.rsplit('/', 1)[1]} {len(body) / 1e6:.2f} MB" for path, body in routes.items()))

    worst = 0.0
    ratios: dict[str, float] = {}
    try:
        for fmt in ("xml", "json"):
            client = VccClient(f"http://127.0.0.1:{port}", "bench", "bench-token", fmt=fmt)
            assert len(client.agents()) == args.agents and len(client.queues()) == args.queues  # warm up, check
            suffix = "" if fmt == "xml" else ".json"
            pair = (routes[f"/api/rtstats/stats/agents{suffix}"], routes[f"/api/rtstats/stats/queues{suffix}"])
            floor_of = floor.xml_floor if fmt == "xml" else floor.json_floor
            ways = (route(pair[0], "agents"), route(pair[1], "queues"))  # which parse the figures are of
            # Floor, parse and fetch-and-parse interleaved round by round (bench/floor.py).
            floors, samples = floor.interleaved(lambda p=pair, f=floor_of: f(p), {
                "parse": lambda p=pair: (parse_agents(p[0]), parse_queues(p[1])),
                "agents": client.agents,
                "queues": client.queues,
            }, args.repeat)
            both = [a + q for a, q in zip(samples["agents"], samples["queues"], strict=True)]
            ratios[fmt] = floor.ratio(samples["parse"], floors)
            print(f"{fmt:4}  read as: agents {ways[0]}, queues {ways[1]}")
            print(f"{fmt:4}  agents          {summary(samples['agents'])}")
            print(f"{fmt:4}  queues          {summary(samples['queues'])}")
            print(f"{fmt:4}  agents+queues   {summary(both)}   (parse only: {summary(samples['parse'])})")
            print(f"{fmt:4}  floor ({FLOORS[fmt]}) {summary(floors)};  parse / floor {ratios[fmt]:.2f}x,"
                  f"  fetch+parse / floor {floor.ratio(both, floors):.2f}x  (target parse <= {TARGET_RATIO:.0f}x)")
            worst = max(worst, statistics.median(both))
            client.close()
    finally:
        server.terminate()
    ok = all(r <= TARGET_RATIO for r in ratios.values())
    print(f"target parse <= {TARGET_RATIO:.0f}x its floor (median of interleaved rounds): "
          + ", ".join(f"{fmt} {r:.2f}x" for fmt, r in ratios.items()) + f": {'met' if ok else 'NOT met'}")
    print(f"(note, the Intel machine's absolute target: <= {TARGET_MS:.0f} ms CPU for agents+queues; "
          f"worst format here {worst:.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
