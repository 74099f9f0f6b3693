"""The one way out to 8x8 (and ContactNow): safe sessions, one request, typed errors.

Every vcc client sends through `send()` and reads through `read_capped()` (or, for a download
to a file, streams the response `send()` returned). So the rules are written once: https or
loopback only, public peers only (checked at resolve and at connect), no redirects, a
connect and a read timeout, a cap on the body and a deadline for all of it, every failure a
VccError in our words (a library's exception text can quote the request, credentials and
all, so it never leaves this module), and at most one request in flight per tenant where the
API wants that (`tenant_lock`, `one_in_flight`). What differs per API (which statuses mean
what, retries never made, tokens to scrub) stays in its module.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self, TypedDict
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

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

USER_AGENT = "Wallboard (+8x8 real time statistics)"
_CHUNK = 256 * 1024

# ---------------------------------------------------------------------------------------------
# Addresses the poller may reach: public ones, and loopback for the simulator and tests.

UNSAFE_WHY = "only the 8x8 platform may be reached, never an internal or cloud metadata address"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def ip_literal(host: str) -> IPAddress | None:
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


def check_host(host: str, port: int) -> None:
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
        address = ip_literal(str(sockaddr[0]).split("%")[0])
        if address is not None and unsafe_address(address):
            raise UnsafeError(f"{host} resolves to {address}, a private, link-local or reserved address; {UNSAFE_WHY}")


class _CheckedPeer(urllib3.connection.HTTPConnection):
    """Refuses a connection whose peer is an unsafe address, before a byte is sent on it.

    check_host looks the name up, then urllib3 looks it up again to connect: a name whose
    answers alternate (DNS rebinding) could pass the first and reach 10.x with the second.
    Checking the socket that actually connected closes that gap. Through a proxy the peer is
    the proxy, which may well be on a private network, so that case is left alone.
    """

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if getattr(self, "proxy", None) is None:
            peer = ip_literal(str(sock.getpeername()[0]).split("%")[0])
            if peer is None or unsafe_address(peer):
                sock.close()
                host = getattr(self, "host", "?")
                raise UnsafeError(f"{host} connected to {peer}, a private, link-local or reserved address; {UNSAFE_WHY}")
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
    """A session that only ever connects to public or loopback addresses.

    It does not read the environment at each request (trust_env): send() passes the proxy and
    CA bundle the environment names, read once per host (environment_settings). requests'
    lookup cost about 8 % of a poll's CPU (docs/performance.md, "Many tenants"); ~/.netrc is
    no longer consulted (nothing here sends credentials from it).
    """
    session = requests.Session()
    session.trust_env = False
    adapter = SafeAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def new_session(
    *,
    user_agent: str = USER_AGENT,
    accept: str | None = None,
    auth: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> requests.Session:
    """A safe_session with the headers every client sets: User-Agent, Accept, basic auth."""
    session = safe_session()
    session.headers["User-Agent"] = user_agent
    if accept is not None:
        session.headers["Accept"] = accept
    if headers:
        session.headers.update(headers)
    if auth is not None:
        session.auth = auth
    return session


class ClientLimits(TypedDict):
    """A client's timeouts and body cap, as its constructor takes them."""

    connect_timeout: float
    read_timeout: float
    max_bytes: int


def limits_from_settings() -> ClientLimits:
    """The timeouts and body cap from Django settings, for every client's from_settings()."""
    # Here only: the clients are a plain library (benchmarks and the simulator's tests use them
    # without settings); from_settings alone is the Django-configured way in.
    from django.conf import settings

    return {
        "connect_timeout": settings.VCC_CONNECT_TIMEOUT,
        "read_timeout": settings.VCC_READ_TIMEOUT,
        "max_bytes": settings.VCC_MAX_BODY_BYTES,
    }


class SessionClient:
    """close() and `with` for a client: closes every session `_sessions()` names."""

    def _sessions(self) -> list[requests.Session | None]:
        return [getattr(self, "session", None)]

    def close(self) -> None:
        for session in self._sessions():
            if session is not None:
                session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# One request in flight per tenant, shared by every client of that tenant in this process.

_locks: dict[Hashable, threading.Lock] = {}
_locks_guard = threading.Lock()


def tenant_lock(key: Hashable) -> threading.Lock:
    """The process-wide lock of one tenant (the key says what a tenant is for that API)."""
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


@contextmanager
def one_in_flight(lock: threading.Lock, timeout: float, url: str) -> Iterator[None]:
    """Hold the tenant's lock for one request; BusyError when another one does not end in time."""
    if not lock.acquire(timeout=timeout):
        raise BusyError("another request for this tenant is still in flight", url=url)
    try:
        yield
    finally:
        lock.release()


def fit_timeouts(connect_timeout: float, read_timeout: float, budget: float | None, *, floor: float = 0.0) -> tuple[float, float]:
    """Both timeouts shrunk alike so that a request, body included, ends within budget."""
    if budget is None or budget >= connect_timeout + read_timeout:
        return connect_timeout, read_timeout
    share = max(budget, floor) / (connect_timeout + read_timeout)
    return connect_timeout * share, read_timeout * share


# ---------------------------------------------------------------------------------------------
# The one outgoing HTTP call.


@functools.lru_cache(maxsize=4096)
def environment_settings(scheme: str, netloc: str) -> dict[str, Any]:
    """What requests would take from the environment for this host: HTTPS_PROXY and the like
    (NO_PROXY included), REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.

    Read once per host and process, as the environment of a running process does not change:
    requests looked it up at every request.
    """
    probe = requests.Session()  # trust_env on: requests' own reading, nothing of ours
    found = probe.merge_environment_settings(f"{scheme}://{netloc}/", {}, None, None, None)
    probe.close()
    settings: dict[str, Any] = {}
    if found.get("proxies"):
        settings["proxies"] = found["proxies"]
    if found.get("verify") not in (None, True):
        settings["verify"] = found["verify"]
    return settings

Translate = Callable[[Exception, str, str], VccError | None]


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
    connect_timeout: float,
    read_timeout: float,
    translate: Translate | None = None,
) -> requests.Response:
    """Send one request to a safe host and return the streamed response, headers read.

    The response must be closed by the caller (`with send(...) as response:`). Errors carry
    the URL without its query (a token may travel there). `translate(exc, host, url)` lets a
    module word a failure its own way (a write whose answer was lost); None falls back here.
    """
    parts = urlsplit(url)
    host = parts.hostname or "?"
    shown = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    check_host(host, port_of(parts))
    try:
        return session.request(
            method, url, params=params, data=data, headers=headers,
            timeout=(connect_timeout, read_timeout), stream=True, allow_redirects=False,
            **environment_settings(parts.scheme, parts.netloc),
        )
    except VccError as exc:  # the connection's own refusal of an unsafe peer (_CheckedPeer)
        exc.url = shown
        raise
    except Exception as exc:
        raise (translate and translate(exc, host, shown)) or request_failure(
            exc, host, shown, connect_timeout, read_timeout
        ) from None


def request_failure(exc: Exception, host: str, url: str, connect_timeout: float, read_timeout: float) -> VccError:
    """The VccError for a request that got no answer, in our words (never the library's text)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TimedOutError(f"could not connect to {host} within {connect_timeout:g} s", url=url)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return TimedOutError(f"{host} did not answer within {read_timeout:g} s", url=url)
    if isinstance(exc, requests.exceptions.SSLError):
        return UnsafeError(f"the TLS certificate of {host} could not be verified", url=url)
    if isinstance(exc, requests.exceptions.RequestException):
        return UnreachableError(f"cannot connect to {host} ({reason(exc)})", url=url)
    # Anything else (an encoding error, a library's bug) may quote the request, headers and
    # all: only its class name leaves this module.
    return UnreachableError(f"the request to {host} could not be made ({type(exc).__name__})", url=url)


def get_body(
    session: requests.Session,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    what: str,
    credentials: str,
) -> bytes:
    """GET url and return the body (200 only), or raise the VccError that says why not."""
    host = urlsplit(url).hostname or "?"
    with send(
        session, "GET", url, params=params, connect_timeout=connect_timeout, read_timeout=read_timeout
    ) as response:
        raise_for_status(response, url, what, credentials)
        deadline = time.monotonic() + connect_timeout + read_timeout
        return read_capped(response, url, host, max_bytes, deadline, read_timeout)


_STATUS_ERRORS: dict[int, tuple[type[VccError], str]] = {
    400: (BadRequestError, "the platform rejected the request (HTTP 400)"),
    401: (UnauthorisedError, "the platform refused this {credentials} (HTTP 401)"),
    403: (UnauthorisedError, "the platform refused this {credentials} (HTTP 403)"),
    404: (NotFoundError, "{what} does not exist on this platform (HTTP 404)"),
    429: (BusyError, "the platform asks to slow down (HTTP 429)"),
    503: (BusyError, "the platform is overloaded or already serving a request for this tenant (HTTP 503)"),
}



def raise_for_status(response: requests.Response, url: str, what: str, credentials: str) -> None:
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


def read_capped(
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
        raise UnreachableError(f"the connection to {host} broke ({reason(exc)})", url=url) from None
    except requests.exceptions.RequestException as exc:
        raise MalformedError(f"the answer from {host} could not be read ({reason(exc)})", url=url) from None
    except VccError:
        raise
    except Exception as exc:  # as in http_get: the class name only, never the text
        raise MalformedError(f"the answer from {host} could not be read ({type(exc).__name__})", url=url) from None
    return b"".join(chunks)


def _chunks(response: requests.Response) -> Iterator[bytes]:
    # decode_content: the cap counts decompressed bytes, so a gzip bomb stops at the cap too.
    return response.iter_content(_CHUNK)


def port_of(parts: SplitResult) -> int:
    """The port a URL connects to (a bad one is left for requests to report)."""
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return 443


def reason(exc: BaseException) -> str:
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


