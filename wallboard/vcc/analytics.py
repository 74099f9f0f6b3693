"""HTTP client for 8x8's Analytics for Contact Center real-time metrics API (v5).

The newer statistics source: OAuth2 client credentials, JSON, paged answers, refreshed every
5 seconds (../shared/api/8x8-analytics-realtime-v5.md). It gives the same `Agent` and `Queue`
records as the statistics API (`parse.analytics`), so nothing above vcc/ knows which source fed
a board.

The access token lives about 30 minutes and 8x8 asks clients not to fetch one per call: it is
fetched once, kept in a TokenStore until shortly before it expires, and renewed once when a
call is refused with 401. The poller injects a store in Redis, so every worker process of a
tenant uses the same token; without one, a store in this process's memory does.

The rules of vcc/http.py hold here too, through its helpers: one request in flight per tenant,
timeouts, a size cap, https only and public addresses only (loopback aside), every failure a
typed VccError in our words. A list is read page by page to the last page, all pages within the
time of one statistics call, so a poll cycle stays as short as with the statistics API.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlsplit

import requests

from .client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BYTES, DEFAULT_READ_TIMEOUT, VccClient, validate_base_url
from .errors import BadRequestError, MalformedError, NotFoundError, TimedOutError, UnauthorisedError, VccError
from .http import (
    SessionClient,
    fit_timeouts,
    limits_from_settings,
    new_session,
    one_in_flight,
    raise_for_status,
    read_capped,
    send,
    tenant_lock,
)
from .parse import analytics as parse
from .records import Agent, Queue, Schedule, ScheduleNextStatus, ScheduleStatus

DEFAULT_BASE_URL = "https://api.8x8.com"
TOKEN_PATH = "/oauth/v2/token"
# Region -> path prefix; the token URL is global (no regional one is documented).
REGIONS = {"us": "", "eu": "/eu", "au": "/au", "ca": "/ca"}
METRICS_PATH = "/analytics/cc/v5/realtime-metrics"
TENANT_INFO_HEADER = "X-Tenant-Info"
REFRESH_SECONDS = 5  # the API's own refresh: polling faster returns the same data
PAGE_SIZE = 1000  # the largest page the API allows: fewest requests per list
TOKEN_MARGIN = 60.0  # renew this long before the token expires
MAX_ERROR_BYTES = 4096

# What a board needs: the poller asks for these only, so a page of 1,000 agents stays small.
BOARD_AGENT_METRICS = ("status.rt", "statusCode.rt", "timeOnStatus.rt")
# Everything the statistics API's agent record has, and the v5-only times of a status code.
ALL_AGENT_METRICS = (
    *BOARD_AGENT_METRICS, "timeOnStatusCode.rt", "lastLogin.rt", "lastStatusChange.rt",
    *(f"{base}.{period}" for period in ("today", "int-30m") for base in (
        "accepted", "rejected", "rejectTimeout", "availableTime", "onBreakTime", "workingOfflineTime",
        "handlingTime", "wrapUpTime", "averageHandlingTime",
    )),
    "loggedInTime.today",
)
# The statistics API's queue fields, plus what v5 alone says about the service level.
QUEUE_METRICS = (
    *(key for key, _ in parse.QUEUE_RULES.values()),
    *(key for keys in parse.QUEUE_SUMS.values() for key in keys),
    "slaPercentageTarget.today", "slaTimeThreshold.today", "acceptedInSla.today", "acceptedInSlaPercentage.today",
    "abandoned.today", "shortAbandoned.today", "eligible.rt",
)
GROUP_METRICS = ("availableIdle.rt", "eligible.rt", "enabled.rt", "handling.rt", "onBreak.rt", "workingOffline.rt", "wrapUp.rt")

T = TypeVar("T")


def base_urls(region: str, base_url: str | None = None) -> tuple[str, str]:
    """(token URL, metrics base URL) for a region, on 8x8's host or an override (the simulator).

    Raises ValueError for an unknown region or an unusable URL, UnsafeError for plain http to
    anything but a loopback host.
    """
    if region not in REGIONS:
        raise ValueError(f"region must be one of {', '.join(REGIONS)}")
    root = validate_base_url(base_url or DEFAULT_BASE_URL)
    for suffix in (TOKEN_PATH, METRICS_PATH):
        root = root.removesuffix(suffix)
    for prefix in REGIONS.values():
        if prefix and root.endswith(prefix):
            root = root.removesuffix(prefix)
    return root + TOKEN_PATH, root + REGIONS[region] + METRICS_PATH


def client_id_problem(value: str) -> str | None:
    """Why 8x8 could not take this as the basic auth user of the token request, or None."""
    if not value or not all(" " < char <= "~" for char in value):
        return "the client id (API key) must be printable ASCII without spaces"
    if ":" in value:
        return "the client id (API key) must not contain ':', which separates it from the secret in basic auth"
    return None


def client_secret_problem(value: str) -> str | None:
    """Why 8x8 could not take this as the basic auth password of the token request, or None."""
    if not value or not all(" " <= char <= "~" for char in value):
        return "the client secret must be printable ASCII (letters, digits, punctuation)"
    return None


def tenant_info_problem(value: str) -> str | None:
    """Why this could not travel in the X-Tenant-Info header, or None (empty: not sent)."""
    if value and (not all(" " <= char <= "~" for char in value) or value != value.strip()):
        return "the tenant info must be printable ASCII without spaces at either end"
    return None


# ---------------------------------------------------------------------------------------------
# Where the token is kept.


@dataclass(frozen=True)
class CachedToken:
    access_token: str
    expires_at: float  # epoch seconds
    renew_at: float  # epoch seconds: a minute before expiry, or a third of a short lifetime

    def to_json(self) -> str:
        return json.dumps({"access_token": self.access_token, "expires_at": self.expires_at, "renew_at": self.renew_at})

    @classmethod
    def from_json(cls, raw: str | bytes) -> CachedToken | None:
        """The token, or None for anything unreadable (it is fetched again)."""
        try:
            data = json.loads(raw)
            return cls(str(data["access_token"]), float(data["expires_at"]), float(data["renew_at"]))
        except (ValueError, TypeError, KeyError):
            return None


class TokenStore(Protocol):
    """Where clients of one set of credentials find the token they share."""

    def get(self, key: str) -> CachedToken | None: ...

    def put(self, key: str, token: CachedToken, ttl: float) -> None: ...

    def discard(self, key: str, access_token: str) -> None:
        """Forget the token under key, if it is still this one (another may already have renewed it)."""
        ...


class MemoryTokenStore:
    """A store in this process's memory: the command line, tests, a client without a poller."""

    def __init__(self) -> None:
        self._tokens: dict[str, CachedToken] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedToken | None:
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: str, token: CachedToken, ttl: float) -> None:
        with self._lock:
            self._tokens[key] = token

    def discard(self, key: str, access_token: str) -> None:
        with self._lock:
            if key in self._tokens and self._tokens[key].access_token == access_token:
                del self._tokens[key]


_memory_store = MemoryTokenStore()


def token_key(token_url: str, client_id: str, client_secret: str) -> str:
    """The store key of one set of credentials: a hash, so the secret is never a key in Redis."""
    raw = "\0".join((token_url, client_id, client_secret)).encode()
    return hashlib.sha256(raw).hexdigest()[:40]


# ---------------------------------------------------------------------------------------------
# The one outgoing HTTP call (GET for metrics, POST for the token).


@dataclass
class Answer:
    body: bytes
    headers: requests.structures.CaseInsensitiveDict[str]


def http_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    what: str,
    credentials: str,
) -> Answer:
    """One request; the body and headers, or the VccError that says why not.

    http.get_body with the two things this API needs besides: the answer's paging
    headers, and the message of a 400 (8x8 says there why it refused, e.g. a missing
    X-Tenant-Info). The rest is http.send's.
    """
    host = urlsplit(url).hostname or "?"
    with send(
        session, method, url, params=params, headers=headers, data=data,
        connect_timeout=connect_timeout, read_timeout=read_timeout,
    ) as response:
        deadline = time.monotonic() + connect_timeout + read_timeout
        if response.status_code == 400:
            raise BadRequestError(_refusal(response, url, host, deadline, read_timeout), status=400, url=url)
        raise_for_status(response, url, what, credentials)
        return Answer(read_capped(response, url, host, max_bytes, deadline, read_timeout), response.headers)


def _refusal(response: requests.Response, url: str, host: str, deadline: float, read_timeout: float) -> str:
    """A 400's reason in words: 8x8's {"message": ...} (cut short, printable only), else the status."""
    try:
        data = json.loads(read_capped(response, url, host, MAX_ERROR_BYTES, deadline, read_timeout))
        message = data.get("message") or data.get("error_description")
    except (VccError, ValueError, AttributeError):
        message = None
    if not isinstance(message, str) or not message.strip():
        return "the platform rejected the request (HTTP 400)"
    clean = "".join(char for char in message if char.isprintable())[:200]
    if TENANT_INFO_HEADER.lower() in clean.lower():
        return f"{clean} (HTTP 400); a multi-tenant account needs the tenant info (X-Tenant-Info)"
    return f"{clean} (HTTP 400)"


# ---------------------------------------------------------------------------------------------
# The client.


class AnalyticsClient(SessionClient):
    """One tenant's connection to the Analytics real-time API; safe to share between threads."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        region: str = "us",
        tenant_info: str = "",
        base_url: str | None = None,
        token_store: TokenStore | None = None,
        page_size: int = PAGE_SIZE,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ):
        for problem in (client_id_problem(client_id), client_secret_problem(client_secret), tenant_info_problem(tenant_info)):
            if problem:
                raise ValueError(problem)
        if not 1 <= page_size <= 1000:
            raise ValueError("the page size must be between 1 and 1000")
        self.token_url, self.metrics_url = base_urls(region, base_url)
        self.region = region
        self.client_id = client_id
        self.tenant_info = tenant_info
        self.page_size = page_size
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.store: TokenStore = token_store if token_store is not None else _memory_store
        self.clock = clock
        self.pages_read = 0  # every page request, for benchmarks and tests
        self.tokens_fetched = 0
        self._key = token_key(self.token_url, client_id, client_secret)
        # One request in flight per set of credentials and tenant info on this host.
        self._lock = tenant_lock(("analytics", urlsplit(self.metrics_url).netloc, client_id, tenant_info))
        self.session = new_session(
            accept="application/json", headers={TENANT_INFO_HEADER: tenant_info} if tenant_info else None
        )
        # The secret travels only to the token URL, in a session of its own.
        self._token_session = new_session(accept="application/json", auth=(client_id, client_secret))

    @classmethod
    def from_settings(cls, client_id: str, client_secret: str, **kwargs: Any) -> AnalyticsClient:
        """A client with the timeouts and size cap from Django settings."""
        return cls(client_id, client_secret, **{**limits_from_settings(), **kwargs})

    def __repr__(self) -> str:
        return f"<AnalyticsClient {self.client_id[:6]}… {self.region} {self.metrics_url}>"

    def _sessions(self) -> list[requests.Session | None]:
        return [self.session, self._token_session]

    # Records ----------------------------------------------------------------------------------

    def agents(self, metrics: tuple[str, ...] = BOARD_AGENT_METRICS) -> list[Agent]:
        """Every agent of the tenant (/agents), with their group."""
        return self._list("/agents", metrics, parse.agent_record, "the agent list", "agent_id")

    def queues(self, metrics: tuple[str, ...] = QUEUE_METRICS) -> list[Queue]:
        return self._list("/queues", metrics, parse.queue_record, "the queue list", "queue_id")

    def groups(self, metrics: tuple[str, ...] = GROUP_METRICS) -> list[parse.AgentGroup]:
        return self._list("/groups", metrics, parse.group_record, "the group list", "group_id")

    def queue(self, queue_id: str, metrics: tuple[str, ...] = QUEUE_METRICS) -> Queue:
        found = self._get(f"/queues/{_segment(queue_id)}", {"metrics": list(metrics)}, f"queue {queue_id!r}", None)
        queues: list[Queue] = parse.records(found.body, parse.queue_record)
        return _one(queues, f"queue {queue_id!r}")

    # Paging ------------------------------------------------------------------------------------

    def _list(self, path: str, metrics: tuple[str, ...], make: Callable[[Any], T], what: str, ident: str) -> list[T]:
        """Every page, in order, within the time of one statistics call; each record once.

        X-Total-Pages says when to stop. Without it a full page means there may be more; a
        refresh between two pages can move a record to the next one, so the last copy wins.
        """
        budget = self.connect_timeout + self.read_timeout
        deadline = time.monotonic() + budget
        found: dict[str, T] = {}
        page, pages = 0, 1
        while page < pages:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimedOutError(f"the Analytics API answered {page} of {pages} pages of {what} within {budget:g} s")
            params = {"metrics": list(metrics), "page": page, "size": self.page_size}
            try:
                answer = self._get(path, params, what, left)
            except TimedOutError as exc:
                raise TimedOutError(
                    f"the Analytics API answered {page} of {pages} pages of {what} within {budget:g} s", url=exc.url
                ) from None
            except NotFoundError as exc:
                # A list always exists: 404 means the tenant is not in this region.
                raise NotFoundError(
                    f"{what} was not found in region {self.region!r} (HTTP 404); check where the tenant lives",
                    status=exc.status, url=exc.url,
                ) from None
            items = parse.records(answer.body, make)
            for item in items:
                found[getattr(item, ident)] = item
            pages = _total_pages(answer.headers, page, len(items), self.page_size)
            page += 1
        return list(found.values())

    # Requests -----------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any], what: str, budget: float | None) -> Answer:
        """A metrics request with the shared token; on 401 a new token and one more try."""
        token = self._token(budget)
        try:
            return self._send("GET", self.metrics_url + path, params, what, budget, token=token)
        except UnauthorisedError as exc:
            if exc.status != 401:
                raise
        # Expired early or revoked: forget it (unless another worker already renewed it), renew once.
        self.store.discard(self._key, token)
        return self._send("GET", self.metrics_url + path, params, what, budget, token=self._token(budget, fresh=True))

    def _token(self, budget: float | None, *, fresh: bool = False) -> str:
        """The shared token while it has more than a margin left, else a new one, stored for all."""
        cached = None if fresh else self.store.get(self._key)
        if cached is not None and self.clock() < cached.renew_at:
            return cached.access_token
        answer = self._send("POST", self.token_url, None, "the access token", budget, form={"grant_type": "client_credentials"})
        token = _read_token(answer.body, self.clock())
        self.tokens_fetched += 1
        self.store.put(self._key, token, max(1.0, token.renew_at - self.clock()))
        return token.access_token

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        what: str,
        budget: float | None,
        *,
        token: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        """One request under the tenant lock, both timeouts shrunk to fit what is left of the budget."""
        connect_timeout, read_timeout = fit_timeouts(self.connect_timeout, self.read_timeout, budget, floor=0.05)
        with one_in_flight(self._lock, connect_timeout + read_timeout, url):
            if form is not None:
                try:
                    return http_request(
                        self._token_session, method, url, data=form, connect_timeout=connect_timeout,
                        read_timeout=read_timeout, max_bytes=MAX_ERROR_BYTES * 4, what=what,
                        credentials="client id and secret",
                    )
                except BadRequestError:  # the token endpoint's 400: invalid_grant, invalid_client
                    raise UnauthorisedError(
                        "8x8 refused this client id and secret (HTTP 400)", status=400, url=url
                    ) from None
            self.pages_read += 1
            return http_request(
                self.session, method, url, params=params, headers={"Authorization": f"Bearer {token}"},
                connect_timeout=connect_timeout, read_timeout=read_timeout, max_bytes=self.max_bytes,
                what=what, credentials="access token",
            )


def _read_token(body: bytes, now: float) -> CachedToken:
    """The token answer: values may be strings ("1799") or numbers; only the token is required."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedError("the token answer is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
        raise MalformedError("the token answer has no access_token")
    try:
        expires_in = float(data.get("expires_in", 1799))
    except (TypeError, ValueError):
        raise MalformedError("the token answer's expires_in is not a number") from None
    if not 0 < expires_in < 10**7:
        raise MalformedError("the token answer's expires_in is out of range")
    # Renewed a minute before it expires (a third of its life for a short-lived one).
    return CachedToken(data["access_token"], now + expires_in, now + expires_in - min(TOKEN_MARGIN, expires_in / 3))


def _total_pages(headers: Any, page: int, count: int, size: int) -> int:
    """How many pages the list has: X-Total-Pages, else one more while pages come full."""
    raw = headers.get("X-Total-Pages")
    if raw is not None:
        try:
            total = int(raw)
        except ValueError:
            raise MalformedError("X-Total-Pages is not a number") from None
        if total < 0 or total > 10000:
            raise MalformedError("X-Total-Pages is out of range")
        return total
    return page + 2 if count >= size else page + 1


def _segment(value: str) -> str:
    if not str(value).strip():
        raise ValueError("an id must not be empty")
    return quote(str(value), safe="")


def _one(found: list[T], what: str) -> T:
    if not found:
        raise NotFoundError(f"{what} is not in the answer")
    return found[0]


# ---------------------------------------------------------------------------------------------
# A tenant on this source: statistics from Analytics, schedules still from the Tenant Schedule API.


class AnalyticsSource:
    """What the poller calls for a tenant on the Analytics API.

    Agents and queues come from the Analytics client; v5 has no schedules, so those calls go
    to the classic client with the Data Request Token, as before the switch.
    """

    def __init__(self, analytics: AnalyticsClient, classic: VccClient):
        self.analytics = analytics
        self.classic = classic

    def agents(self) -> list[Agent]:
        return self.analytics.agents()

    def queues(self) -> list[Queue]:
        return self.analytics.queues()

    def schedules(self) -> list[Schedule]:
        return self.classic.schedules()

    def schedule(self, schedule_id: str) -> Schedule:
        return self.classic.schedule(schedule_id)

    def schedule_status(self, schedule_id: str, utctime_ms: int | None = None, offset_s: int | None = None) -> ScheduleStatus:
        return self.classic.schedule_status(schedule_id, utctime_ms, offset_s)

    def schedule_next(self, schedule_id: str, utctime_ms: int | None = None, offset_s: int | None = None) -> ScheduleNextStatus:
        return self.classic.schedule_next(schedule_id, utctime_ms, offset_s)

    def close(self) -> None:
        self.analytics.close()
        self.classic.close()
