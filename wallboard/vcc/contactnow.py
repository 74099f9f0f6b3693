"""HTTP client for a ContactNow account's time-of-day policies (`database.php`, tod_rules).

ContactNow (the former dxi platform) is a different 8x8 product on its own hosts, with its own
credential: an access token in the query string, time-limited and by default bound to the
address that asked for it (../shared/api/contactnow-tod-rules-api.txt, NOTES.md). Because the
token sits in the URL it is kept out of everything that could show a URL: errors carry the URL
without the query, urllib3's debug lines are redacted below, and an error text the API sends
back is scrubbed of the token before anyone sees it.

`success: false` (JSON) or `0` (XML) under HTTP 200 becomes a typed VccError. Nothing here
retries; the board's next refresh is the retry. Policies are read with `method=tod_policies`,
which the document does not show (its read example answers policies; docs/schedules.md).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

from .client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BYTES, DEFAULT_READ_TIMEOUT, validate_base_url
from .errors import BadRequestError, MalformedError, UnauthorisedError, VccError
from .http import SessionClient, limits_from_settings, new_session, raise_for_status, read_capped, send
from .parse.tod import TodAnswer, TodPolicy, TodRule, parse_answer

FORMATS = ("json", "xml")
PATH = "/database.php"
USER_AGENT = "Wallboard (+ContactNow time-of-day)"
_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s\"']*", re.IGNORECASE)

__all__ = ["ContactNowClient", "TodAnswer", "TodPolicy", "TodRule", "redact", "validate_contactnow_url"]


def redact(text: str, token: str = "") -> str:
    """text without any token=... query value, and without the token itself."""
    text = _TOKEN_IN_TEXT.sub(r"\1[redacted]", text)
    return text.replace(token, "[redacted]") if token else text


class _RedactTokens(logging.Filter):
    """urllib3 logs each request's URL at DEBUG (and retries at WARNING): drop the token from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactTokens) for f in _logger.filters):
        _logger.addFilter(_RedactTokens())


def validate_contactnow_url(url: str) -> str:
    """The account's root (https://api-106.dxi.eu) for what an administrator typed.

    Accepts the root or the full …/database.php address; the same safety rules as an 8x8
    platform URL (https, public addresses; plain http for loopback only).
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.path.rstrip("/").lower().endswith(PATH):
        text = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/")[: -len(PATH)], parts.query, parts.fragment))
    return validate_base_url(text)


def token_problem(token: str) -> str | None:
    """Why this cannot be a ContactNow token (it travels in a URL), or None."""
    if not token or not all("!" <= char <= "~" for char in token):
        return "the token must be printable ASCII without spaces"
    return None


class ContactNowClient(SessionClient):
    """One ContactNow account: read policies and rules, create and update rules."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        fmt: str = "json",
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        if not token:
            raise ValueError("a ContactNow token is required")
        self.base_url = validate_contactnow_url(base_url)
        self.fmt = fmt
        self._token = token
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_bytes = max_bytes
        self.session = new_session(user_agent=USER_AGENT)

    @classmethod
    def from_settings(cls, base_url: str, token: str, *, fmt: str = "json") -> ContactNowClient:
        """A client with the timeouts and size cap of the 8x8 clients (Django settings)."""
        return cls(base_url, token, fmt=fmt, **limits_from_settings())

    def __repr__(self) -> str:
        return f"<ContactNowClient {self.base_url} {self.fmt}>"

    # Calls ------------------------------------------------------------------------------------

    def policies(self) -> list[TodPolicy]:
        """Every time-of-day policy of the account."""
        return list(self._call("tod_policies", "read").policies)

    def rules(self, policy: str | None = None) -> list[TodRule]:
        """A policy's rules, or every policy's rules when policy is None."""
        answer = self._call("tod_rules", "read", {"policy": policy} if policy else {})
        return list(answer.rules)

    def read(self, policy: str | None = None) -> TodAnswer:
        """The whole read answer (rules, or policies where the account answers with those)."""
        return self._call("tod_rules", "read", {"policy": policy} if policy else {})

    def create(self, rule: TodRule) -> TodAnswer:
        """Create a rule. The API does not deduplicate: the same rule sent twice exists twice."""
        return self._call("tod_rules", "create", {"policy": rule.policy}, payload=rule)

    def update(self, rule: TodRule) -> TodAnswer:
        """Update the rule with this policy and rule number."""
        return self._call("tod_rules", "update", {"policy": rule.policy}, payload=rule)

    # The HTTP exchange ----------------------------------------------------------------------

    def _call(self, method: str, action: str, extra: dict[str, str] | None = None, payload: TodRule | None = None) -> TodAnswer:
        params = {"token": self._token, "method": method, "action": action, "format": self.fmt, "raw": "1", **(extra or {})}
        url = self.base_url + PATH
        what = f"{method} {action}"
        try:
            if payload is None:
                body = self._send("GET", url, params, None, what)
            else:
                body = self._send("POST", url, params, self._payload(payload), what)
            answer = parse_answer(body)
        except VccError as exc:
            raise self._scrubbed(exc) from None
        if not answer.success:
            raise refusal(answer.error, self._token, url)
        return answer

    def _payload(self, rule: TodRule) -> tuple[bytes, str]:
        wire = rule.wire()
        if self.fmt == "json":
            return json.dumps([wire]).encode(), "application/json"
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in wire.items())
        return f"<?xml version='1.0' encoding='utf-8' ?><dxi>{fields}</dxi>".encode(), "application/xml"

    def _send(self, verb: str, url: str, params: dict[str, str], payload: tuple[bytes, str] | None, what: str) -> bytes:
        """One request; every failure a VccError in our words, the URL in it without the query."""
        host = urlsplit(url).hostname or "?"
        headers = {"Content-Type": payload[1]} if payload else {}
        with send(
            self.session, verb, url, params=params, data=payload[0] if payload else None, headers=headers,
            connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
        ) as response:
            raise_for_status(response, url, f"ContactNow {what}", "token")
            deadline = time.monotonic() + self.connect_timeout + self.read_timeout
            return read_capped(response, url, host, self.max_bytes, deadline, self.read_timeout)

    def _scrubbed(self, exc: VccError) -> VccError:
        """The same error with the token removed from its words (a redirect's Location, say)."""
        clean = redact(exc.detail, self._token)
        if clean == exc.detail:
            return exc
        return type(exc)(clean, status=exc.status, url=exc.url)


def refusal(error: str | None, token: str, url: str | None = None) -> VccError:
    """The typed error for a `success: false` answer, in words that never hold the token."""
    text = " ".join(redact(error or "", token).split())[:200]
    lower = text.lower()
    if "expired" in lower:
        return UnauthorisedError(f"the ContactNow token has expired; issue a new one (ContactNow: {text})", url=url)
    if "token" in lower and ("address" in lower or " ip" in f" {lower}"):
        return UnauthorisedError(
            "the ContactNow token is bound to another internet address; issue one from this "
            f"server's address (ContactNow: {text})", url=url,
        )
    if "token" in lower or "auth" in lower:
        return UnauthorisedError(f"ContactNow refused the token (ContactNow: {text})", url=url)
    if not text:
        return MalformedError("ContactNow answered success false without an error", url=url)
    return BadRequestError(f"ContactNow refused the request: {text}", url=url)


def as_rule(data: dict[str, Any]) -> TodRule:
    """A TodRule from the to_dict() shape (stored definitions, the editor)."""
    return TodRule(
        policy=str(data["policy"]),
        rule=int(data["rule"]),
        year=int(data.get("year") or 0),
        month=int(data.get("month") or 0),
        date=int(data.get("date") or 0),
        days=tuple(data.get("days") or ()),
        ranges=tuple((str(a), str(b)) for a, b in data.get("ranges") or ()),
        action=str(data.get("action") or "queue"),
    )
