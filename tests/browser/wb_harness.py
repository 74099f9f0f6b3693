"""Browser test harness: the real board templates, served with /static/, and a scripted websocket
server playing the server side of docs/protocol.md.

Reusable outside pytest (bench/browser_soak.py uses it). Nothing here needs the database.
"""

from __future__ import annotations

import copy
import http.server
import json
import mimetypes
import queue
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

REPO = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO / "static"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")


def iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, tz=UTC).isoformat()


# --------------------------------------------------------------------------- pages


def render_board(template: str = "boards/kiosk.html", **context) -> str:
    """Render a board template with Django's engine (plain static storage: no manifest needed)."""
    from django.template.loader import render_to_string
    from django.test import override_settings

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, STATIC_URL="/static/"):
        return render_to_string(template, context)


def board_context(
    *,
    ws_url: str,
    slug: str = "demo",
    title: str = "Demo board",
    mode: str = "kiosk",
    version: str = "v1",
    cycle_seconds: int = 10,
    theme: str = "dark",
    rotation: list | None = None,
    boards: list | None = None,
    user=None,
    time_zone: str | None = None,
) -> dict:
    """The context the lead's views give the templates, plus `ws_url` (tests only) in config."""
    ws_path = f"/ws/boards/{slug}/"
    rotation = rotation or []
    config = {
        "board": slug,
        "ws_path": ws_path,
        "ws_url": ws_url,
        "version": version,
        "cycle_seconds": cycle_seconds,
        "theme": theme,
        "mode": mode,
        "rotation": rotation,
    }
    if time_zone:
        config["time_zone"] = time_zone
    context = {
        "board_slug": slug,
        "board_title": title,
        "ws_path": ws_path,
        "version": version,
        "cycle_seconds": cycle_seconds,
        "theme": theme,
        "mode": mode,
        "rotation": rotation,
        "config": config,
    }
    if mode == "supervisor":
        context["boards"] = boards if boards is not None else [{"slug": slug, "title": title, "url": "/supervisor/"}]
        context["user"] = user
    return context


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "wb-test"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):  # noqa: N802
        owner: PageServer = self.server.owner  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        owner.hits[path] += 1
        if path in owner.pages:
            page = owner.pages[path]
            body = (page() if callable(page) else page).encode()
            ctype = "text/html; charset=utf-8"
        elif path.startswith("/static/"):
            target = (STATIC_DIR / path[len("/static/") :]).resolve()
            if STATIC_DIR.resolve() not in target.parents or not target.is_file():
                self.send_error(404)
                return
            body = target.read_bytes()
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class PageServer:
    """A threaded HTTP server on 127.0.0.1:0 serving rendered pages and the repo's static/ dir."""

    def __init__(self):
        self.pages: dict = {}
        self.hits: Counter = Counter()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, path: str, page) -> str:
        """page: an HTML string or a callable giving one per request. Returns the full URL."""
        self.pages[path] = page
        return self.base_url + path

    def start(self) -> PageServer:
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- websocket


class WSConnection:
    """One browser connection: send JSON, read what the browser sent."""

    def __init__(self, conn):
        self.conn = conn
        self.inbox: queue.Queue = queue.Queue()
        self.closed = threading.Event()

    def send(self, message: dict | str):
        self.conn.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, timeout: float = 5.0) -> dict:
        return json.loads(self.inbox.get(timeout=timeout))

    def expect_nothing(self, seconds: float = 0.5) -> None:
        try:
            message = self.inbox.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"browser sent {message!r}")

    def close(self, code: int = 1001, reason: str = ""):
        try:
            self.conn.close(code, reason)
        except Exception:  # noqa: BLE001 - already gone
            pass


class ScriptedWSServer:
    """A websocket server on 127.0.0.1 that hands each browser connection to the test."""

    def __init__(self, port: int = 0):
        self.port = port
        self.server = None
        self.thread = None
        self.connections: queue.Queue = queue.Queue()
        self.live: list[WSConnection] = []

    def _handler(self, conn):
        wrapped = WSConnection(conn)
        self.live.append(wrapped)
        self.connections.put(wrapped)
        try:
            for message in conn:
                wrapped.inbox.put(message)
        except ConnectionClosed:
            pass
        finally:
            wrapped.closed.set()
            if wrapped in self.live:
                self.live.remove(wrapped)

    def start(self) -> ScriptedWSServer:
        self.server = serve(self._handler, "127.0.0.1", self.port, max_size=None, compression=None)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Close every connection and the listening socket (the port may be reused by start())."""
        for conn in list(self.live):
            conn.close(1012, "restart")
        if self.server is not None:
            self.server.shutdown()
            self.thread.join(timeout=5)
            self.server = None
        self.connections = queue.Queue()

    def url(self, slug: str = "demo") -> str:
        return f"ws://127.0.0.1:{self.port}/ws/boards/{slug}/"

    def accept(self, timeout: float = 10.0) -> WSConnection:
        return self.connections.get(timeout=timeout)


class Session:
    """Produces protocol messages with a consistent epoch and seq (docs/protocol.md)."""

    def __init__(self, board: str = "demo", epoch: str = "e1", seq: int = 100, version: str = "v1"):
        self.board = board
        self.epoch = epoch
        self.seq = seq
        self.version = version
        self.as_of = iso()

    def _base(self, kind: str) -> dict:
        return {"type": kind, "board": self.board, "epoch": self.epoch, "seq": self.seq, "as_of": self.as_of}

    def snapshot(self, data: dict, status: dict | None = None, version: str | None = None) -> dict:
        message = self._base("snapshot")
        message["data"] = data
        message["status"] = status or {"state": "ok", "since": self.as_of, "last_ok": self.as_of, "message": ""}
        message["version"] = self.version if version is None else version
        return message

    def patch(self, ops: list) -> dict:
        self.seq += 1
        self.as_of = iso()
        message = self._base("patch")
        message["ops"] = ops
        return message

    def status(self, state: str, message: str = "", last_ok: str | None = None) -> dict:
        self.seq += 1
        msg = self._base("status")
        msg["status"] = {"state": state, "since": iso(), "last_ok": last_ok, "message": message}
        return msg

    def control(self, action: str, **extra) -> dict:
        return {
            "type": "control",
            "board": self.board,
            "epoch": self.epoch,
            "seq": self.seq,
            "as_of": self.as_of,
            "action": action,
            **extra,
        }


# --------------------------------------------------------------------------- sample data

QUEUE_NAMES = [
    "Support",
    "Sales",
    "Billing",
    "Returns",
    "VIP",
    "Technical L2",
    "Onboarding",
    "Retention",
    "Spanish line",
    "Partners",
    "Chat support",
    "Email desk",
    "Escalations",
    "After hours",
    "Warranty",
    "Shipping",
]
FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kemal",
    "Lena",
    "Mo",
    "Nia",
    "Omar",
]
LAST = ["Silva", "Okafor", "Nguyen", "Schmidt", "Kowalski", "Haddad", "Rossi", "Tanaka", "Moreau", "Larsen", "Patel"]
AGENT_STATES = [
    (0, "available"),
    (1, "offered"),
    (2, "busy"),
    (3, "post_processing"),
    (4, "on_break"),
    (5, "offline"),
    (9, "logged_out"),
]
DEFAULT_METRICS = ["queue_size", "longest_wait_time", "sla_activity", "agent_count_wait_transact"]


def _history(rng: random.Random, now: int, scale: int) -> dict:
    minute = now - now % 60
    return {str(minute - 60 * i): max(0, int(scale * (0.5 + 0.5 * rng.random()))) for i in range(59, -1, -1)}


def make_queue(
    qid: str, name: str, rng: random.Random, now: int, metrics: list, kind: str = "queue", schedule_state: str = "open"
) -> dict:
    size = rng.randint(0, 9)
    values = {
        "queue_size": size,
        "longest_wait_time": rng.randint(0, 900) if size else 0,
        "sla_activity": rng.randint(60, 100),
        "agent_count_wait_transact": rng.randint(0, 6),
        "agent_count_busy": rng.randint(0, 12),
        "agent_count_on_break": rng.randint(0, 3),
        "day_accepted": rng.randint(50, 900),
        "day_abandoned": rng.randint(0, 40),
    }
    states = {"queue_size": "ok" if size < 5 else "warn" if size < 8 else "alert", "longest_wait_time": "ok"}
    if schedule_state == "closed":
        states = {k: "ok" for k in states}
    schedule = {
        "status": {"open": 0, "closed": -1, "choice": 1}[schedule_state],
        "label": {"open": "OPEN", "closed": "CLOSED", "choice": "CHOICE #1"}[schedule_state],
        "state": schedule_state,
        "name": f"{name} hours",
        "next_change": iso(now + rng.randint(600, 30000)),
        "exception": None,
        "source": "local",
    }
    item = {
        "id": qid,
        "name": name,
        "kind": kind,
        "metrics": {m: values.get(m, rng.randint(0, 50)) for m in metrics},
        "states": states,
        "schedule": schedule,
        "history": {"queue_size": _history(rng, now, 8), "longest_wait_time": _history(rng, now, 600)},
    }
    if kind == "queue":
        item["media_type"] = "chat" if "Chat" in name else "email" if "Email" in name else "phone"
    return item


def make_board_state(
    queues: int = 4,
    groups: int = 1,
    agents: int = 12,
    *,
    metrics: list | None = None,
    seed: int = 7,
    now: int | None = None,
    hide_logged_out: bool = True,
    page_seconds: int = 12,
    cycle_seconds: int = 10,
    closed: tuple = (),
    title: str = "Demo board",
    agent_panel: bool = True,
) -> dict:
    rng = random.Random(seed)
    now = int(time.time()) if now is None else now
    metrics = list(metrics or DEFAULT_METRICS)
    state = {
        "board": {
            "slug": "demo",
            "title": title,
            "theme": "dark",
            "queue_metrics": metrics,
            "agent_panel": agent_panel,
            "hide_logged_out": hide_logged_out,
            "mute_when_closed": True,
            "page_seconds": page_seconds,
            "cycle_seconds": cycle_seconds,
            "agent_groups": {"101": "Tier 1", "102": "Tier 2", "103": "Billing team"},
        },
        "queues": {},
        "groups": {},
        "agents": {},
    }
    qids = []
    for i in range(queues):
        qid = str(115 + i)
        qids.append(qid)
        sched = "closed" if qid in closed else "open"
        state["queues"][qid] = make_queue(
            qid, QUEUE_NAMES[i % len(QUEUE_NAMES)], rng, now, metrics, schedule_state=sched
        )
    for g in range(groups):
        gid = f"g{g + 1}"
        group = make_queue(gid, ["All phone", "All digital", "Priority"][g % 3], rng, now, metrics, kind="group")
        group["queue_ids"] = qids[g::groups] if groups else []
        group["schedule"] = None
        state["groups"][gid] = group
    for a in range(agents):
        _, label = AGENT_STATES[rng.randrange(len(AGENT_STATES))] if a >= 3 else AGENT_STATES[a]
        aid = f"agent{a + 1:03d}"
        gnum = 101 + a % 3
        state["agents"][aid] = {
            "id": aid,
            "name": f"{FIRST[a % len(FIRST)]} {LAST[(a * 7) % len(LAST)]}",
            "state": label,
            "status_since": now - rng.randint(5, 3000),
            "group_id": str(gnum),
            "media_id": 1,
        }
    return state


class PatchStream:
    """Realistic patches against a board state it keeps in step (metrics, agents, history)."""

    def __init__(self, state: dict, seed: int = 11):
        self.state = copy.deepcopy(state)
        self.rng = random.Random(seed)
        self.minute = max(int(k) for q in self.state["queues"].values() for k in q["history"]["queue_size"])

    def next_ops(self) -> list:
        rng = self.rng
        ops = []
        queues = self.state["queues"]
        for qid in rng.sample(sorted(queues), k=min(3, len(queues))):
            q = queues[qid]
            for metric in list(q["metrics"])[:2]:
                value = rng.randint(0, 900 if metric == "longest_wait_time" else 12)
                q["metrics"][metric] = value
                ops.append({"op": "replace", "path": f"/queues/{qid}/metrics/{metric}", "value": value})
            level = rng.choice(["ok", "ok", "warn", "alert"])
            q["states"]["queue_size"] = level
            ops.append({"op": "replace", "path": f"/queues/{qid}/states/queue_size", "value": level})
        agents = self.state["agents"]
        for aid in rng.sample(sorted(agents), k=min(4, len(agents))):
            _, label = AGENT_STATES[rng.randrange(len(AGENT_STATES))]
            since = int(time.time()) - rng.randint(0, 30)
            agents[aid].update(state=label, status_since=since)
            ops += [
                {"op": "replace", "path": f"/agents/{aid}/state", "value": label},
                {"op": "replace", "path": f"/agents/{aid}/status_since", "value": since},
            ]
        if rng.random() < 0.3:
            # A new minute: one add and one remove per history series.
            old = str(self.minute - 59 * 60)
            self.minute += 60
            new = str(self.minute)
            for qid, q in queues.items():
                for metric, series in q["history"].items():
                    value = rng.randint(0, 10)
                    series[new] = value
                    series.pop(old, None)
                    ops.append({"op": "add", "path": f"/queues/{qid}/history/{metric}/{new}", "value": value})
                    ops.append({"op": "remove", "path": f"/queues/{qid}/history/{metric}/{old}"})
        if rng.random() < 0.05:
            # An agent leaves and another joins.
            gone = rng.choice(sorted(agents))
            ops.append({"op": "remove", "path": f"/agents/{gone}"})
            del agents[gone]
            aid = f"temp{rng.randint(0, 10**9)}"
            agent = {
                "id": aid,
                "name": f"Temp {aid[-4:]}",
                "state": "available",
                "status_since": int(time.time()),
                "group_id": "101",
                "media_id": 1,
            }
            agents[aid] = agent
            ops.append({"op": "add", "path": f"/agents/{aid}", "value": copy.deepcopy(agent)})
        return ops


# --------------------------------------------------------------------------- browser


def launch_chromium(playwright, **kwargs):
    """Debian's chromium only: never a downloaded browser."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, **kwargs)


class BoardHarness:
    """Pages + websocket server for one test: `kiosk_page()` opens a board and returns the page
    and the browser's websocket connection, ready for a snapshot."""

    def __init__(self, pages: PageServer, ws: ScriptedWSServer):
        self.pages = pages
        self.ws = ws
        self._n = 0

    def board_url(self, template: str = "boards/kiosk.html", path: str | None = None, **context) -> str:
        context.setdefault("ws_url", self.ws.url(context.get("slug", "demo")))
        html = render_board(template, **board_context(**context))
        self._n += 1
        return self.pages.add(path or f"/board/{self._n}/", html)

    def kiosk_page(self, page, url: str | None = None, *, query: str = "", timeout: float = 10.0, **context):
        """Open a kiosk (or any board URL) in `page`; returns the accepted WSConnection."""
        url = url or self.board_url(**context)
        page.goto(url + query)
        return self.ws.accept(timeout=timeout)

    def supervisor_page(self, page, *, timeout: float = 10.0, **context):
        context.setdefault("mode", "supervisor")
        url = self.board_url("boards/supervisor.html", **context)
        page.goto(url)
        return self.ws.accept(timeout=timeout)
