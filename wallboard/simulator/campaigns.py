"""The simulator's Dynamic Campaigns API: campaign states, customer records, failures on demand.

    PATCH  /api/tstats/campaigns/{id}                      {"status": "RUNNING"|...}
    POST   /api/tstats/campaigns/{id}/customers            [{"customer-id", "schedule-date-time"?}]
    DELETE /api/tstats/campaigns/{id}/customers/{customer}

Basic auth with the tenant name and its action token (`action_tokens`, default
`demo-action-token`), which is not the statistics token. Messages are the vendor's
(../shared/api/8x8-dynamic-campaigns-openapi.json). Control (loopback only):

    GET    /_sim/campaigns                  every campaign, its state and records
    POST   /_sim/campaigns/config           {"latency_ms": N}: wait before every answer
    POST   /_sim/campaigns/{id}             set up one: status, dynamic, enabled, dialers, customers
    POST   /_sim/campaigns/faults           {"mode": "status", "code": 500} | {"mode": "lost"} |
                                            {"mode": "hang"} | {"mode": "malformed"} |
                                            {"mode": "oversized", "bytes": N}, optional "count"
    DELETE /_sim/campaigns/faults           clear them

"lost" and "hang" carry the write out and then never answer (the connection is closed, or
held until the client gives up): the client cannot know whether it happened.

A RUNNING campaign dials: `dialers` available agents per running campaign show busy on the
phone (see `load_agents`, called by the model for every statistics refresh), so pausing
it shows on the board within a refresh.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import select
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PATH_RE = re.compile(r"^/api/tstats/campaigns/([^/]+)(?:/(customers)(?:/([^/]+))?)?/?$")
STATUSES = ("RUNNING", "PAUSED", "STOPPED", "PURGED")
# Allowed changes; the same state again is accepted too. PURGED is final.
TRANSITIONS = {
    "NEW": {"RUNNING", "STOPPED"},
    "RUNNING": {"PAUSED", "STOPPED"},
    "PAUSED": {"RUNNING", "STOPPED"},
    "STOPPED": {"RUNNING", "PURGED"},
    "PURGED": set(),
}
KNOWN_CUSTOMERS = range(1000000, 1001000)  # the CRM's account numbers
MAX_AHEAD = timedelta(days=7)
AVAILABLE, BUSY, POST = 0, 2, 3
# status: answer that HTTP error, change nothing; lost / hang: carry the write out, never answer;
# malformed / oversized: carry it out, answer a broken or huge body.
FAULT_MODES = ("status", "lost", "hang", "malformed", "oversized")


@dataclass
class SimCampaign:
    campaign_id: str
    name: str
    status: str = "PAUSED"  # NEW, RUNNING, PAUSED, STOPPED, PURGED
    dynamic: bool = True
    enabled: bool = True
    dialers: int = 3  # agents kept busy while RUNNING
    window: tuple[int, int] = (8, 20)  # local hours a callback may fall in, every day
    customers: dict[str, str] = field(default_factory=dict)  # id -> queued, scheduled, offered, completed
    running_since: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id, "name": self.name, "status": self.status, "dynamic": self.dynamic,
            "enabled": self.enabled, "dialers": self.dialers, "window": list(self.window),
            "customers": dict(self.customers),
        }


def default_campaigns() -> dict[str, SimCampaign]:
    """101 dynamic, paused, with an offered and a completed record; 102 not started; 103 static; 104 off."""
    return {
        "101": SimCampaign("101", "Renewals callbacks", customers={"1000900": "offered", "1000901": "completed"}),
        "102": SimCampaign("102", "Win-back", status="NEW"),
        "103": SimCampaign("103", "Survey (static list)", dynamic=False),
        "104": SimCampaign("104", "Old promotion", enabled=False),
    }


class HttpAnswer(Exception):
    def __init__(self, status: int, body: object) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def _message(status: int, text: str) -> HttpAnswer:
    return HttpAnswer(status, {"message": text})


class CampaignApi:
    """State and handlers of the campaign endpoints of one simulator."""

    def __init__(self, tenants: dict[str, str], tz: ZoneInfo, now: Any, on_change: Any = None) -> None:
        self.action_tokens = dict(tenants)
        self.tz = tz
        self._now = now  # () -> epoch seconds, the simulator's clock
        self._on_change = on_change or (lambda: None)
        self._lock = threading.Lock()
        self.campaigns = default_campaigns()
        self.faults: list[dict[str, Any]] = []
        self.requests = 0
        self.latency_ms = 0.0  # added before every answer (tests of overlapping presses)
        self.in_flight = 0
        self.max_in_flight = 0

    # --- the dialler's load on the agents ---------------------------------------------------

    def dialers(self) -> int:
        with self._lock:
            return sum(c.dialers for c in self.campaigns.values() if c.status == "RUNNING")

    def load_agents(self, t: float, agents: list[dict[str, Any]], queues: list[dict[str, Any]], enabled: Any) -> None:
        """Turn `dialers` available (else wrapping-up) agents busy on outbound calls; queue counts follow.

        `enabled(agent_id)` gives the queue ids an agent is enabled for. The first available
        agents by id are taken, so the same ones stay busy from one refresh to the next.
        """
        want = self.dialers()
        if want <= 0:
            return
        by_queue = {q["queue-id"]: q for q in queues}
        # Available agents first, then those wrapping up (the dialler takes them as they free up).
        free = sorted((a for a in agents if a["agent-status"] in (AVAILABLE, POST)), key=lambda a: (a["agent-status"], a["agent-id"]))
        for agent in free[:want]:
            count = "agent-count-waitTransact" if agent["agent-status"] == AVAILABLE else "agent-count-postProcess"
            agent["agent-status"] = BUSY
            agent["agent-media-id"] = 1
            agent["phone-line1-status"] = 5
            for queue_id in enabled(agent["agent-id"]):
                queue = by_queue.get(queue_id)
                if queue is not None:
                    queue[count] -= 1
                    queue["agent-count-busy"] += 1

    # --- requests ------------------------------------------------------------------------------

    @staticmethod
    def handles(path: str) -> bool:
        return path.startswith("/api/tstats/campaigns/")

    def serve(self, h: Any, method: str, path: str) -> None:
        """Answer one API request on the handler `h` (a BaseHTTPRequestHandler)."""
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency_ms:
                time.sleep(self.latency_ms / 1000)
            self._serve(h, method, path)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _serve(self, h: Any, method: str, path: str) -> None:
        body = _read_body(h)
        try:
            self._authorise(h.headers.get("Authorization"))
            fault = self._take_fault()
            if fault is not None and fault["mode"] == "status":
                raise _message(int(fault["code"]), "Internal server error" if fault["code"] >= 500 else "Injected fault")
            status, answer = self._dispatch(method, path, body)
        except HttpAnswer as exc:
            _send(h, exc.status, exc.body)
            return
        if fault is not None and fault["mode"] == "lost":
            h.close_connection = True
            return  # done, and no answer: the handler closes the connection
        if fault is not None and fault["mode"] == "hang":
            _hang(h, float(fault.get("max_seconds", 60)))
            return
        if fault is not None and fault["mode"] == "malformed":
            _send_raw(h, status, b'[{"customer-id": 1000000, "http-status": ')
            return
        if fault is not None and fault["mode"] == "oversized":
            _send_raw(h, status, b"[" + b" " * int(fault.get("bytes", 1_000_000)) + b"]")
            return
        _send(h, status, answer)

    def _authorise(self, header: str | None) -> None:
        creds = _basic_auth(header)
        expected = self.action_tokens.get(creds[0]) if creds else None
        if creds is None or expected is None or not hmac.compare_digest(expected.encode(), creds[1].encode()):
            raise HttpAnswer(401, {"message": "Unauthorized"})

    def _take_fault(self) -> dict[str, Any] | None:
        with self._lock:
            if not self.faults:
                return None
            fault = self.faults[0]
            if fault.get("count") is not None:
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.pop(0)
            return fault

    def _dispatch(self, method: str, path: str, body: bytes) -> tuple[int, object]:
        m = PATH_RE.match(path)
        if m is None:
            raise _message(404, "Not found")
        campaign_id, customers, customer = m.groups()
        with self._lock:
            campaign = self.campaigns.get(campaign_id)
            if method == "PATCH" and not customers:
                return self._patch(campaign, body)
            if method == "POST" and customers and customer is None:
                return self._add(campaign, body)
            if method == "DELETE" and customers and customer is not None:
                return self._delete(campaign, customer)
        raise _message(405, "Method not allowed")

    def _patch(self, campaign: SimCampaign | None, body: bytes) -> tuple[int, object]:
        if campaign is None:
            raise _message(404, "The campaign cannot be found.")
        if not campaign.dynamic:
            raise _message(400, "Not a dynamic campaign")
        if not campaign.enabled:
            raise _message(400, "The campaign is not enabled.")
        data = _json(body)
        status = data.get("status") if isinstance(data, dict) else None
        if status not in STATUSES:
            raise _message(400, "Invalid status")
        if status != campaign.status and status not in TRANSITIONS[campaign.status]:
            raise _message(400, "Invalid state transition")
        if status != campaign.status:
            campaign.status = status
            campaign.running_since = self._now() if status == "RUNNING" else None
            if status == "PURGED":
                campaign.customers.clear()
            self._on_change()
        return 200, {"message": "The campaign status has changed."}

    def _campaign_for_records(self, campaign: SimCampaign | None, adding: bool) -> SimCampaign:
        if campaign is None:
            raise _message(404, "The campaign cannot be found.")
        if not campaign.dynamic:
            raise _message(400, "This is not a dynamic campaign.")
        if not campaign.enabled:
            raise _message(400, "The campaign is not enabled." if adding else "This campaign is not enabled.")
        if campaign.status in ("STOPPED", "PURGED"):
            raise _message(400, "The campaign has stopped. " + ("No additional customers can be added." if adding else "No customers can be deleted."))
        if campaign.status == "NEW":
            raise _message(400, "The operation is invalid for a campaign that has not started.")
        return campaign

    def _add(self, campaign: SimCampaign | None, body: bytes) -> tuple[int, object]:
        campaign = self._campaign_for_records(campaign, adding=True)
        items = _json(body)
        if not isinstance(items, list) or not items:
            raise _message(400, "The provided customer list is invalid.")
        return 207, [self._add_one(campaign, item) for item in items]

    def _add_one(self, campaign: SimCampaign, item: object) -> dict[str, Any]:
        raw_id = item.get("customer-id") if isinstance(item, dict) else None
        when = item.get("schedule-date-time") if isinstance(item, dict) else None
        result: dict[str, Any] = {"customer-id": raw_id}
        if when is not None:
            result["schedule-date-time"] = when
        customer = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
        if not customer.isdigit():
            return {**result, "customer-id": None, "http-status": 400, "message": "Invalid customer-id"}
        if int(customer) not in KNOWN_CUSTOMERS:
            return {**result, "http-status": 404, "message": "The customer-id has not been found."}
        if customer in campaign.customers:
            return {**result, "http-status": 400, "message": "Duplicate customer"}
        if when is not None:
            problem = self._callback_problem(campaign, when)
            if problem:
                return {**result, "http-status": 400, "message": problem}
        campaign.customers[customer] = "scheduled" if when is not None else "queued"
        return {**result, "http-status": 200}

    def _callback_problem(self, campaign: SimCampaign, when: object) -> str | None:
        at = _parse_iso(when)
        if at is None:
            return "Invalid schedule-date-time format - please use ISO 8601 format"
        now = datetime.fromtimestamp(self._now(), UTC)
        if at < now:
            return "The subject schedule-date-time is in the past."
        if at > now + MAX_AHEAD:
            return "The subject schedule-date-time must be within 7 days ahead of a future period."
        local = at.astimezone(self.tz)
        start = local.replace(hour=campaign.window[0], minute=0, second=0, microsecond=0)
        end = local.replace(hour=campaign.window[1], minute=0, second=0, microsecond=0)
        if not start <= local < end:
            return (
                "The subject schedule-date-time is outside the campaign schedule from "
                f"{_iso(start)} to {_iso(end)}."
            )
        return None

    def _delete(self, campaign: SimCampaign | None, customer: str) -> tuple[int, object]:
        campaign = self._campaign_for_records(campaign, adding=False)
        state = campaign.customers.get(customer)
        if state is None:
            raise _message(404, "The customer has not been located.")
        if state in ("offered", "completed"):
            raise _message(400, "The customer is not available for deletion.")
        del campaign.customers[customer]
        return 204, None

    # --- control ------------------------------------------------------------------------------

    def control(self, method: str, path: str, spec: dict[str, Any]) -> tuple[int, object]:
        if path == "/_sim/campaigns" and method == "GET":
            return 200, self.state()
        if path == "/_sim/campaigns/faults":
            if method == "POST":
                return 201, self.add_fault(**spec)
            if method == "DELETE":
                return 200, {"removed": self.clear_faults()}
        if path == "/_sim/campaigns/config" and method == "POST":
            latency = spec.get("latency_ms", 0)
            if not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0:
                raise ValueError("latency_ms must be a non-negative number")
            self.latency_ms = float(latency)
            return 200, {"latency_ms": self.latency_ms}
        m = re.fullmatch(r"/_sim/campaigns/(\d+)", path)
        if m and method == "POST":
            return 200, self.configure(m.group(1), **spec)
        return 404, {"error": f"no control action {method} {path}"}

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "campaigns": {cid: c.to_dict() for cid, c in self.campaigns.items()},
                "faults": [dict(f) for f in self.faults],
                "requests": self.requests,
                "max_in_flight": self.max_in_flight,
                "latency_ms": self.latency_ms,
            }

    def configure(self, campaign_id: str, **spec: Any) -> dict[str, Any]:
        """Create or change a campaign (tests and demos): status, name, dynamic, enabled, dialers, customers."""
        allowed = {"status", "name", "dynamic", "enabled", "dialers", "customers", "window"}
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown campaign settings: {', '.join(sorted(unknown))}")
        if "status" in spec and spec["status"] not in (*STATUSES, "NEW"):
            raise ValueError("status must be NEW, RUNNING, PAUSED, STOPPED or PURGED")
        with self._lock:
            campaign = self.campaigns.setdefault(campaign_id, SimCampaign(campaign_id, f"Campaign {campaign_id}"))
            for name, value in spec.items():
                setattr(campaign, name, tuple(value) if name == "window" else value)
            if "status" in spec:
                campaign.running_since = self._now() if campaign.status == "RUNNING" else None
            result = campaign.to_dict()
        self._on_change()
        return result

    def add_fault(
        self, mode: str = "status", code: int = 500, count: int | None = None, max_seconds: float = 60, bytes: int = 1_000_000
    ) -> dict[str, Any]:
        """Make the next `count` requests (all, without a count) fail; see the module docstring."""
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
        if mode == "status" and not (isinstance(code, int) and 400 <= code <= 599):
            raise ValueError("code must be an HTTP error status (400-599)")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer")
        fault = {"mode": mode, "code": code, "count": count, "max_seconds": max_seconds, "bytes": bytes}
        with self._lock:
            self.faults.append(fault)
        return dict(fault)

    def clear_faults(self) -> int:
        with self._lock:
            removed = len(self.faults)
            self.faults = []
            return removed

    def reset(self) -> None:
        with self._lock:
            self.campaigns = default_campaigns()
            self.faults = []
            self.latency_ms = 0.0
            self.max_in_flight = self.in_flight
        self._on_change()


# --- helpers -------------------------------------------------------------------------------------


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    return (user, password) if sep else None


def _read_body(h: Any) -> bytes:
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(min(length, 1_000_000)) if length > 0 else b""


def _json(body: bytes) -> object:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def _parse_iso(value: object) -> datetime | None:
    """Strict ISO 8601 with a zone (Z or an offset); None for anything else."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)", value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _send(h: Any, status: int, body: object) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    h.send_response(status)
    if status == 401:
        h.send_header("WWW-Authenticate", 'Basic realm="8x8"')
    if data:
        h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    if data:
        h.wfile.write(data)


def _send_raw(h: Any, status: int, data: bytes) -> None:
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _hang(h: Any, max_seconds: float) -> None:
    """Say nothing until the client hangs up or max_seconds pass."""
    h.close_connection = True
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        readable, _, _ = select.select([h.connection], [], [], 0.1)
        if readable:
            try:
                if not h.connection.recv(1, 2):  # MSG_PEEK
                    return
            except OSError:
                return
            time.sleep(0.1)
