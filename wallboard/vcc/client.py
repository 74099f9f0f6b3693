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
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from . import parse
from .errors import (
    BadRequestError,
    BusyError,
    MalformedError,
    NotFoundError,
    ServerError,
    TimedOutError,
    TooLargeError,
    UnauthorisedError,
    UnreachableError,
    UnsafeError,
    VccError,
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
USER_AGENT = "Wallboard (+8x8 real time statistics)"
_CHUNK = 256 * 1024

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
    literal = _ip_literal(host)
    if literal is not None and unsafe_address(literal):
        raise UnsafeError(f"{host} is a private, link-local or reserved address; {_UNSAFE_WHY}")
    path = parts.path.rstrip("/")
    for suffix in (STATS_PATH, SCHEDULES_PATH, GATEWAY_PATH):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
    return urlunsplit((parts.scheme, parts.netloc.lower(), path.rstrip("/"), "", ""))


# ---------------------------------------------------------------------------------------------
# Addresses the poller may reach: public ones, and loopback for the simulator and tests.

_UNSAFE_WHY = "only the 8x8 platform may be reached, never an internal or cloud metadata address"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host written as a number stands for, including shorthands (10.1, 0xa9fea9fe).

    The shorthands matter because the resolver accepts them too: https://2852039166 is
    169.254.169.254 to the socket that connects.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def unsafe_address(address: IPAddress) -> bool:
    """True for anything but a public address or loopback (private, link-local, multicast, ...).

    IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by that
    address too, so ::ffff:10.0.0.1 is as private as 10.0.0.1.
    """
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.ipv4_mapped is not None:
            candidates = []  # judged by the IPv4 address alone: ::ffff:127.0.0.1 is loopback
        candidates += [a for a in embedded if a is not None]
    return any(_unsafe_one(candidate) for candidate in candidates)


def _unsafe_one(address: IPAddress) -> bool:
    if address.is_loopback:
        return False
    return (
        not address.is_global
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _check_host(host: str, port: int) -> None:
    """Refuse a host name that resolves to an unsafe address, before anything is sent to it.

    Done at every request, not only when the URL is saved, because what a name resolves to
    can change afterwards. A name that does not resolve is left to the request, which will
    say so in its own words (or reach it through a proxy, which resolves it itself).
    """
    try:
        found = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return
    for *_, sockaddr in found:
        address = _ip_literal(str(sockaddr[0]).split("%")[0])
        if address is not None and unsafe_address(address):
            raise UnsafeError(f"{host} resolves to {address}, a private, link-local or reserved address; {_UNSAFE_WHY}")


class _CheckedPeer(urllib3.connection.HTTPConnection):
    """Refuses a connection whose peer is an unsafe address, before a byte is sent on it.

    _check_host looks the name up, then urllib3 looks it up again to connect: a name whose
    answers alternate (DNS rebinding) could pass the first and reach 10.x with the second.
    Checking the socket that actually connected closes that gap. Through a proxy the peer is
    the proxy, which may well be on a private network, so that case is left alone.
    """

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if getattr(self, "proxy", None) is None:
            peer = _ip_literal(str(sock.getpeername()[0]).split("%")[0])
            if peer is None or unsafe_address(peer):
                sock.close()
                host = getattr(self, "host", "?")
                raise UnsafeError(f"{host} connected to {peer}, a private, link-local or reserved address; {_UNSAFE_WHY}")
        return sock


class _CheckedHTTPConnection(_CheckedPeer, urllib3.connection.HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedPeer, urllib3.connection.HTTPSConnection):
    pass


class _CheckedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class SafeAdapter(HTTPAdapter):
    """A requests transport whose connections refuse unsafe peers (see _CheckedPeer)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def safe_session() -> requests.Session:
    """A session that only ever connects to public or loopback addresses."""
    session = requests.Session()
    adapter = SafeAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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


def _check_credentials(session: requests.Session) -> None:
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
# One lock per tenant, shared by every client of that tenant in this process.

_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _tenant_lock(base_url: str, tenant: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault((base_url, tenant.lower()), threading.Lock())


# ---------------------------------------------------------------------------------------------
# The one outgoing HTTP call.

_STATUS_ERRORS: dict[int, tuple[type[VccError], str]] = {
    400: (BadRequestError, "the platform rejected the request (HTTP 400)"),
    401: (UnauthorisedError, "the platform refused this {credentials} (HTTP 401)"),
    403: (UnauthorisedError, "the platform refused this {credentials} (HTTP 403)"),
    404: (NotFoundError, "{what} does not exist on this platform (HTTP 404)"),
    429: (BusyError, "the platform asks to slow down (HTTP 429)"),
    503: (BusyError, "the platform is overloaded or already serving a request for this tenant (HTTP 503)"),
}


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
    parts = urlsplit(url)
    host = parts.hostname or "?"
    _check_credentials(session)
    _check_host(host, _port(parts))
    try:
        response = session.get(
            url,
            params=params,
            timeout=(connect_timeout, read_timeout),
            stream=True,
            allow_redirects=False,
        )
    except requests.exceptions.ConnectTimeout:
        raise TimedOutError(f"could not connect to {host} within {connect_timeout:g} s", url=url) from None
    except requests.exceptions.ReadTimeout:
        raise TimedOutError(f"{host} did not answer within {read_timeout:g} s", url=url) from None
    except requests.exceptions.SSLError:
        raise UnsafeError(f"the TLS certificate of {host} could not be verified", url=url) from None
    except requests.exceptions.RequestException as exc:
        raise UnreachableError(f"cannot connect to {host} ({_reason(exc)})", url=url) from None
    except VccError as exc:  # the connection's own refusal (_CheckedPeer)
        exc.url = url
        raise
    except Exception as exc:
        # Anything else (an encoding error, a library's bug) may quote the request, headers
        # and all: only its class name leaves this function.
        raise UnreachableError(f"the request to {host} could not be made ({type(exc).__name__})", url=url) from None
    with response:
        _raise_for_status(response, url, what, credentials)
        deadline = time.monotonic() + connect_timeout + read_timeout
        return _read_capped(response, url, host, max_bytes, deadline, read_timeout)


def _raise_for_status(response: requests.Response, url: str, what: str, credentials: str) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in _STATUS_ERRORS:
        cls, text = _STATUS_ERRORS[status]
        raise cls(text.format(what=what, credentials=credentials), status=status, url=url)
    if 300 <= status < 400:
        where = response.headers.get("Location", "elsewhere")
        raise BadRequestError(
            f"the platform redirected to {where[:100]} (HTTP {status}); check the base URL", status=status, url=url
        )
    if status >= 500:
        raise ServerError(f"the platform failed to answer (HTTP {status})", status=status, url=url)
    raise BadRequestError(f"unexpected answer HTTP {status}", status=status, url=url)


def _read_capped(
    response: requests.Response, url: str, host: str, max_bytes: int, deadline: float, read_timeout: float
) -> bytes:
    """The decoded body, read in chunks and abandoned as soon as it passes max_bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"{host} announced {int(declared)} bytes, more than the limit of {max_bytes}", url=url)
    chunks = []
    size = 0
    try:
        for chunk in _chunks(response):
            size += len(chunk)
            if size > max_bytes:
                raise TooLargeError(f"{host} sent more than the limit of {max_bytes} bytes", url=url)
            if time.monotonic() > deadline:
                raise TimedOutError(f"{host} did not finish its answer in time", url=url)
            chunks.append(chunk)
    except requests.exceptions.ConnectionError as exc:
        if "timed out" in str(exc).lower():
            raise TimedOutError(f"{host} stopped sending for more than {read_timeout:g} s", url=url) from None
        raise UnreachableError(f"the connection to {host} broke ({_reason(exc)})", url=url) from None
    except requests.exceptions.RequestException as exc:
        raise MalformedError(f"the answer from {host} could not be read ({_reason(exc)})", url=url) from None
    except VccError:
        raise
    except Exception as exc:  # as in http_get: the class name only, never the text
        raise MalformedError(f"the answer from {host} could not be read ({type(exc).__name__})", url=url) from None
    return b"".join(chunks)


def _chunks(response: requests.Response) -> Iterator[bytes]:
    # decode_content: the cap counts decompressed bytes, so a gzip bomb stops at the cap too.
    return response.iter_content(_CHUNK)


def _port(parts: SplitResult) -> int:
    """The port a URL connects to (a bad one is left for requests to report)."""
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return 443


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in words built here: never the text of a library's exception.

    Those texts quote hosts, URLs and proxy settings (a proxy URL may hold a password), so
    only the operating system's fixed error strings and class names are used.
    """
    chain = [exc]
    while len(chain) < 20:
        cause = chain[-1].__cause__ or (None if chain[-1].__suppress_context__ else chain[-1].__context__)
        if cause is None:
            break
        chain.append(cause)
    innermost = chain[-1]
    for cause in reversed(chain):
        if isinstance(cause, socket.gaierror):
            return "the host name could not be resolved"
        if isinstance(cause, OSError) and isinstance(cause.errno, int) and cause.errno > 0:
            return os.strerror(cause.errno)
    return type(innermost).__name__


# ---------------------------------------------------------------------------------------------
# The client.


QueueIds = Iterable[str] | Callable[[], Iterable[str]]


class VccClient:
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
        self._lock = _tenant_lock(self.base_url, tenant)
        self.session = safe_session()
        if token:
            self.session.auth = (tenant, token)
        self.session.headers["Accept"] = "application/json" if fmt == "json" else "application/xml"
        self.session.headers["User-Agent"] = USER_AGENT
        # A session of its own: the API key must not travel to the classic APIs, nor the token
        # to the gateway.
        self._gateway = _gateway_session(tenant, api_key) if api == "gateway" and api_key else None

    @classmethod
    def from_settings(
        cls, base_url: str, tenant: str, token: str | None, *, fmt: str = "json", **kwargs: Any
    ) -> VccClient:
        """A client with the timeouts and size cap from Django settings (api, api_key, queue_ids pass through)."""
        # Here only: the client is a plain library (benchmarks and the simulator's tests use it
        # without settings); this constructor alone is the Django-configured way in.
        from django.conf import settings

        return cls(
            base_url,
            tenant,
            token,
            fmt=fmt,
            connect_timeout=settings.VCC_CONNECT_TIMEOUT,
            read_timeout=settings.VCC_READ_TIMEOUT,
            max_bytes=settings.VCC_MAX_BODY_BYTES,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"<VccClient {self.tenant}@{self.base_url} {self.fmt} {self.api}>"

    def close(self) -> None:
        self.session.close()
        if self._gateway is not None:
            self._gateway.close()

    def __enter__(self) -> VccClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        connect_timeout, read_timeout = self.connect_timeout, self.read_timeout
        if budget is not None and budget < connect_timeout + read_timeout:
            share = budget / (connect_timeout + read_timeout)
            connect_timeout, read_timeout = connect_timeout * share, read_timeout * share
        if not self._lock.acquire(timeout=connect_timeout + read_timeout):
            raise BusyError("another request for this tenant is still in flight", url=url)
        try:
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
        finally:
            self._lock.release()
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
    session = safe_session()
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = USER_AGENT
    session.headers[TENANT_HEADER] = tenant
    session.headers[API_KEY_HEADER] = api_key
    return session


def _when(utctime_ms: int | None, offset_s: int | None) -> dict[str, int]:
    params = {}
    if utctime_ms is not None:
        params["utctime"] = int(utctime_ms)
    if offset_s is not None:
        params["offset"] = int(offset_s)
    return params
