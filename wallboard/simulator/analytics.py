"""The stand-in for 8x8's Analytics real-time API (v5) and its OAuth2 token endpoint.

Fed by the same contact-centre model as the statistics API, so both sources show the same
centre: at an instant both refresh on (every 10 s), the numbers they share agree. This one
refreshes every 5 s, as the real one does, and answers in v5's units: milliseconds, 0-1
fractions, status strings, ISO timestamps (../shared/api/8x8-analytics-realtime-v5.md).

    POST /oauth/v2/token                                 basic auth client id:secret -> token
    GET  [/eu|/au|/ca]/analytics/cc/v5/realtime-metrics/queues[/{id}]
                                                    .../agents, .../groups[/{id}]
    GET  /_sim/analytics                                 counters (loopback only)
    POST /_sim/analytics/expire-tokens                   every issued token expires now

What it does on purpose, because the vendor's documents disagree and a client must cope: queue
metrics spell `eligibl.rt`, `/agents` answers queue-scoped metrics with `.inQueue`, `/queues/{id}`
answers a one-element array and `/groups/{id}` a bare object, group counts are strings. Paging
as documented (page, size up to 1000, X-Page / X-Total-Pages / X-Total-Elements headers, 400
past the last page). Tokens expire with simulated time; a multi-tenant account (`tenants`)
answers 400 without a known X-Tenant-Info. Faults and latency are the statistics API's
(`target="rtstats"` or "both"): a revoke refuses a valid token with 403.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qs

from .loopback import is_loopback
from .model import (
    AVAILABLE,
    BREAK,
    BUSY,
    DEPARTMENTS,
    LOGGED_OUT,
    OFFERED,
    OFFLINE,
    POST,
    SLA_TARGET,
    AgentState,
    Day,
    QueueState,
    Record,
)

if TYPE_CHECKING:
    from .server import SimulatorServer, _Handler

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5
TOKEN_PATH = "/oauth/v2/token"
METRICS_RE = re.compile(r"^(?:/(eu|au|ca))?/analytics/cc/v5/realtime-metrics/(queues|agents|groups)(?:/([^/]+))?$")
CONTROL_PATH = "/_sim/analytics"
SLA_PERCENT_TARGET = 0.8  # every queue's target: 80 % within its time threshold
STATUS = {
    AVAILABLE: "Available", OFFERED: "Offering", BUSY: "Handling", POST: "WrapUp",
    BREAK: "OnBreak", OFFLINE: "WorkingOffline", LOGGED_OUT: "LoggedOut",
}
JSON = "application/json"


def agent_id(login: str) -> str:
    """v5's opaque agent id for a statistics login id: stable, 'ag' and 21 more characters."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(login.encode()).digest()).decode()
    return "ag" + re.sub(r"[^A-Za-z0-9]", "x", digest)[:21]


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch_s * 1000) % 1000:03d}Z"


class AnalyticsApi:
    """The v5 endpoints and the token endpoint of one simulator; see the module docstring."""

    def __init__(
        self,
        sim: SimulatorServer,
        *,
        client_id: str = "demo-client",
        client_secret: str = "demo-secret",
        region: str = "us",
        tenants: tuple[str, ...] = (),
        token_seconds: int = 1799,
    ) -> None:
        self.sim = sim
        self.client_id, self.client_secret = client_id, client_secret
        self.region = region  # where the tenant lives; other regions answer 404
        self.tenants = tenants  # a multi-tenant account's ids (X-Tenant-Info required); () single-tenant
        self.token_seconds = token_seconds
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> simulated expiry
        self._cache: dict[str, list[dict[str, Any]]] | None = None
        self._cache_tick: int | None = None
        self._pages: dict[tuple[Any, ...], tuple[bytes, dict[str, str]]] = {}
        self._recent_pages: list[tuple[Any, ...]] = []
        self._build_lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        # Whether this handler thread's request still counts as in flight (see _answered).
        self._request = threading.local()
        self.reset_counters()

    # --- counters --------------------------------------------------------------------------

    def reset_counters(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.responses: Counter[str] = Counter()
            self.tokens_issued = 0
            self.refresh_count = 0
            self.in_flight = 0
            self.max_in_flight = 0
            self.last_refresh_ms = 0
            self.tenant_info_seen: Counter[str] = Counter()

    def state(self) -> dict[str, Any]:
        self.entities()  # the current window, as the statistics state builds its own
        with self._lock:
            return {
                "refresh_seconds": REFRESH_SECONDS,
                "last_refresh_ms": self.last_refresh_ms,
                "refresh_count": self.refresh_count,
                "requests": dict(self.requests),
                "responses": dict(self.responses),
                "tokens_issued": self.tokens_issued,
                "tokens_live": sum(1 for exp in self._tokens.values() if exp > self.sim.now()),
                "max_in_flight": self.max_in_flight,
                "tenant_info_seen": dict(self.tenant_info_seen),
                "config": {"client_id": self.client_id, "region": self.region, "tenants": list(self.tenants),
                           "token_seconds": self.token_seconds},
            }

    def expire_tokens(self) -> int:
        """Every token issued so far expires now (the next call with one gets 401)."""
        with self._lock:
            count = len(self._tokens)
            self._tokens = {token: 0.0 for token in self._tokens}
            return count

    # --- dispatch ----------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        path = path.rstrip("/")
        return path == TOKEN_PATH or path.startswith(CONTROL_PATH) or METRICS_RE.match(path) is not None

    def handle(self, h: _Handler, method: str, url: SplitResult) -> None:
        path = url.path.rstrip("/")
        if path.startswith(CONTROL_PATH):
            self._control(h, method, path)
            return
        self._start_refresher()
        with self._lock:
            self.requests["token" if path == TOKEN_PATH else "metrics"] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._request.counted = True
        try:
            if path == TOKEN_PATH:
                self._token(h, method)
            else:
                self._metrics(h, method, path, url.query)
        finally:
            self._answered()

    def _answered(self) -> None:
        """The request stops counting as in flight, once, just before its answer goes out.

        After the last byte the client may send its next request at once, before this thread
        runs on: counted after the send, the two overlapped on a loaded machine.
        """
        if getattr(self._request, "counted", False):
            self._request.counted = False
            with self._lock:
                self.in_flight -= 1

    def _reply(self, h: _Handler, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        body = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
        with self._lock:
            self.responses[str(status)] += 1
        self._answered()
        self.sim._send(h, status, body, JSON, headers)

    # --- the token endpoint ------------------------------------------------------------------

    def _token(self, h: _Handler, method: str) -> None:
        if method != "POST":
            self._reply(h, 405, {"error": "method_not_allowed"})
            return
        form = parse_qs(_read_body(h).decode("utf-8", "replace"))
        creds = _basic(h.headers.get("Authorization"))
        if creds is None or not (
            hmac.compare_digest(creds[0].encode(), self.client_id.encode())
            and hmac.compare_digest(creds[1].encode(), self.client_secret.encode())
        ):
            # Undocumented for /oauth/v2/token: the OAuth 2 shape, as the vendor's other token endpoint.
            self._reply(h, 401, {"error": "invalid_client", "error_description": "Client authentication failed"})
            return
        if form.get("grant_type") != ["client_credentials"]:
            self._reply(h, 400, {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"})
            return
        token = secrets.token_urlsafe(21)[:28]
        now = self.sim.now()
        with self._lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now - 3600}
            self._tokens[token] = now + self.token_seconds
            self.tokens_issued += 1
        # As in the vendor's example: every value a string but the product list.
        self._reply(h, 200, {
            "refresh_token_expires_in": "0", "api_product_list": "[analytics realtime-api]",
            "api_product_list_json": ["analytics realtime-api"], "organization_name": "8x8",
            "developer.email": "deprecated", "token_type": "BearerToken", "issued_at": str(int(now * 1000)),
            "client_id": "deprecated", "access_token": token, "application_name": "wallboard",
            "scope": "", "expires_in": str(self.token_seconds), "refresh_count": "0", "status": "approved",
        })

    # --- the metrics endpoints -------------------------------------------------------------------

    def _metrics(self, h: _Handler, method: str, path: str, query: str) -> None:
        if method != "GET":
            self._reply(h, 405, {"message": "Method not allowed"})
            return
        match = METRICS_RE.match(path)
        assert match is not None  # handles() said so
        region, kind, item = match.group(1) or "us", match.group(2), match.group(3)
        refusal = self._refusal(h, region)
        if refusal is not None:
            self._reply(h, *refusal)
            return
        extra_ms, fault = self.sim.faults.take("rtstats")
        if not self.sim._hold((self.sim.latency_ms + extra_ms) / 1000):
            h.close_connection = True
            return
        try:
            status, body, headers = 200, *self._answer(kind, item, parse_qs(query))
        except _Refused as exc:
            status, body, headers = exc.status, json.dumps({"message": str(exc)}).encode(), {}
        if fault is None:
            self._reply(h, status, body, headers)
            return
        self.sim._inject(h, fault, _Route("rtstats", kind, "json"), status, body, JSON)

    def _refusal(self, h: _Handler, region: str) -> tuple[int, dict[str, str]] | None:
        """401 (no or expired token), 403 (revoked), 400 (X-Tenant-Info), 404 (wrong region), or None."""
        auth = h.headers.get("Authorization") or ""
        token = auth[7:] if auth[:7].lower() == "bearer " else ""
        with self._lock:
            expires = self._tokens.get(token)
        if not token or expires is None or expires <= self.sim.now():
            return 401, {"message": "Unauthorized"}
        if self.sim.faults.revoked("rtstats"):
            return 403, {"message": "Forbidden"}
        info = h.headers.get("X-Tenant-Info")
        with self._lock:
            self.tenant_info_seen[info or ""] += 1
        if self.tenants and not info:
            return 400, {"message": "Bad request: X-Tenant-Info header is missing."}
        if self.tenants and info not in self.tenants:
            return 400, {"message": "Bad request: Invalid value for X-Tenant-Info header."}
        if region != self.region:
            return 404, {"message": "Not found: no such tenant in this region"}
        return None

    def _answer(self, kind: str, item: str | None, params: dict[str, list[str]]) -> tuple[bytes, dict[str, str]]:
        metrics = tuple(m for value in params.get("metrics", []) for m in value.split(",") if m)
        tick, data = self._current()
        entities = data[kind]
        if item is not None:
            found = [e for e in entities if e["id"] == item]
            if not found:
                raise _Refused(404, f"Not found: no {kind[:-1]} with id {item}")
            one = _with_metrics(found[0], metrics)
            # The documents disagree on single-entity answers: an array here, a bare object there.
            return json.dumps(one if kind == "groups" else [one], separators=(",", ":")).encode(), {}
        page, size = _int(params, "page", 0), _int(params, "size", 100)
        if size < 1 or size > 1000:
            raise _Refused(400, "Bad request: Field 'size' must be less than or equal to 1000")
        total_pages = math.ceil(len(entities) / size)
        if page < 0 or (page >= total_pages and not (page == 0 and total_pages == 0)):
            raise _Refused(400, "Bad request: Field 'page' must be greater than or equal to 0 and less than "
                           f"the total number of pages, which is {total_pages} for this request")
        return self._page(tick, kind, metrics, page, size)

    def _page(self, tick: int, kind: str, metrics: tuple[str, ...], page: int, size: int) -> tuple[bytes, dict[str, str]]:
        """One page's body and paging headers, rendered once per window."""
        key = (tick, kind, metrics, page, size)
        with self._lock:
            cached = self._pages.get(key)
            entities = (self._cache or {}).get(kind, []) if self._cache_tick == tick else None
        if cached is not None:
            return cached
        if entities is None:  # the window moved on meanwhile: answer from the new one
            tick, data = self._current()
            return self._page(tick, kind, metrics, page, size)
        chosen = [_with_metrics(e, metrics) for e in entities[page * size:(page + 1) * size]]
        headers = {"X-Page-Size": str(size), "X-Page": str(page), "X-Total-Pages": str(math.ceil(len(entities) / size)),
                   "X-Total-Elements": str(len(entities))}
        cached = (json.dumps(chosen, separators=(",", ":")).encode(), headers)
        with self._lock:
            if self._cache_tick == tick:
                self._pages[key] = cached
        return cached

    # --- the data: the statistics model, every 5 s, in v5's terms --------------------------------

    def entities(self) -> dict[str, list[dict[str, Any]]]:
        """queues, agents and groups with every metric, rebuilt when simulated time leaves a 5 s window."""
        return self._current()[1]

    def _current(self) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        """(window, its entities); one thread builds a new window, the others wait for it."""
        tick = math.floor(self.sim.now() / REFRESH_SECONDS)
        with self._lock:
            if self._cache is not None and self._cache_tick == tick:
                return tick, self._cache
        with self._build_lock:
            with self._lock:
                if self._cache is not None and self._cache_tick == tick:
                    return tick, self._cache
            # The statistics cache first: the model only runs forward, and its window starts no later.
            self.sim.stats()
            t = tick * REFRESH_SECONDS
            # The model is the simulator's own and not thread-safe: its lock guards every step.
            with self.sim._cache_lock:
                agents, queues = self.sim.model.at(t)
                built = _build(t, agents, queues, self.sim.model.today)
            with self._lock:
                self._cache, self._cache_tick = built, tick
                self._recent_pages = [key[1:] for key in self._pages] or self._recent_pages
                self._pages = {}
                self.refresh_count += 1
                self.last_refresh_ms = t * 1000
            return tick, built

    def _refresh_loop(self) -> None:
        """With its own clock the simulator refreshes on time, as upstream does, even when nobody
        asks; the pages the poller asked for last window are rendered before it asks again."""
        stop = self.sim._stop
        while not stop.is_set():
            now = self.sim.now()
            until = ((math.floor(now / REFRESH_SECONDS) + 1) * REFRESH_SECONDS - now) / self.sim.speed
            if stop.wait(max(0.005, until + 0.001)):
                return
            try:
                tick, _ = self._current()
                for kind, metrics, page, size in list(self._recent_pages):
                    self._page(tick, kind, metrics, page, size)
            except Exception:  # keep refreshing; one bad window must not stop it
                log.exception("simulator: Analytics refresh failed")

    def _start_refresher(self) -> None:
        with self._lock:
            if self._refresher is not None and self._refresher.is_alive():
                return
            if self.sim._external_clock or self.sim._stop.is_set():
                return
            self._refresher = threading.Thread(target=self._refresh_loop, daemon=True, name="sim-analytics-refresh")
        self._refresher.start()

    # --- control ------------------------------------------------------------------------------------

    def _control(self, h: _Handler, method: str, path: str) -> None:
        if not is_loopback(h.client_address[0]):
            self.sim._send_json(h, 403, {"error": "the control endpoint answers loopback clients only"})
        elif method == "GET" and path == CONTROL_PATH:
            self.sim._send_json(h, 200, self.state())
        elif method == "POST" and path == CONTROL_PATH + "/expire-tokens":
            self.sim._send_json(h, 200, {"expired": self.expire_tokens()})
        elif method == "POST" and path == CONTROL_PATH + "/reset-counters":
            self.reset_counters()
            self.sim._send_json(h, 200, {"ok": True})
        else:
            self.sim._send_json(h, 404, {"error": f"no control action {method} {path}"})


@dataclass(frozen=True)
class _Route:
    """What the simulator's fault injection reads of a route (server.Route's fields)."""

    api: str
    kind: str
    fmt: str


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _int(params: dict[str, list[str]], name: str, default: int) -> int:
    raw = params.get(name, [str(default)])[-1]
    try:
        return int(raw)
    except ValueError:
        raise _Refused(400, f"Bad request: Field '{name}' must be a number") from None


def _with_metrics(entity: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, Any]:
    """The entity with only the wanted metrics (all when none named), in the wire's list form."""
    values: dict[str, Any] = entity["metrics"]
    if wanted:
        aliases = entity.get("aliases", {})
        keys = [aliases.get(k, k) for k in wanted]
        values = {k: values[k] for k in keys if k in values}
    out = {k: v for k, v in entity.items() if k not in ("metrics", "aliases")}
    out["metrics"] = [{"key": k, "value": v} for k, v in values.items()]
    return out


def _read_body(h: _Handler) -> bytes:
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(min(length, 65536)) if length else b""


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


# --- building the entities -------------------------------------------------------------------------


def _ms(seconds: float | int | None) -> int | None:
    return None if seconds is None or seconds < 0 else int(seconds * 1000)


def _ratio(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


def _avg_ms(total: float, count: int) -> float | None:
    return None if count <= 0 else round(total / count * 1000, 1)


def _build(t: float, agents: list[Record], queues: list[Record], day: Day) -> dict[str, list[dict[str, Any]]]:
    agent_entities = [_agent(t, record, state) for record, state in zip(agents, day.agents, strict=True)]
    # One pass over the agents for every queue's counts (300 queues x 2,000 agents otherwise).
    counts: list[Counter[str]] = [Counter() for _ in queues]
    interactions: list[Counter[int]] = [Counter() for _ in queues]
    for a in day.agents:
        if a.state == LOGGED_OUT:
            continue
        name = STATUS[a.state]
        for qi in a.d.enabled:
            counts[qi]["enabled"] += 1
            counts[qi][name] += 1
        if a.state in (BUSY, POST) and a.inter is not None:
            interactions[a.inter.queue][a.state] += 1
    return {
        "agents": agent_entities,
        "queues": [_queue(r, day.queues[i], counts[i], interactions[i]) for i, r in enumerate(queues)],
        "groups": _groups(day),
    }


def _group_name(group_id: str) -> str:
    return f"{DEPARTMENTS[(int(group_id) - 101) % len(DEPARTMENTS)]} team" if group_id.isdigit() else group_id


def _agent(t: float, r: Record, state: AgentState) -> dict[str, Any]:
    since = state.since
    last_login = r["last-login-time"]
    metrics = {
        "status.rt": STATUS.get(r["agent-status"], "LoggedOut"),
        "statusCode.rt": r["status-code-item-short-code"] or None,
        "timeOnStatus.rt": int((t - since) * 1000) if since >= 0 else None,
        "timeOnStatusCode.rt": int((t - since) * 1000) if since >= 0 and r["status-code-item-short-code"] else None,
        "lastLogin.rt": iso(last_login) if last_login >= 0 else None,
        "lastStatusChange.rt": iso(since) if since >= 0 else None,
        "accepted.today.inQueue": r["day-accepted-count"],
        "accepted.int-30m.inQueue": r["thirty-min-accepted-count"],
        "rejected.today.inQueue": 0,
        "rejected.int-30m.inQueue": 0,
        "rejectTimeout.today.inQueue": r["day-rejected-count"],  # the model's rejections are ring-no-answer
        "rejectTimeout.int-30m.inQueue": r["thirty-min-rejected-count"],
        "availableTime.today": _ms(r["day-available-time"]),
        "availableTime.int-30m": _ms(r["thirty-min-available-time"]),
        "onBreakTime.today": _ms(r["day-break-time"]),
        "onBreakTime.int-30m": _ms(r["thirty-min-break-time"]),
        "workingOfflineTime.today": _ms(r["day-offline-time"]),
        "workingOfflineTime.int-30m": _ms(r["thirty-min-offline-time"]),
        "handlingTime.today": _ms(r["day-processing-time"]),
        "handlingTime.int-30m": _ms(r["thirty-min-processing-time"]),
        "wrapUpTime.today": _ms(r["day-wrap-up-time"]),
        "wrapUpTime.int-30m": _ms(r["thirty-min-wrap-up-time"]),
        "loggedInTime.today": _ms(r["day-login-time"]),
        "averageHandlingTime.today.inQueue": _ms(r["day-avg-processing-time"]) if r["day-accepted-count"] else None,
        "averageHandlingTime.int-30m.inQueue": _ms(r["thirty-min-avg-handling-time"]) if r["thirty-min-accepted-count"] else None,
    }
    # /agents is asked with plain keys but answers .inQueue ones (the guide and spec disagree).
    aliases = {k.removesuffix(".inQueue"): k for k in metrics if k.endswith(".inQueue")}
    return {"id": agent_id(r["agent-id"]), "name": r["agent-name"], "groupId": r["group-id"],
            "groupName": _group_name(r["group-id"]), "metrics": metrics, "aliases": aliases}


def _queue(r: Record, q: QueueState, counts: Counter[str], interactions: Counter[int]) -> dict[str, Any]:
    recent = [ok for _, ok in q.recent]
    entered, entered_hh = q.day_q, q.hh_q
    metrics = {
        "interactionsWaitInQueue.rt": r["queue-size"],
        "interactionsLongestWaitInQueue.rt": _ms(r["longest-wait-time"]),
        "interactionsLongestWaitInQueue.int-30m": _ms(r["thirty-min-longest-wait-time"]),
        "interactionsHandling.rt": interactions[BUSY],
        "interactionsWrapUp.rt": interactions[POST],
        "availableIdle.rt": counts["Available"],
        "offering.rt": counts["Offering"],
        "handling.rt": counts["Handling"],
        "wrapUp.rt": counts["WrapUp"],
        "busy.rt": counts["Offering"] + counts["Handling"] + counts["WrapUp"],
        "onBreak.rt": counts["OnBreak"],
        "workingOffline.rt": counts["WorkingOffline"],
        "enabled.rt": counts["enabled"],
        "eligibl.rt": counts["enabled"] - counts["OnBreak"] - counts["WorkingOffline"],  # the spec's spelling
        "entered.today": entered,
        "entered.int-30m": entered_hh,
        "accepted.today": q.day_acc,
        "accepted.int-30m": q.hh_acc,
        "abandoned.today": q.day_ab,  # nobody in the model gives up within 5 s: no short abandons
        "shortAbandoned.today": 0,
        "totalAbandoned.today": q.day_ab,
        "totalAbandoned.int-30m": q.hh_ab,
        "acceptedInSla.today": q.day_ok,
        "acceptedInSlaPercentage.today": _ratio(q.day_ok, q.day_acc),
        # v5's SLA: answered within the threshold / entered, short abandons left out.
        "slaPercentage.today": _ratio(q.day_ok, entered),
        "slaPercentage.int-30m": _ratio(q.hh_ok, entered_hh),
        "slaPercentage.int-15m": _ratio(sum(recent), len(recent)),
        "slaPercentageTarget.today": SLA_PERCENT_TARGET,
        "slaTimeThreshold.today": SLA_TARGET[q.d.media] * 1000,
        "interactionsAvgWaitTime.today": _avg_ms(q.day_wsum, q.day_wn),
        "interactionsAvgWaitTime.int-30m": _avg_ms(q.hh_wsum, q.hh_wn),
        "avgHandlingTime.today": _avg_ms(q.day_dsum, q.day_dn),
        "avgHandlingTime.int-30m": _avg_ms(q.hh_dsum, q.hh_dn),
    }
    return {"id": r["queue-id"], "name": r["queue-name"], "metrics": metrics, "aliases": {"eligible.rt": "eligibl.rt"}}


def _groups(day: Day) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = {g: Counter() for g in day.roster.group_ids}
    for a in day.agents:
        c = counts[a.d.group_id]
        if a.state == LOGGED_OUT:
            continue
        c["enabled.rt"] += 1
        key = {AVAILABLE: "availableIdle.rt", BUSY: "handling.rt", POST: "wrapUp.rt", BREAK: "onBreak.rt",
               OFFLINE: "workingOffline.rt"}.get(a.state)
        if key:
            c[key] += 1
        if a.state not in (BREAK, OFFLINE):
            c["eligible.rt"] += 1
    keys = ("availableIdle.rt", "eligible.rt", "enabled.rt", "handling.rt", "onBreak.rt", "workingOffline.rt", "wrapUp.rt")
    # The guide's group examples carry counts as strings.
    return [{"id": g, "name": _group_name(g), "metrics": {k: str(c[k]) for k in keys}} for g, c in counts.items()]
