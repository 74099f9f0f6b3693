"""Small helpers that read settings from the environment and fail loudly on bad values.

A typo in a deployment's environment should stop the process at start-up with a message
naming the variable, not surface hours later as odd behaviour.
"""

from __future__ import annotations

import math
import os
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable as a string, or the default when it is unset."""
    return os.environ.get(name, default)


def env_required(name: str) -> str:
    """Return a variable that must be set and non-empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set")
    return value


def env_bool(name: str, default: bool) -> bool:
    """Parse 1/0, true/false, yes/no, on/off (any case)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Parse an integer, optionally bounded."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """Parse a finite float, optionally bounded.

    inf and nan parse as floats but are never a sane timeout or interval: VCC_READ_TIMEOUT=inf
    would let one stuck request hold a tenant's poll for ever.
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {raw!r}")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum:g}, got {raw!r}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum:g}, got {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Parse a comma-separated list; blanks are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str | None, *, schemes: tuple[str, ...]) -> str | None:
    """Return a URL whose scheme is one of `schemes`; errors show it with its password masked."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}, got {masked_url(value)!r}"
        )
    try:
        urlsplit(value).port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not a valid URL (check the host and port): {masked_url(value)!r}") from None
    return value


def masked_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages (postgres://user:***@host/db).

    Deliberately crude: it masks everything between the user's ':' and the last '@', so a
    password holding '@', '/' or ':' never shows, even in a URL too broken to parse.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    at = rest.rfind("@")
    if at < 0:
        return url
    user, colon, _ = rest[:at].partition(":")
    if not colon:
        return url
    return f"{scheme}{sep}{user}:***@{rest[at + 1:]}"


def env_fernet_keys(name: str) -> list[str]:
    """Parse a comma-separated list of Fernet keys (32 url-safe base64 bytes each).

    Checked here so a wrong key stops the process at start-up, not at the first token saved;
    the message gives the position of the bad key, never the key.
    """
    keys = env_list(name, [])
    for position, key in enumerate(keys, start=1):
        if not is_fernet_key(key):
            raise ImproperlyConfigured(
                f"{name}: key {position} of {len(keys)} is not a Fernet key (make one with: python -c "
                "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
    return keys


def is_fernet_key(key: str) -> bool:
    """True when Fernet accepts the key."""
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True


def secret_key_problem(value: str, development_key: str) -> str | None:
    """Why SECRET_KEY is not fit for production, or None.

    The development key is printed in settings.py for anyone to read: with it, session
    cookies and password reset links can be forged.
    """
    if value == development_key or value.startswith(("dev-only-insecure", "django-insecure")):
        return "SECRET_KEY is the development key from settings.py (or a published placeholder)"
    if len(value) < 50 or len(set(value)) < 5:
        return "SECRET_KEY must be at least 50 characters of random text"
    return None


def allowed_hosts_problem(hosts: list[str]) -> str | None:
    """Why ALLOWED_HOSTS is not fit for production, or None.

    A wildcard accepts any Host header, which poisons the links Django builds from it
    (password resets, the kiosk URLs admin prints).
    """
    if not hosts:
        return "ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names)"
    if any("*" in host for host in hosts):
        return "ALLOWED_HOSTS must name the site's hosts, not a wildcard '*' (use .example.com for subdomains)"
    return None


def env_secret_key(name: str, development_key: str) -> str:
    """Return a production secret key: set, long, random-looking and not the development one."""
    value = env_required(name)
    problem = secret_key_problem(value, development_key)
    if problem:
        raise ImproperlyConfigured(problem.replace("SECRET_KEY", name, 1) + "; generate one with: "
                                   "python -c 'import secrets; print(secrets.token_urlsafe(50))'")
    return value


def env_timezone(name: str, default: str) -> str:
    """Return an IANA time zone name that this machine knows."""
    value = (os.environ.get(name) or default).strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} must be an IANA time zone such as Europe/London, got {value!r}") from None
    return value
