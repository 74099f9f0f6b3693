"""Client for 8x8's Dynamic Campaigns API: set a campaign's state, add and remove customers.

    with CampaignClient(base_url, tenant, action_token) as client:
        client.set_status("101", "PAUSED")
        results = client.add_customers("101", [CustomerItem("1000000", when)])
        client.remove_customer("101", "1000000")

Basic auth with the tenant name and its **action token** (not the Data Request Token), JSON
both ways, under `<platform>/api/tstats/campaigns` (../shared/api/NOTES.md). The connection
rules are the statistics client's: the safe session (public or loopback peers only), https
except for loopback, timeouts, a cap on the body, our own words in every error.

These are writes, so nothing here ever retries, and an answer that never came is not a
failure: the request may have reached 8x8 and been carried out. Such a call raises
OutcomeUnknownError ("unknown, check in 8x8"), never a plain timeout, so that nobody
presses again believing nothing happened. Only when the request certainly did not leave
(no connection could be made) is it an ordinary TimedOutError or UnreachableError.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
import urllib3

from .client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_BYTES,
    DEFAULT_READ_TIMEOUT,
    check_credentials,
    validate_base_url,
)
from .errors import (
    BadRequestError,
    MalformedError,
    NotFoundError,
    ServerError,
    TimedOutError,
    UnauthorisedError,
    UnreachableError,
    VccError,
)
from .http import SessionClient, limits_from_settings, new_session, read_capped, reason, send

CAMPAIGNS_PATH = "/api/tstats/campaigns"
STATUSES = ("RUNNING", "PAUSED", "STOPPED", "PURGED")
MAX_ITEMS = 10_000  # far below 8x8's 5 million: the wallboard adds a handful at a time
MAX_MESSAGE = 300  # characters of a vendor message we repeat
CHECK_IN_8X8 = "check the campaign in 8x8 before trying again"


# ---------------------------------------------------------------------------------------------
# Errors of the campaign calls (all VccError, so callers handle one family).


class WrongActionTokenError(UnauthorisedError):
    """401/403: the tenant name or the action token is wrong (or the token was revoked)."""


class CampaignNotFoundError(NotFoundError):
    """404 on the campaign itself: no campaign with that id on this tenant."""


class CustomerNotFoundError(NotFoundError):
    """404 on a delete: the customer record is not in the campaign."""


class NotDynamicError(BadRequestError):
    """400: the campaign exists but does not have dynamic campaign enabled."""

    kind = "not_dynamic"
    prefix = "not a dynamic campaign"


class RejectedError(BadRequestError):
    """400 with the vendor's own words (an invalid transition, a stopped campaign, ...)."""

    kind = "rejected"
    prefix = "refused by 8x8"


class OutcomeUnknownError(VccError):
    """The request may have reached 8x8, but its answer was lost: unknown, check in 8x8."""

    kind = "unknown"
    prefix = "outcome unknown"


# ---------------------------------------------------------------------------------------------
# Records.


@dataclass(frozen=True)
class CustomerItem:
    """One customer to add: its CRM account number and an optional callback time."""

    customer_id: str
    schedule_at: datetime | None = None  # aware; sent as UTC

    def to_wire(self) -> dict[str, str]:
        item = {"customer-id": self.customer_id}
        if self.schedule_at is not None:
            item["schedule-date-time"] = iso_utc(self.schedule_at)
        return item


@dataclass(frozen=True)
class CustomerResult:
    """8x8's answer for one added customer: 200 added, 400/404 refused with a message."""

    customer_id: str | None
    schedule_date_time: str | None
    http_status: int
    message: str

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "schedule_date_time": self.schedule_date_time,
            "http_status": self.http_status,
            "message": self.message,
        }


@dataclass(frozen=True)
class StatusChange:
    """A state change 8x8 accepted."""

    campaign_id: str
    status: str

    def to_dict(self) -> dict[str, str]:
        return {"campaign_id": self.campaign_id, "status": self.status}


def iso_utc(moment: datetime) -> str:
    """2016-08-29T09:00:00.000Z, the form of the vendor's examples."""
    if moment.tzinfo is None:
        raise ValueError("a callback time needs a time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def campaign_base(url: str) -> str:
    """The platform root for a URL typed with or without /api/tstats/campaigns."""
    text = (url or "").strip().rstrip("/")
    if text.lower().endswith(CAMPAIGNS_PATH):
        text = text[: -len(CAMPAIGNS_PATH)]
    return validate_base_url(text)


def check_campaign_id(value: str) -> str:
    """Campaign ids are numbers (the id column of Configuration Manager's campaign list)."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise ValueError(f"a campaign id is a number, e.g. 101 (got {text[:20]!r})")
    return text


def check_customer_id(value: str) -> str:
    """A customer id is the local CRM account number: printable, no slash, not empty."""
    text = str(value).strip()
    if not text or len(text) > 64 or "/" in text or not all(" " < char <= "~" for char in text):
        raise ValueError("a customer id is the CRM account number (letters and digits, no spaces or slashes)")
    return text


# ---------------------------------------------------------------------------------------------
# The client.


class CampaignClient(SessionClient):
    """One tenant's Dynamic Campaigns API; one session per client, no retries."""

    def __init__(
        self,
        base_url: str,
        tenant: str,
        action_token: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        if not tenant or not action_token:
            raise ValueError("a tenant name and an action token are required")
        self.base_url = campaign_base(base_url)
        self.tenant = tenant
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.session = new_session(accept="application/json", auth=(tenant, action_token))

    @classmethod
    def from_settings(cls, base_url: str, tenant: str, action_token: str) -> CampaignClient:
        """A client with the timeouts and size cap from Django settings."""
        return cls(base_url, tenant, action_token, **limits_from_settings())

    def __repr__(self) -> str:
        return f"<CampaignClient {self.tenant}@{self.base_url}>"

    # The three calls --------------------------------------------------------------------------

    def set_status(self, campaign_id: str, status: str) -> StatusChange:
        """PATCH /{id} {"status": ...}: 200 or a typed error."""
        campaign_id = check_campaign_id(campaign_id)
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        self._send("PATCH", self._url(campaign_id), {"status": status}, f"campaign {campaign_id}")
        return StatusChange(campaign_id, status)

    def add_customers(self, campaign_id: str, items: Sequence[CustomerItem]) -> list[CustomerResult]:
        """POST /{id}/customers: one result per item (some may fail while others succeed)."""
        campaign_id = check_campaign_id(campaign_id)
        if not items:
            raise ValueError("name at least one customer")
        if len(items) > MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} customers at a time")
        body = [CustomerItem(check_customer_id(i.customer_id), i.schedule_at).to_wire() for i in items]
        url = self._url(campaign_id, "customers")
        status, raw = self._send("POST", url, body, f"campaign {campaign_id}", need_body=True)
        try:
            return parse_customer_results(raw, url)
        except MalformedError as exc:
            # The upload went through: which customers were added is what we cannot tell.
            raise OutcomeUnknownError(
                f"8x8 accepted the request (HTTP {status}) but its per-customer answer could not be read "
                f"({exc.detail}); {CHECK_IN_8X8}",
                status=status,
                url=exc.url,
            ) from None

    def remove_customer(self, campaign_id: str, customer_id: str) -> None:
        """DELETE /{id}/customers/{customer}: 204, or a typed error (404: customer not in it)."""
        campaign_id = check_campaign_id(campaign_id)
        customer_id = check_customer_id(customer_id)
        what = f"customer {customer_id} in campaign {campaign_id}"
        self._send("DELETE", self._url(campaign_id, "customers", customer_id), None, what, customer=True)

    def probe(self, campaign_id: str) -> str:
        """Whether the campaign exists, is dynamic and takes this action token, changing nothing.

        8x8 has no read call, so this deletes a customer id no CRM holds: "customer not found"
        means everything up to the customer was accepted. Returns a sentence saying so, or
        raises the typed error that says what is wrong.
        """
        try:
            self.remove_customer(campaign_id, PROBE_CUSTOMER)
        except CustomerNotFoundError:
            return f"campaign {campaign_id} exists, accepts dynamic campaign calls and this action token"
        return f"campaign {campaign_id} answered (a probe customer was removed: check the campaign)"

    # Plumbing ---------------------------------------------------------------------------------

    def _url(self, *parts: str) -> str:
        path = "/".join(quote(str(part), safe="") for part in parts)
        return f"{self.base_url}{CAMPAIGNS_PATH}/{path}"

    def _send(
        self, method: str, url: str, payload: object, what: str, *, need_body: bool = False, customer: bool = False
    ) -> tuple[int, bytes]:
        """One request, never retried; the typed error for anything but a 2xx."""
        parts = urlsplit(url)
        host = parts.hostname or "?"
        check_credentials(self.session)
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        safe_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        with send(
            self.session, method, url, data=data, headers=headers, connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout, translate=self._lost,
        ) as response:
            status = response.status_code
            deadline = time.monotonic() + self.connect_timeout + self.read_timeout
            try:
                raw = read_capped(response, safe_url, host, self.max_bytes, deadline, self.read_timeout)
            except VccError as exc:
                if 200 <= status < 300 and need_body:
                    raise OutcomeUnknownError(
                        f"8x8 accepted the request (HTTP {status}) but its per-customer answer was lost "
                        f"({exc.detail}); {CHECK_IN_8X8}",
                        status=status,
                        url=safe_url,
                    ) from None
                if 200 <= status < 300:
                    return status, b""  # the status line is the answer to a PATCH or DELETE
                raw = b""
        if 200 <= status < 300:
            return status, raw
        raise _status_error(status, raw, what, safe_url, customer)

    def _lost(self, exc: Exception, host: str, safe_url: str) -> VccError | None:
        """A write's failures in its own words: a request that may have arrived is an unknown outcome.

        None leaves the wording to http.send (TLS, a library's own error).
        """
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return TimedOutError(
                f"could not connect to {host} within {self.connect_timeout:g} s; nothing was sent", url=safe_url
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return OutcomeUnknownError(
                f"{host} did not answer within {self.read_timeout:g} s; the change may or may not have been "
                f"made: {CHECK_IN_8X8}",
                url=safe_url,
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return None
        if isinstance(exc, requests.exceptions.ConnectionError):
            if _never_sent(exc):
                return UnreachableError(f"cannot connect to {host} ({reason(exc)}); nothing was sent", url=safe_url)
            return OutcomeUnknownError(
                f"the connection to {host} broke before it answered ({reason(exc)}); the change may or may not "
                f"have been made: {CHECK_IN_8X8}",
                url=safe_url,
            )
        if isinstance(exc, requests.exceptions.RequestException):
            return UnreachableError(f"the request to {host} could not be made ({reason(exc)})", url=safe_url)
        return None


PROBE_CUSTOMER = "wallboard-probe"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions carried in args or `reason`."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 50:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for nxt in (item.__cause__, item.__context__, getattr(item, "reason", None), *item.args):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _never_sent(exc: BaseException) -> bool:
    """True when no connection was ever made, so 8x8 cannot have seen the request."""
    for cause in _causes(exc):
        if isinstance(cause, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError):
            return True
        if isinstance(cause, ConnectionRefusedError):
            return True
    return False


def _vendor_message(raw: bytes) -> str:
    """The `message` of an error body, cut and made one printable line; "" when there is none."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str):
        return ""
    text = " ".join("".join(c if c.isprintable() else " " for c in message).split())
    return text[:MAX_MESSAGE] + ("…" if len(text) > MAX_MESSAGE else "")


def _status_error(status: int, raw: bytes, what: str, url: str, customer: bool) -> VccError:
    message = _vendor_message(raw)
    said = f": {message}" if message else ""
    if status in (401, 403):
        return WrongActionTokenError(
            f"the platform refused this tenant name and action token (HTTP {status}); the action token is not "
            "the data request token",
            status=status,
            url=url,
        )
    if status == 404:
        if customer and "campaign" not in message.lower():
            return CustomerNotFoundError(f"{what}: the customer record is not in the campaign (HTTP 404){said}", status=status, url=url)
        return CampaignNotFoundError(f"{what} does not exist on this tenant (HTTP 404){said}", status=status, url=url)
    if status == 400:
        if "not a dynamic campaign" in message.lower():
            return NotDynamicError(f"{what} does not have dynamic campaign enabled in 8x8 (HTTP 400)", status=status, url=url)
        return RejectedError(f"{message or 'the request was refused'} (HTTP 400)", status=status, url=url)
    if status >= 500:
        return ServerError(
            f"the platform failed to carry out the request on {what} (HTTP {status}){said}", status=status, url=url
        )
    if 300 <= status < 400:
        return BadRequestError(f"the platform redirected (HTTP {status}); check the base URL", status=status, url=url)
    return BadRequestError(f"unexpected answer HTTP {status}{said}", status=status, url=url)


def parse_customer_results(raw: bytes, url: str | None = None) -> list[CustomerResult]:
    """The per-item answer of an add: a list (or a lone object) of results; strict on types."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedError("the per-customer results are not JSON", url=url) from None
    if isinstance(data, dict):
        data = [data]  # a one-element list may arrive as an object (NOTES.md)
    if not isinstance(data, list):
        raise MalformedError("the per-customer results are not a list", url=url)
    return [_result(item, url) for item in data]


def _result(item: object, url: str | None) -> CustomerResult:
    if not isinstance(item, dict):
        raise MalformedError("a per-customer result is not an object", url=url)
    status = item.get("http-status")
    try:
        code = int(status) if isinstance(status, int | str) and not isinstance(status, bool) else None
    except ValueError:
        code = None
    if code is None:
        raise MalformedError("a per-customer result has no http-status", url=url)
    customer = item.get("customer-id")
    when = item.get("schedule-date-time")
    message = item.get("message")
    return CustomerResult(
        customer_id=None if customer is None else str(customer)[:64],
        schedule_date_time=None if when is None else str(when)[:64],
        http_status=code,
        message=(str(message)[:MAX_MESSAGE] if message is not None else ("added" if 200 <= code < 300 else "")),
    )
