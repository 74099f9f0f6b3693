"""HTTP client for one tenant's 8x8 Real Time Statistics and Tenant Schedule APIs.

One VccClient per tenant: one requests.Session (kept-alive connections), at most one request
in flight per tenant (8x8 answers 503 to a second one), timeouts well under the 10 s poll
cycle, a cap on the body size, https only, public addresses only (loopback aside, for the
simulator). Every failure is a typed VccError whose words are ours: a library's exception
text can quote the request, credentials and all, so it never leaves this module. Nothing here
retries, because the next poll cycle is the retry.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
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

    Accepts the root or either API's base (…/api/rtstats/stats, …/api/provisioning) and
    returns the root without a trailing slash. Raises ValueError for something that is not a
    usable URL and UnsafeError for plain http to anything but a loopback host: the token
    travels in every request, in a header readable by anyone on the path.
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
    for suffix in (STATS_PATH, SCHEDULES_PATH):
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


class _CheckedPeer:
    """Refuses a connection whose peer is an unsafe address, before a byte is sent on it.

    _check_host looks the name up, then urllib3 looks it up again to connect: a name whose
    answers alternate (DNS rebinding) could pass the first and reach 10.x with the second.
    Checking the socket that actually connected closes that gap. Through a proxy the peer is
    the proxy, which may well be on a private network, so that case is left alone.
    """

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
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


def _printable_ascii(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


def _check_credentials(auth: object) -> None:
    """Refuse credentials 8x8 cannot accept before requests tries (and fails) to encode them.

    The message names the rule, never the value: the value is the secret.
    """
    if not isinstance(auth, tuple) or len(auth) != 2:
        return
    user, password = auth
    if not isinstance(user, str) or not isinstance(password, str):
        return
    if tenant_name_problem(user) or token_problem(password):
        raise UnauthorisedError(f"the tenant name or token contains characters 8x8 cannot accept ({CREDENTIAL_RULE})")


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
    401: (UnauthorisedError, "the platform refused this tenant name and token (HTTP 401)"),
    403: (UnauthorisedError, "the platform refused this tenant name and token (HTTP 403)"),
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
) -> bytes:
    """GET url and return the body, or raise the VccError that says why not.

    The read timeout bounds each wait for bytes; the body as a whole must also arrive within
    connect + read timeout, so a server trickling bytes cannot hold a poll cycle. Redirects
    are not followed: the APIs never redirect, and a login page must not receive the token.
    """
    parts = urlsplit(url)
    host = parts.hostname or "?"
    _check_credentials(session.auth)
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
        _raise_for_status(response, url, what)
        deadline = time.monotonic() + connect_timeout + read_timeout
        return _read_capped(response, url, host, max_bytes, deadline, read_timeout)


def _raise_for_status(response: requests.Response, url: str, what: str) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in _STATUS_ERRORS:
        cls, text = _STATUS_ERRORS[status]
        raise cls(text.format(what=what), status=status, url=url)
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


class VccClient:
    """One tenant's connection to its 8x8 platform; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        tenant: str,
        token: str,
        *,
        fmt: str = "json",
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        if not tenant or not token:
            raise ValueError("a tenant name and a token are required")
        self.base_url = validate_base_url(base_url)
        self.tenant = tenant
        self._token = token
        self.fmt = fmt
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self._lock = _tenant_lock(self.base_url, tenant)
        self.session = safe_session()
        self.session.auth = (tenant, token)
        self.session.headers["Accept"] = "application/json" if fmt == "json" else "application/xml"
        self.session.headers["User-Agent"] = "Wallboard (+8x8 real time statistics)"

    @classmethod
    def from_settings(cls, base_url: str, tenant: str, token: str, *, fmt: str = "json") -> VccClient:
        """A client with the timeouts and size cap from Django settings."""
        from django.conf import settings

        return cls(
            base_url,
            tenant,
            token,
            fmt=fmt,
            connect_timeout=settings.VCC_CONNECT_TIMEOUT,
            read_timeout=settings.VCC_READ_TIMEOUT,
            max_bytes=settings.VCC_MAX_BODY_BYTES,
        )

    def __repr__(self) -> str:
        return f"<VccClient {self.tenant}@{self.base_url} {self.fmt}>"

    def close(self) -> None:
        self.session.close()

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
        return self._fetch(self._stats("queues"), parse.parse_queues, "the queue list")

    def queue(self, queue_id: str) -> Queue:
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

    def _fetch(self, url: str, parser: Callable[[bytes], T], what: str, params: dict[str, Any] | None = None) -> T:
        """One request under the tenant lock, then the parse (outside it: parsing is ours)."""
        budget = self.connect_timeout + self.read_timeout
        if not self._lock.acquire(timeout=budget):
            raise BusyError("another request for this tenant is still in flight", url=url)
        try:
            body = http_get(
                self.session,
                url,
                params=params,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                max_bytes=self.max_bytes,
                what=what,
            )
        finally:
            self._lock.release()
        try:
            return parser(body)
        except VccError as exc:
            exc.url = url
            raise

    @staticmethod
    def _one(found: list[Any], attr: str, wanted: str, what: str) -> Any:
        """The record that matches, else the only one; none at all is 'not found'."""
        for record in found:
            if getattr(record, attr) == wanted:
                return record
        if found:
            return found[0]
        raise NotFoundError(f"{what} {wanted!r} is not in the answer")


def _when(utctime_ms: int | None, offset_s: int | None) -> dict[str, int]:
    params = {}
    if utctime_ms is not None:
        params["utctime"] = int(utctime_ms)
    if offset_s is not None:
        params["offset"] = int(offset_s)
    return params
