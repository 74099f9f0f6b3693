"""The stand-in 8x8 platform over real HTTP: both APIs, auth, the two 503 rules, faults.

Also the statistics gateway's one known form, `/cc/v1/stats/rt/queue/{id}` (JSON only), which
authenticates with the `X-8x8-Tenant` and `x-api-key` headers instead of basic auth.

    sim = SimulatorServer(port=0, agents=50, queues=8, seed=1)
    base_url = sim.start()      # http://127.0.0.1:PORT, serving from a background thread
    sim.faults.add("status", code=503, count=3, target="rtstats")
    sim.state()                 # what /_sim/state answers
    sim.stop()

8x8 answers 503 "Server busy" "to allow only single request per customer at a time" and "if more
than 10 customers hitting the CCM API at the same time" (the Tenant Schedule API document). A
customer is a tenant, the account a request authenticates as; both rules count requests in flight
across both APIs, from their arrival until their answer is written (docs/simulator.md).

Statistics come from a cache rebuilt once per 10 s of simulated time, as the real service's:
between refreshes every request gets the same bytes. Simulated time is `clock()` when given
(tests step it), else the wall clock (or `start_at`) running `speed` times faster.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import math
import re
import select
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypedDict
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from . import render
from .analytics import AnalyticsApi
from .attachments import handles_attachments, serve_attachments
from .campaigns import CampaignApi
from .contactnow import ContactNowSim
from .faults import Fault, Faults
from .loopback import is_loopback
from .model import ContactCenter
from .requestlog import RequestLog
from .schedules import Schedule, next_status, sample_schedules, status_at

log = logging.getLogger(__name__)

REFRESH_SECONDS = 10
MAX_CUSTOMERS = 10  # "more than 10 customers hitting the CCM API at the same time": 503
BUSY_RULES = ("one_per_customer", "customers_at_once")
BUSY_BODIES = {
    "one_per_customer": b"Server busy: one request per customer at a time\n",
    "customers_at_once": b"Server busy: too many customers at the same time\n",
}
CONTENT_TYPE = {"xml": "application/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
ENDPOINT_KINDS = (
    "agents", "agent", "queues", "queue",
    "schedules", "schedule", "schedule_by_name", "schedule_status", "schedule_next", "other",
)
# The gateway form seen in real clients (../shared/api/NOTES.md); no list or agent form is known.
GATEWAY_RE = re.compile(r"^/cc/v1/stats/rt/queue/([^/]+)$")
TENANT_HEADER = "X-8x8-Tenant"
API_KEY_HEADER = "x-api-key"
STATS_RE = re.compile(r"^/api/rtstats/stats/(?:(agents|queues)|(agent|queue)/([^/]+))$")
SCHED_RE = re.compile(r"^/api/provisioning/(?:(schedules)|schedulesbyname/([^/]+)|schedules/([^/]+?)(?:/(status|nextstatus))?)$")
# The vendor's own example glues the two parameters together: ?utctime=1360821949898offset=600
GLUED_RE = re.compile(r"^(-?\d+)offset=(-?\d+)$")


@dataclass(frozen=True)
class Route:
    api: str  # "rtstats" or "schedules"
    kind: str  # one of ENDPOINT_KINDS
    fmt: str  # "xml" or "json"
    item: str | None = None
    gateway: bool = False  # the statistics gateway: header credentials, JSON only


class FaultedRoute(Protocol):
    """What fault injection reads of a route: a Route, or analytics.py's own (it cannot import this one)."""

    @property
    def api(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def fmt(self) -> str: ...


class SimConfig(TypedDict):
    """The settings /_sim/config changes and /_sim/state reports."""

    seed: int
    agents: int
    queues: int
    speed: float
    latency_ms: float
    tenant_tz: str
    tenants: list[str]
    max_customers: int | None
    refresh_phase: float


class SimState(TypedDict):
    """What /_sim/state answers (docs/simulator.md)."""

    now: str
    now_ms: int
    last_refresh_ms: int
    last_refresh_real_ms: int
    refresh_count: int
    refresh_seconds: int
    requests: dict[str, int]
    requests_by_api: dict[str, int]
    gateway_requests: int
    requests_by_tenant: dict[str, dict[str, int]]
    responses: dict[str, int]
    busy_rejections: int
    busy_by_rule: dict[str, int]
    in_flight: dict[str, int]
    max_in_flight: dict[str, int]
    customers_in_flight: int
    max_customers_in_flight: int
    faults: list[dict[str, Any]]
    config: SimConfig


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def route_of(raw_path: str) -> Route | None:
    """Which endpoint a path names; the .xml/.json suffix picks the format (XML by default).

    A gateway path takes no suffix: the gateway answers JSON whatever is asked.
    """
    path = raw_path.rstrip("/") or "/"
    m = GATEWAY_RE.match(path)
    if m:
        return Route("rtstats", "queue", "json", unquote(m.group(1)), gateway=True)
    fmt = "xml"
    for ext in ("xml", "json"):
        if path.endswith("." + ext):
            path, fmt = path[: -len(ext) - 1], ext
    m = STATS_RE.match(path)
    if m:
        listing, single, item = m.groups()
        return Route("rtstats", listing or single, fmt, unquote(item) if item else None)
    m = SCHED_RE.match(path)
    if m:
        listing, name, sched_id, sub = m.groups()
        if listing:
            return Route("schedules", "schedules", fmt)
        if name:
            return Route("schedules", "schedule_by_name", fmt, unquote(name))
        kind = {"status": "schedule_status", "nextstatus": "schedule_next"}.get(sub or "", "schedule")
        return Route("schedules", kind, fmt, unquote(sched_id))
    return None


def basic_auth(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an Authorization header, or None."""
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    return (user, password) if sep else None


def gateway_credentials(headers: Message) -> tuple[str, str] | None:
    """(tenant, API key) from the gateway's two headers, or None when either is missing."""
    tenant, key = headers.get(TENANT_HEADER), headers.get(API_KEY_HEADER)
    return (tenant, key) if tenant and key else None


class SimulatorServer:
    """Both 8x8 APIs served from a background thread; see the module docstring."""

    def __init__(
        self,
        port: int = 8088,
        agents: int = 50,
        queues: int = 8,
        seed: int = 1,
        latency_ms: float = 0,
        speed: float = 1.0,
        clock: Callable[[], float] | None = None,
        *,
        host: str = "127.0.0.1",
        tenant: str = "demo",
        token: str = "demo-token",
        tenants: dict[str, str] | None = None,
        api_key: str = "demo-api-key",
        api_keys: dict[str, str] | None = None,
        tenant_tz: str = "UTC",
        start_at: float | None = None,
        max_customers: int | None = MAX_CUSTOMERS,
        action_tokens: dict[str, str] | None = None,
    ) -> None:
        if agents < 1 or queues < 1:
            raise ValueError("agents and queues must be at least 1")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.max_customers = _customer_limit(max_customers)
        self.host, self.port = host, port
        self.seed, self.n_agents, self.n_queues = seed, agents, queues
        self.latency_ms = latency_ms
        self.speed = speed
        self.tenants = dict(tenants) if tenants else {tenant: token}
        # The gateway's keys: `api_keys` per tenant, else `api_key` for every tenant.
        self.api_keys = {name: api_key for name in self.tenants} | dict(api_keys or {})
        self.tenant_tz_name = tenant_tz
        self.tenant_tz = ZoneInfo(tenant_tz)
        self._external_clock = clock is not None
        self._clock = clock or _running_clock(start_at, speed)
        self.faults = Faults()
        self.model = ContactCenter(seed, agents, queues, self.tenant_tz)
        # Dynamic Campaigns (simulator/campaigns.py): running campaigns keep agents busy.
        self.action_tokens = {name: "demo-action-token" for name in self.tenants} | dict(action_tokens or {})
        self.campaigns = CampaignApi(self.action_tokens, self.tenant_tz, self.now, self._campaigns_changed)
        self.model.outbound = self.campaigns.load_agents
        today = datetime.fromtimestamp(self.now(), self.tenant_tz).date()
        self.schedules = sample_schedules(today)
        self.contactnow = ContactNowSim(self.now)  # ContactNow's /database.php (simulator/contactnow.py)
        self.analytics = AnalyticsApi(self)  # Analytics v5 and its token endpoint (simulator/analytics.py)
        self._lock = threading.Lock()  # counters and in-flight
        self._cache_lock = threading.Lock()
        self._cache: render.StatsBodies | None = None
        self._cache_tick: int | None = None
        # The statistics cache refreshes at `refresh_phase` s past each multiple of 10 s of
        # simulated time; POST /_sim/config {"refresh_phase": s} moves it (bench/freshness.py's
        # phase jump). After a move no window older than the one served is ever built again.
        self.refresh_phase = 0.0
        self._cache_start = 0.0
        self._no_window_before = -math.inf
        self._refreshed_real = 0.0
        self._stop = threading.Event()
        self._httpd: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._in_flight: Counter[str] = Counter()
        # (wall time, tenant, endpoint kind) of each API request after auth parsing, newest last:
        # per-tenant calls and gaps for tests and bench/tenants.py (not in /_sim/state: too long).
        self.request_log: deque[tuple[float, str, str]] = deque(maxlen=200_000)
        # Every cache build and the build each statistics request got (GET /_sim/request-log).
        self.stats_log = RequestLog()
        self._reset_counters_locked()

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> str:
        """Build the first cache, start serving, and return the base URL."""
        self.stats()
        self._stop.clear()
        self._httpd = _Server((self.host, self.port), _Handler)
        self._httpd.sim = self
        self.port = self._httpd.server_address[1]
        serve = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="sim-http")
        serve.start()
        self._threads = [serve]
        if not self._external_clock:
            # With its own clock the cache refreshes on time even when nobody asks, as upstream's.
            refresher = threading.Thread(target=self._refresh_loop, daemon=True, name="sim-refresh")
            refresher.start()
            self._threads.append(refresher)
        return self.base_url

    def stop(self) -> None:
        """Stop serving; held (latency) and hanging requests are released and dropped."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_all()
            self._httpd.server_close()
            self._httpd = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def now(self) -> float:
        """Simulated time, epoch seconds."""
        return float(self._clock())

    # --- statistics cache -----------------------------------------------------------------

    def stats(self) -> render.StatsBodies:
        """The bodies of the current 10-second window, rebuilt when simulated time leaves it."""
        start = self._window_start(self.now())
        with self._cache_lock:
            if self._cache is None or self._cache_tick is None or (
                start != self._cache_start and start > self._no_window_before
            ):
                began = time.time()
                agents, queues = self.model.at(start)
                self._cache = render.render_stats(agents, queues)
                self._cache_tick = math.floor(start / REFRESH_SECONDS)
                self._cache_start = start
                self._refreshed_real = time.time()
                self.stats_log.refreshed(start, began, self._refreshed_real)
                with self._lock:
                    self._refresh_count += 1
            self.stats_log.handed()
            return self._cache

    def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.stats()
            except Exception:  # keep refreshing; one bad tick must not kill the simulator
                log.exception("simulator refresh failed")
            now = self.now()
            until_next = (self._window_start(now) + REFRESH_SECONDS - now) / self.speed
            self._stop.wait(min(1.0, max(0.005, until_next + 0.001)))

    def _window_start(self, now: float) -> float:
        """Simulated time of the latest refresh at or before `now`."""
        return math.floor((now - self.refresh_phase) / REFRESH_SECONDS) * REFRESH_SECONDS + self.refresh_phase

    def set_refresh_phase(self, seconds: float) -> None:
        """Move the refresh clock: later or earlier within the 10 s window, from the next refresh on."""
        with self._cache_lock:
            self.refresh_phase = seconds % REFRESH_SECONDS
            self._no_window_before = self._cache_start

    # --- counters and state ---------------------------------------------------------------

    def _reset_counters_locked(self) -> None:
        self._requests: Counter[str] = Counter({k: 0 for k in ENDPOINT_KINDS})
        self._by_api: Counter[str] = Counter({"rtstats": 0, "schedules": 0})
        self._gateway_requests = 0
        self._by_tenant: Counter[tuple[str, str]] = Counter()
        self._responses: Counter[str] = Counter()
        self._busy: Counter[str] = Counter({rule: 0 for rule in BUSY_RULES})
        self._max_in_flight: Counter[str] = Counter({t: self._in_flight.get(t, 0) for t in self.tenants})
        self._max_customers_in_flight = self._customers_in_flight()
        self._refresh_count = 0

    def reset_counters(self) -> None:
        """Zero the request, response, refresh and max-in-flight counters (not the simulation)."""
        with self._lock:
            self._reset_counters_locked()

    def state(self) -> SimState:
        """What /_sim/state answers: clock, cache, counters, in-flight, faults."""
        self.stats()
        now = self.now()
        with self._lock:
            return {
                "now": datetime.fromtimestamp(now, UTC).isoformat(),
                "now_ms": int(now * 1000),
                "last_refresh_ms": round(self._cache_start * 1000),
                "last_refresh_real_ms": int(self._refreshed_real * 1000),
                "refresh_count": self._refresh_count,
                "refresh_seconds": REFRESH_SECONDS,
                "requests": dict(self._requests),
                "requests_by_api": dict(self._by_api),
                "gateway_requests": self._gateway_requests,
                "requests_by_tenant": _by_tenant(self._by_tenant),
                "responses": dict(self._responses),
                "busy_rejections": sum(self._busy.values()),
                "busy_by_rule": dict(self._busy),
                "in_flight": {t: self._in_flight.get(t, 0) for t in self._tenant_names()},
                "max_in_flight": {t: self._max_in_flight.get(t, 0) for t in self._tenant_names()},
                "customers_in_flight": self._customers_in_flight(),
                "max_customers_in_flight": self._max_customers_in_flight,
                "faults": self.faults.active(),
                "config": {
                    "seed": self.seed, "agents": self.n_agents, "queues": self.n_queues, "speed": self.speed,
                    "latency_ms": self.latency_ms, "tenant_tz": self.tenant_tz_name, "tenants": sorted(self.tenants),
                    "max_customers": self.max_customers, "refresh_phase": self.refresh_phase,
                },
            }

    def _tenant_names(self) -> list[str]:
        return sorted(set(self.tenants) | set(self._in_flight) | set(self._max_in_flight))

    def _serve_contactnow(self, h: _Handler, method: str, query: str) -> None:
        length = min(int(h.headers.get("Content-Length") or 0), 1 << 20)
        body = h.rfile.read(length) if length else b""
        status, data, ctype = self.contactnow.handle(method, query, body, h.client_address[0])
        self._send(h, status, data, ctype)

    def _campaigns_changed(self) -> None:
        """A campaign started or stopped dialling: the next statistics request shows it."""
        with self._cache_lock:
            self._cache_tick = None

    def revoke_token(self, target: str = "both") -> dict[str, Any]:
        """Make every request's credentials bad (403 statistics, 401 schedules) until restored."""
        return self.faults.add("revoke", target=target)

    def restore_token(self) -> int:
        return self.faults.clear(kind="revoke")

    # --- requests ---------------------------------------------------------------------------

    def handle(self, h: _Handler, method: str) -> None:
        """Entry point of every request."""
        url = urlsplit(h.path)
        if self.analytics.handles(url.path):
            self.analytics.handle(h, method, url)
            return
        if url.path == "/_sim" or url.path.startswith("/_sim/"):
            self._control(h, method, url.path)
            return
        if url.path == "/database.php":
            self._serve_contactnow(h, method, url.query)
            return
        if self.campaigns.handles(url.path):
            self.campaigns.serve(h, method, url.path)
            return
        if handles_attachments(url.path):  # Case and Contact Management (simulator/attachments.py)
            serve_attachments(self, h, method, url.path, basic_auth(h.headers.get("Authorization")))
            return
        route = route_of(url.path)
        with self._lock:
            self._requests[route.kind if route else "other"] += 1
            if route:
                self._by_api[route.api] += 1
                self._gateway_requests += route.gateway
        if method != "GET":
            self._send(h, 405, b"Method not allowed\n", "text/plain")
            return
        if route is None:
            self._send(h, 404, b"Not found\n", "text/plain")
            return
        if route.gateway:
            creds = gateway_credentials(h.headers)
        else:
            creds = basic_auth(h.headers.get("Authorization"))
        with self._lock:
            self._by_tenant[(creds[0] if creds else "", route.kind)] += 1
            self.request_log.append((time.time(), creds[0] if creds else "", route.kind))
        h.slot = self._enter(creds[0] if creds else "")
        try:
            self._serve_api(h, route, url.query, creds)
        finally:
            h.slot.release()
            h.slot = None

    def _serve_api(self, h: _Handler, route: Route, query: str, creds: tuple[str, str] | None) -> None:
        received = time.time()
        if creds is None or not self._authorised(route, creds):
            if route.gateway:
                # No basic-auth challenge: a browser's password prompt could not send these headers.
                status = 401 if creds is None else 403
                self._send(h, status, b"Unauthorized\n" if status == 401 else b"Forbidden\n", "text/plain")
            elif route.api == "schedules" or creds is None:
                # Browsers only prompt for a password on a 401 with a challenge.
                self._send(h, 401, b"Unauthorized\n", "text/plain", {"WWW-Authenticate": 'Basic realm="8x8"'})
            else:
                self._send(h, 403, b"Forbidden\n", "text/plain")
            return
        with self._lock:
            rule = self._busy_rule(creds[0])
            if rule is not None:
                self._busy[rule] += 1
        if rule is not None:
            self._send(h, 503, BUSY_BODIES[rule], "text/plain")
            return
        extra_ms, fault = self.faults.take(route.api)
        if not self._hold((self.latency_ms + extra_ms) / 1000):
            h.close_connection = True
            return
        try:
            status, body = 200, self._answer(route, query)
        except HttpError as exc:
            status, body = exc.status, f"{exc}\n".encode()
        ctype = CONTENT_TYPE[route.fmt] if status == 200 else "text/plain"
        if fault is None:
            self._send(h, status, body, ctype)
        else:
            self._inject(h, fault, route, status, body, ctype)
        if route.api == "rtstats":
            self.stats_log.served(creds[0], route.kind, status, received, time.time())

    def _authorised(self, route: Route, creds: tuple[str, str]) -> bool:
        """The tenant's token (basic auth) or, on the gateway, its API key; a revoke fault wins.

        The gateway counts as the statistics API for faults: a "rtstats" revoke refuses it too.
        """
        expected = (self.api_keys if route.gateway else self.tenants).get(creds[0])
        if expected is None or not hmac.compare_digest(expected.encode(), creds[1].encode()):
            return False
        return not self.faults.revoked(route.api)

    def _busy_rule(self, tenant: str) -> str | None:
        """Which 503 rule refuses this request of tenant, already counted in flight; None: neither.

        Called with the lock held. The per-customer rule first: a tenant that already has a
        request in flight is one customer too many for itself, not one more customer.
        """
        if self._in_flight[tenant] > 1:
            return "one_per_customer"
        if self.max_customers is not None and self._customers_in_flight() > self.max_customers:
            return "customers_at_once"
        return None

    def _customers_in_flight(self) -> int:
        """How many tenants have a request in flight now (called with the lock held)."""
        return sum(1 for count in self._in_flight.values() if count > 0)

    def _enter(self, tenant: str) -> _Slot:
        """Count the request in flight for its tenant until the slot is released."""
        if tenant not in self.tenants:
            return _Slot(None)
        with self._lock:
            self._in_flight[tenant] += 1
            self._max_in_flight[tenant] = max(self._max_in_flight[tenant], self._in_flight[tenant])
            self._max_customers_in_flight = max(self._max_customers_in_flight, self._customers_in_flight())
        return _Slot(lambda: self._leave(tenant))

    def _leave(self, tenant: str) -> None:
        with self._lock:
            self._in_flight[tenant] -= 1

    def _hold(self, seconds: float) -> bool:
        """Wait (latency); False when the simulator stops meanwhile."""
        return seconds <= 0 or not self._stop.wait(seconds)

    def _answer(self, route: Route, query: str) -> bytes:
        if route.api == "rtstats":
            kind = route.kind.rstrip("s")
            body = self.stats().body(kind, route.fmt, route.item)
            if body is None:
                raise HttpError(404, f"No {kind} with id {route.item}")
            return body
        if route.kind == "schedules":
            return render.schedules_body(self.schedules, route.fmt)
        assert route.item is not None  # route_of() names the schedule on every other schedules path
        if route.kind == "schedule_by_name":
            return render.schedules_body([self._schedule_named(route.item)], route.fmt)
        schedule = self._schedule(route.item)
        if route.kind == "schedule":
            return render.schedule_body(schedule, route.fmt)
        when = datetime.fromtimestamp(self._when_ms(query) / 1000, UTC)
        if route.kind == "schedule_status":
            return render.status_body(status_at(schedule, when, self.tenant_tz), route.fmt)
        now, nxt, change = next_status(schedule, when, self.tenant_tz)
        return render.next_status_body(now, nxt, change, route.fmt)

    def _schedule(self, schedule_id: str) -> Schedule:
        for s in self.schedules:
            if s.id == schedule_id:
                return s
        raise HttpError(404, f"No schedule with id {schedule_id}")

    def _schedule_named(self, name: str) -> Schedule:
        # The exact name first, then the same name in another case.
        matchers: tuple[Callable[[Schedule], bool], ...] = (
            lambda s: s.name == name, lambda s: s.name.casefold() == name.casefold(),
        )
        for match in matchers:
            for s in self.schedules:
                if match(s):
                    return s
        raise HttpError(404, f"No schedule named {name}")

    def _when_ms(self, query: str) -> int:
        """?utctime=<epoch ms> and/or ?offset=<seconds>; default now (simulated)."""
        params = parse_qs(query)
        utctime, offset = params.get("utctime", [None])[-1], params.get("offset", [None])[-1]
        glued = GLUED_RE.match(utctime) if utctime else None
        if glued:
            utctime, offset = glued.groups()
        try:
            ms = int(utctime) if utctime not in (None, "") else int(self.now() * 1000)
            ms += int(offset) * 1000 if offset not in (None, "") else 0
            datetime.fromtimestamp(ms / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            raise HttpError(400, "utctime must be epoch milliseconds and offset whole seconds") from None
        return ms

    # --- faults -------------------------------------------------------------------------------

    def _inject(self, h: _Handler, fault: Fault, route: FaultedRoute, status: int, body: bytes, ctype: str) -> None:
        kind = fault.kind
        if kind == "status":
            code = int(fault.params["code"])
            headers = {"WWW-Authenticate": 'Basic realm="8x8"'} if code == 401 else None
            self._send(h, code, f"Injected fault: HTTP {code}\n".encode(), "text/plain", headers)
        elif kind == "malformed":
            self._send(h, status, _mangle(body, route.fmt) if status == 200 else body, ctype)
        elif kind == "truncated":
            self._send_truncated(h, status, body, ctype)
        elif kind == "oversized":
            self._send_oversized(h, route, int(fault.params["bytes"]))
        elif kind == "hang":
            self._hang(h, float(fault.params["max_seconds"]))

    def _send_truncated(self, h: _Handler, status: int, body: bytes, ctype: str) -> None:
        """Promise the whole body, send half, close: the client sees an incomplete read."""
        self._head(h, status, ctype, len(body))
        _release(h)
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.close_connection = True
        _shutdown(h.connection)

    def _send_oversized(self, h: _Handler, route: FaultedRoute, size: int) -> None:
        """A valid but huge body (whitespace padding), streamed, for the client's size cap."""
        kind = route.kind.rstrip("s") if route.api == "rtstats" else "schedule"
        if route.fmt == "xml":
            head, tail = f"{render.XML_DECL}<{kind}s>".encode(), f"</{kind}s>".encode()
        else:
            head, tail = f'{{"{kind}":['.encode(), b"]}"
        size = max(size, len(head) + len(tail))
        self._head(h, 200, CONTENT_TYPE[route.fmt], size)
        h.wfile.write(head)
        left, chunk = size - len(head) - len(tail), b" " * 65536
        while left > 0 and not self._stop.is_set():
            n = min(left, len(chunk))
            h.wfile.write(chunk[:n])
            left -= n
        _release(h)
        h.wfile.write(tail)

    def _hang(self, h: _Handler, max_seconds: float) -> None:
        """Answer nothing until the client gives up (closes), the simulator stops, or max_seconds."""
        deadline = time.monotonic() + max_seconds
        h.close_connection = True
        while time.monotonic() < deadline and not self._stop.is_set():
            readable, _, _ = select.select([h.connection], [], [], 0.1)
            if readable:
                try:
                    if not h.connection.recv(1, socket.MSG_PEEK):
                        return  # the client closed its end
                except OSError:
                    return
                time.sleep(0.1)  # it sent more (a pipelined request): keep ignoring it

    # --- control endpoint ---------------------------------------------------------------------

    def _control(self, h: _Handler, method: str, path: str) -> None:
        if not is_loopback(h.client_address[0]):
            self._send_json(h, 403, {"error": "the control endpoint answers loopback clients only"})
            return
        try:
            status, data = self._control_action(method, path.rstrip("/"), h)
        except ValueError as exc:
            status, data = 400, {"error": str(exc)}
        self._send_json(h, status, data)

    def _control_action(self, method: str, path: str, h: _Handler) -> tuple[int, object]:
        if path == "/_sim/campaigns" or path.startswith("/_sim/campaigns/"):
            return self.campaigns.control(method, path, _json_body(h) if method != "GET" else {})
        if method == "GET" and path == "/_sim/state":
            return 200, self.state()
        if method == "GET" and path == "/_sim/request-log":
            since = parse_qs(urlsplit(h.path).query).get("since", ["0"])[-1]
            return 200, self.stats_log.since(float(since))
        if method == "POST" and path == "/_sim/reset-counters":
            self.reset_counters()
            return 200, {"ok": True}
        if path == "/_sim/faults":
            if method == "GET":
                return 200, self.faults.active()
            if method == "POST":
                spec = _json_body(h)
                kind = spec.pop("kind", None)
                if not isinstance(kind, str):
                    raise ValueError("kind is required")
                return 201, self.faults.add(kind, **spec)
            if method == "DELETE":
                return 200, {"removed": self.faults.clear()}
        if method in ("POST", "DELETE") and path == "/_sim/faults/clear":
            return 200, {"removed": self.faults.clear()}
        m = re.fullmatch(r"/_sim/faults/(\d+)", path)
        if m and method == "DELETE":
            removed = self.faults.clear(int(m.group(1)))
            return (200 if removed else 404), {"removed": removed}
        if method == "POST" and path == "/_sim/revoke":
            return 201, self.revoke_token(_json_body(h).get("target", "both"))
        if method == "POST" and path == "/_sim/restore":
            return 200, {"removed": self.restore_token()}
        if method == "POST" and path == "/_sim/config":
            spec = _json_body(h)
            if "latency_ms" in spec:
                latency = spec["latency_ms"]
                if not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0:
                    raise ValueError("latency_ms must be a non-negative number")
                self.latency_ms = latency
            if "max_customers" in spec:
                self.max_customers = _customer_limit(spec["max_customers"])
            if "refresh_phase" in spec:
                phase = spec["refresh_phase"]
                if not isinstance(phase, int | float) or isinstance(phase, bool) or not math.isfinite(phase):
                    raise ValueError("refresh_phase must be a number of seconds")
                self.set_refresh_phase(float(phase))
            return 200, self.state()["config"]
        return 404, {"error": f"no control action {method} {path}"}

    # --- writing --------------------------------------------------------------------------------

    def _head(self, h: _Handler, status: int, ctype: str, length: int, headers: dict[str, str] | None = None, flush: bool = True) -> None:
        with self._lock:
            self._responses[str(status)] += 1
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        if flush:
            h.end_headers()
        else:
            h._headers_buffer.append(b"\r\n")

    def _send(self, h: _Handler, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        """Headers and body in one write, the in-flight slot released just before it.

        Released after the write, a client that fires its next request the moment it has read
        this answer could find its own previous request still "in flight" and get a 503.
        """
        self._head(h, status, ctype, len(body), headers, flush=False)
        data = b"".join(h._headers_buffer) + body
        h._headers_buffer = []
        _release(h)
        h.wfile.write(data)

    def _send_json(self, h: _Handler, status: int, data: object) -> None:
        h.send_response(status)
        body = json.dumps(data, indent=1).encode()
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


class _Slot:
    """A request's place in its tenant's in-flight count; release() is idempotent."""

    def __init__(self, leave: Callable[[], None] | None) -> None:
        self._leave = leave

    def release(self) -> None:
        leave, self._leave = self._leave, None
        if leave is not None:
            leave()


def _release(h: _Handler) -> None:
    slot = getattr(h, "slot", None)
    if slot is not None:
        slot.release()


def _by_tenant(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """{tenant: {endpoint kind: requests}} from the (tenant, kind) counter."""
    out: dict[str, dict[str, int]] = {}
    for (tenant, kind), n in counts.items():
        out.setdefault(tenant, {})[kind] = n
    return out


def _customer_limit(value: object) -> int | None:
    """A valid max_customers: a positive whole number, or None to switch the rule off."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("max_customers must be a positive whole number, or null to switch the rule off")
    return value


def _running_clock(start_at: float | None, speed: float) -> Callable[[], float]:
    """Simulated time: from start_at (or now), running `speed` times as fast as the wall clock."""
    origin_sim = time.time() if start_at is None else start_at
    origin_mono = time.monotonic()
    return lambda: origin_sim + (time.monotonic() - origin_mono) * speed


def _mangle(body: bytes, fmt: str) -> bytes:
    """Cut a body in the middle of a record and end it with junk: a parser must refuse it."""
    cut = body[: max(1, len(body) * 2 // 3)]
    return cut + (b"<broken attr=></wrong>&" if fmt == "xml" else b'",,}{]')


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _json_body(h: _Handler) -> dict[str, Any]:
    length = int(h.headers.get("Content-Length") or 0)
    if length > 65536:
        raise ValueError("control request body too large")
    raw = h.rfile.read(length) if length else b""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the SimulatorServer; quiet about clients that go away."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a pooled client expects
    server_version = "8x8-simulator/1"
    server: _Server
    slot: _Slot | None = None
    # BaseHTTPRequestHandler's own buffer (send_header fills it): _send writes it with the body.
    _headers_buffer: list[bytes]

    def do_GET(self) -> None:
        self.server.sim.handle(self, "GET")

    def do_POST(self) -> None:
        self.server.sim.handle(self, "POST")

    def do_DELETE(self) -> None:
        self.server.sim.handle(self, "DELETE")

    def do_PATCH(self) -> None:
        self.server.sim.handle(self, "PATCH")

    def do_PUT(self) -> None:
        self.server.sim.handle(self, "PUT")

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.untrack(self.connection)

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            pass  # the client hung up: nothing to answer, nothing worth a traceback

    def log_message(self, format: str, *args: Any) -> None:
        # ContactNow tokens travel in the query string: never into a log line.
        log.debug("%s %s", self.address_string(), re.sub(r"(token=)[^&\s]*", r"\1[redacted]", format % args))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: SimulatorServer

    def __init__(self, address: tuple[str, int], handler: type[_Handler]) -> None:
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, sock: socket.socket) -> None:
        with self._conn_lock:
            self._connections.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._conn_lock:
            self._connections.discard(sock)

    def close_all(self) -> None:
        """Drop kept-alive connections so stop() really stops."""
        with self._conn_lock:
            for sock in list(self._connections):
                _shutdown(sock)

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        log.warning("simulator: error while serving %s", client_address, exc_info=log.isEnabledFor(logging.DEBUG))
