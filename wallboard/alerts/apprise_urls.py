"""Apprise URLs: check one without sending, show one without its secrets, scrub texts of them.

A notification URL carries its credentials in every part (a Slack webhook's path, a mail
password, a token as "host" for some services), so what is shown is the scheme and the host
only when the host is a real network name, and any text that might quote the URL (Apprise's
failure messages) is scrubbed of its parts before it is logged or stored.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
from apprise.apprise import N_MGR as _PLUGINS

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
MAX_URL_LENGTH = 2000
# Parts of a URL shorter than this are not scrubbed from messages: "to", "80", "yes" are not
# secrets, and replacing them would garble the explanation.
_MIN_SECRET = 4


def scheme_of(url: str) -> str | None:
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else None


def url_problem(url: str) -> str | None:
    """Why Apprise cannot use this URL, in words that do not repeat it; None when it can."""
    if not url or not url.strip():
        return "Enter an Apprise URL."
    if len(url) > MAX_URL_LENGTH:
        return f"The URL is longer than {MAX_URL_LENGTH} characters."
    scheme = scheme_of(url)
    if scheme is None:
        return "This is not a URL: it must start with a scheme such as json://, mailto:// or slack://."
    if scheme not in _PLUGINS:
        return f"Apprise has no service for “{scheme}://” (see the Apprise wiki for the supported ones)."
    if apprise.Apprise.instantiate(url.strip()) is None:
        return f"Apprise cannot use this {scheme}:// URL: a part it needs is missing or malformed."
    return None


def _is_network_name(host: str) -> bool:
    if host == "localhost" or "." in host:
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def redact(url: str) -> str:
    """Scheme and host (when the host is a network name, not a token), e.g. `json://hooks.example.com`."""
    scheme = scheme_of(url or "")
    if scheme is None:
        return "(not a URL)"
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        host = ""
    if host and _is_network_name(host):
        return f"{scheme}://{host}"
    return f"{scheme}://…"


def secret_parts(url: str) -> list[str]:
    """Every part of the URL that may be secret: user, password, path segments, query values."""
    try:
        split = urlsplit(url.strip())
    except ValueError:
        return [url]
    parts = [split.username or "", split.password or "", split.hostname or ""]
    parts += [unquote(segment) for segment in split.path.split("/")]
    parts += [split.fragment] + [value for _, value in parse_qsl(split.query)]
    found = {part for part in parts if len(part) >= _MIN_SECRET}
    found |= {quoted for quoted in (split.username, split.password) if quoted and len(quoted) >= _MIN_SECRET}
    host = split.hostname or ""
    if _is_network_name(host):
        found.discard(host)  # the one part admin shows anyway
    # Longest first, so a part that contains another is replaced whole.
    return sorted(found, key=len, reverse=True) + [url.strip()]


def scrub(text: str, url: str) -> str:
    """The text with every secret part of the URL replaced by `***` (a network host name stays)."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        host = ""
    keep = host if host and _is_network_name(host) else ""
    if keep:
        text = text.replace(keep, "\0")  # out of the way of secrets that are part of it
    for part in sorted(set(secret_parts(url)), key=len, reverse=True):
        if part:
            text = text.replace(part, "***")
    return text.replace("\0", keep) if keep else text
