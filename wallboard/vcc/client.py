"""HTTP client for one tenant's 8x8 Real Time Statistics and Tenant Schedule APIs.

One VccClient per tenant: one requests.Session (kept-alive connections), at most one request
in flight per tenant (8x8 answers 503 to a second one), timeouts well under the 10 s poll
cycle, a cap on the body size, https only, public addresses only (loopback aside, for the
simulator). Every failure is a typed VccError whose words are ours: a library's exception
text can quote the request, credentials and all, so it never leaves this module. Nothing here
retries, because the next poll cycle is the retry.

Queue statistics can also come through the newer statistics gateway
(`{base}/cc/v1/stats/rt/queue/{id}`, headers `X-8x8-Tenant` and `x-api-key`, JSON only). Only
that queue-by-id form is known (../shared/api/NOTES.md), so on the gateway a queue list is one
request per queue the caller names, and agents and schedules still use the classic APIs with
the Data Request Token (docs/admin.md, "Statistics gateway").
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from . import parse
from .errors import (
    NotFoundError,
    TimedOutError,
    UnauthorisedError,
    UnsafeError,
    VccError,
)
from .http import (
    UNSAFE_WHY,
    SessionClient,
    fit_timeouts,
    get_body,
    ip_literal,
    limits_from_settings,
    new_session,
    one_in_flight,
    tenant_lock,
    unsafe_address,
)
from .records import Agent, Queue, Schedule, ScheduleNextStatus, ScheduleStatus

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
FORMATS = ("json", "xml")
STATS_PATH = "/api/rtstats/stats"
SCHEDULES_PATH = "/api/provisioning"
GATEWAY_PATH = "/cc/v1/stats/rt"
APIS = ("classic", "gateway")
TENANT_HEADER = "X-8x8-Tenant"
API_KEY_HEADER = "x-api-key"

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# Base URLs.


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts allowed over plain http."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(url: str) -> str:
    """The platform root (https://vcc-na4.8x8.com) for what an administrator typed.

    Accepts the root or any API's base (…/api/rtstats/stats, …/api/provisioning,
    …/cc/v1/stats/rt) and returns the root without a trailing slash. Raises ValueError for
    something that is not a usable URL and UnsafeError for plain http to anything but a
    loopback host: the token travels in every request, in a header readable by anyone on the path.
    """
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("the base URL must look like https://vcc-na4.8x8.com")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the base URL must not contain credentials; use the tenant and token fields")
    if parts.query or parts.fragment:
        raise ValueError("the base URL must not have a query string or fragment")
    if parts.scheme == "http" and not is_loopback(host):
        raise UnsafeError(f"plain http to {host}: the 8x8 APIs must be reached over https")
    literal = ip_literal(host)
    if literal is not None and unsafe_address(literal):
        raise UnsafeError(f"{host} is a private, link-local or reserved address; {UNSAFE_WHY}")
    path = parts.path.rstrip("/")
    for suffix in (STATS_PATH, SCHEDULES_PATH, GATEWAY_PATH):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
    return urlunsplit((parts.scheme, parts.netloc.lower(), path.rstrip("/"), "", ""))


# ---------------------------------------------------------------------------------------------
# Credentials: what HTTP basic auth can carry to 8x8.

CREDENTIAL_RULE = (
    "printable ASCII only (letters, digits, punctuation and spaces; no accented letters, other "
    "scripts, emoji, tabs or line breaks), because 8x8 takes them as HTTP basic auth, which "
    "cannot carry anything else reliably"
)
HEADER_RULE = CREDENTIAL_RULE.replace("as HTTP basic auth", "in HTTP headers (the statistics gateway)")


def tenant_name_problem(value: str) -> str | None:
    """Why 8x8 could not accept this tenant name as the basic auth user, or None."""
    if not _printable_ascii(value):
        return f"the tenant name must be {CREDENTIAL_RULE}"
    if ":" in value:
        return "the tenant name must not contain ':', which separates the user from the password in basic auth"
    return None


def token_problem(value: str) -> str | None:
    """Why 8x8 could not accept this token as the basic auth password, or None."""
    if not _printable_ascii(value):
        return f"the token must be {CREDENTIAL_RULE}"
    return None


def api_key_problem(value: str) -> str | None:
    """Why the statistics gateway could not accept this API key in its header, or None.

    Printable ASCII like the token, and no space at either end: an HTTP header value loses
    those on the way, so the key that arrived would not be the key that was typed.
    """
    if not _printable_ascii(value):
        return f"the API key must be {HEADER_RULE}"
    if value != value.strip(" "):
        return "the API key must not start or end with a space, which an HTTP header cannot keep"
    return None


def _printable_ascii(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


def check_credentials(session: requests.Session) -> None:
    """Refuse credentials 8x8 cannot accept before requests tries (and fails) to encode them.

    Basic auth (the classic APIs) and the gateway's two headers alike. The message names the
    rule, never the value: the value is the secret.
    """
    auth = session.auth
    if isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(part, str) for part in auth):
        if tenant_name_problem(auth[0]) or token_problem(auth[1]):
            raise UnauthorisedError(f"the tenant name or token contains characters 8x8 cannot accept ({CREDENTIAL_RULE})")
    key = session.headers.get(API_KEY_HEADER)
    if key is not None:
        tenant = session.headers.get(TENANT_HEADER)
        problem = tenant_name_problem(str(tenant)) or api_key_problem(str(key))
        if problem:
            raise UnauthorisedError(problem)


# ---------------------------------------------------------------------------------------------
# The statistics APIs' GET.


def http_get(
    session: requests.Session,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    what: str = "the resource",
    credentials: str = "tenant name and token",
) -> bytes:
    """GET url and return the body, or raise the VccError that says why not.

    The read timeout bounds each wait for bytes; the body as a whole must also arrive within
    connect + read timeout, so a server trickling bytes cannot hold a poll cycle. Redirects
    are not followed: the APIs never redirect, and a login page must not receive the token.
    `credentials` names what a 401/403 refused ("tenant name and API key" on the gateway).
    """
    check_credentials(session)
    return get_body(
        session, url, params=params, connect_timeout=connect_timeout, read_timeout=read_timeout,
        max_bytes=max_bytes, what=what, credentials=credentials,
    )


# ---------------------------------------------------------------------------------------------
# The client.


QueueIds = Iterable[str] | Callable[[], Iterable[str]]


class VccClient(SessionClient):
    """One tenant's connection to its 8x8 platform; safe to share between threads.

    With api="gateway" queues come through the statistics gateway with the API key, one
    request per queue named by `queue_ids` (ids, or a callable that returns them when asked);
    agents and schedules still go through the classic APIs with the token, because the gateway
    is known to serve nothing else. The token may then be omitted, and those calls refuse.
    """

    def __init__(
        self,
        base_url: str,
        tenant: str,
        token: str | None,
        *,
        fmt: str = "json",
        api: str = "classic",
        api_key: str | None = None,
        queue_ids: QueueIds | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        if api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}")
        if not tenant or (api == "classic" and not token):
            raise ValueError("a tenant name and a token are required")
        if api == "gateway" and not api_key:
            raise ValueError("the statistics gateway needs an API key")
        self.base_url = validate_base_url(base_url)
        self.tenant = tenant
        self._token = token or ""
        self.fmt = fmt
        self.api = api
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self._queue_ids = queue_ids
        self._lock = tenant_lock((self.base_url, tenant.lower()))
        self.session = new_session(
            accept="application/json" if fmt == "json" else "application/xml", auth=(tenant, token) if token else None
        )
        # A session of its own: the API key must not travel to the classic APIs, nor the token
        # to the gateway.
        self._gateway = _gateway_session(tenant, api_key) if api == "gateway" and api_key else None

    @classmethod
    def from_settings(
        cls, base_url: str, tenant: str, token: str | None, *, fmt: str = "json", **kwargs: Any
    ) -> VccClient:
        """A client with the timeouts and size cap from Django settings (api, api_key, queue_ids pass through)."""
        return cls(base_url, tenant, token, fmt=fmt, **limits_from_settings(), **kwargs)

    def __repr__(self) -> str:
        return f"<VccClient {self.tenant}@{self.base_url} {self.fmt} {self.api}>"

    def _sessions(self) -> list[requests.Session | None]:
        return [self.session, self._gateway]

    # Real Time Statistics -------------------------------------------------------------------

    def agents(self) -> list[Agent]:
        return self._fetch(self._stats("agents"), parse.parse_agents, "the agent list")

    def agent(self, agent_id: str) -> Agent:
        found = self._fetch(self._stats("agent", agent_id), parse.parse_agents, f"agent {agent_id!r}")
        return self._one(found, "agent_id", agent_id, "agent")

    def queues(self) -> list[Queue]:
        if self._gateway is not None:
            return self._gateway_queues()
        return self._fetch(self._stats("queues"), parse.parse_queues, "the queue list")

    def queue(self, queue_id: str) -> Queue:
        if self._gateway is not None:
            return self._gateway_queue(queue_id, budget=None)
        found = self._fetch(self._stats("queue", queue_id), parse.parse_queues, f"queue {queue_id!r}")
        return self._one(found, "queue_id", queue_id, "queue")

    # Tenant Schedules -----------------------------------------------------------------------

    def schedules(self) -> list[Schedule]:
        return self._fetch(self._provisioning("schedules"), parse.parse_schedules, "the schedule list")

    def schedule(self, schedule_id: str) -> Schedule:
        url = self._provisioning("schedules", schedule_id)
        return self._fetch(url, parse.parse_schedule, f"schedule {schedule_id!r}")

    def schedule_by_name(self, name: str) -> Schedule:
        url = self._provisioning("schedulesbyname", name)
        found = self._fetch(url, parse.parse_schedules, f"schedule named {name!r}")
        return self._one(found, "name", name, "schedule named")

    def schedule_status(
        self, schedule_id: str, utctime_ms: int | None = None, offset_s: int | None = None
    ) -> ScheduleStatus:
        url = self._provisioning("schedules", schedule_id, "status")
        params = _when(utctime_ms, offset_s)
        return self._fetch(url, parse.parse_schedule_status, f"schedule {schedule_id!r}", params)

    def schedule_next(
        self, schedule_id: str, utctime_ms: int | None = None, offset_s: int | None = None
    ) -> ScheduleNextStatus:
        url = self._provisioning("schedules", schedule_id, "nextstatus")
        params = _when(utctime_ms, offset_s)
        return self._fetch(url, parse.parse_schedule_next_status, f"schedule {schedule_id!r}", params)

    # The statistics gateway -----------------------------------------------------------------

    def _gateway_queues(self) -> list[Queue]:
        """Every wanted queue, one gateway request each, within the time of one classic call.

        The budget keeps a cycle of many queues as short as a classic cycle (the poller's lock
        is sized for that). A queue the gateway does not know is left out, as a classic list
        leaves out a deleted queue; when it knows none of them, the likelier fault is the
        gateway itself (not on this platform host), and that is reported.
        """
        ids = self._wanted_queue_ids()
        budget = self.connect_timeout + self.read_timeout
        deadline = time.monotonic() + budget
        found: list[Queue] = []
        missing: NotFoundError | None = None
        for queue_id in ids:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimedOutError(
                    f"the statistics gateway answered {len(found)} of {len(ids)} queues within {budget:g} s",
                    url=self._gateway_url(queue_id),
                )
            try:
                found.append(self._gateway_queue(queue_id, budget=left))
            except NotFoundError as exc:
                missing = exc
        if missing is not None and not found:
            if len(ids) == 1:
                raise missing
            raise NotFoundError(
                f"none of the {len(ids)} queues was found through the statistics gateway (HTTP 404); "
                "check the platform URL, or use the classic API",
                status=missing.status,
                url=missing.url,
            )
        return found

    def _wanted_queue_ids(self) -> list[str]:
        """The queue ids a gateway queue list reads, in order, each once."""
        source = self._queue_ids
        if source is None:
            raise ValueError("the statistics gateway has no queue list: name the queues to read")
        ids = source() if callable(source) else source
        return list(dict.fromkeys(str(queue_id) for queue_id in ids if str(queue_id).strip()))

    def _gateway_queue(self, queue_id: str, *, budget: float | None) -> Queue:
        url = self._gateway_url(queue_id)
        found = self._fetch(url, parse.parse_queues, f"queue {queue_id!r}", gateway=True, budget=budget)
        return self._one(found, "queue_id", queue_id, "queue")

    def _gateway_url(self, queue_id: str) -> str:
        """{base}/cc/v1/stats/rt/queue/{id}: no format suffix, the gateway answers JSON only."""
        if not str(queue_id).strip():
            raise ValueError("an id or name must not be empty")
        return f"{self.base_url}{GATEWAY_PATH}/queue/{quote(str(queue_id), safe='')}"

    # Plumbing -------------------------------------------------------------------------------

    def _stats(self, *parts: str) -> str:
        return self._url(STATS_PATH, parts)

    def _provisioning(self, *parts: str) -> str:
        return self._url(SCHEDULES_PATH, parts)

    def _url(self, api: str, parts: tuple[str, ...]) -> str:
        """Path segments quoted (spaces as %20, slashes kept inside the segment) plus .json.

        XML is the documented default, so XML requests carry no suffix at all.
        """
        if any(not str(part).strip() for part in parts):
            raise ValueError("an id or name must not be empty")
        path = "/".join(quote(str(part), safe="") for part in parts)
        suffix = ".json" if self.fmt == "json" else ""
        return f"{self.base_url}{api}/{path}{suffix}"

    def _fetch(
        self,
        url: str,
        parser: Callable[[bytes], T],
        what: str,
        params: dict[str, Any] | None = None,
        *,
        gateway: bool = False,
        budget: float | None = None,
    ) -> T:
        """One request under the tenant lock, then the parse (outside it: parsing is ours).

        `budget` (what is left of a gateway queue list's time) shrinks both timeouts alike, so
        that this request, body included, ends within it.
        """
        session = self._gateway if gateway else self.session
        if session is None or (not gateway and session.auth is None):
            raise UnauthorisedError(
                f"no data request token for this tenant: {what} is not served by the statistics gateway", url=url
            )
        connect_timeout, read_timeout = fit_timeouts(self.connect_timeout, self.read_timeout, budget)
        with one_in_flight(self._lock, connect_timeout + read_timeout, url):
            body = http_get(
                session,
                url,
                params=params,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_bytes=self.max_bytes,
                what=what,
                credentials="tenant name and API key" if gateway else "tenant name and token",
            )
        try:
            return parser(body)
        except VccError as exc:
            exc.url = url
            raise

    @staticmethod
    def _one(found: list[T], attr: str, wanted: str, what: str) -> T:
        """The record that matches, else the only one; none at all is 'not found'."""
        for record in found:
            if getattr(record, attr) == wanted:
                return record
        if found:
            return found[0]
        raise NotFoundError(f"{what} {wanted!r} is not in the answer")


def _gateway_session(tenant: str, api_key: str) -> requests.Session:
    """A session that sends the gateway's two credential headers and asks for JSON."""
    return new_session(accept="application/json", headers={TENANT_HEADER: tenant, API_KEY_HEADER: api_key})


def _when(utctime_ms: int | None, offset_s: int | None) -> dict[str, int]:
    params = {}
    if utctime_ms is not None:
        params["utctime"] = int(utctime_ms)
    if offset_s is not None:
        params["offset"] = int(offset_s)
    return params
