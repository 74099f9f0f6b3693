"""Who may see which board: supervisors by grant, TVs by display cookie.

Everything that decides access lives here so the HTTP views and the websocket consumer apply
the same rules. A TV never logs in: it opens `/d/<token>` once, gets a signed cookie naming its
display, and from then on that cookie (checked against the display's current token hash, its
revocation and its expiry) is its credential.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any, TypeGuard

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db.models import Q, QuerySet
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from wallboard.boards.models import Board, Display, DisplayBoard

DISPLAY_COOKIE = "wb_display"
DISPLAY_COOKIE_SALT = "wallboard.boards.display-cookie"
# Browsers cap cookie lifetimes at 400 days; the kiosk page renews the cookie on every load.
DISPLAY_COOKIE_MAX_AGE = 400 * 24 * 3600
# Enough of the token hash to tie a cookie to one issued token; a new URL voids old cookies.
HASH_PREFIX_LENGTH = 16
SEEN_EVERY = timedelta(minutes=1)
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Access:
    """The outcome of a websocket handshake check."""

    allowed: bool
    reason: str
    board_id: int | None = None
    display_id: int | None = None
    user_id: int | None = None
    # The start of the token hash the display cookie names: which URL the screen came from.
    token_prefix: str | None = None


def _is_authenticated(user: object) -> TypeGuard[User]:
    """A signed-in, active user (None, AnonymousUser and deactivated users are not)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _sees_everything(user: User) -> bool:
    return bool(user.is_staff or user.is_superuser)


def user_can_view(user: object, board: Board) -> bool:
    """True when the user is staff, or the board is granted to them or to one of their groups."""
    if not _is_authenticated(user):
        return False
    if _sees_everything(user):
        return True
    if board.viewers.filter(pk=user.pk).exists():
        return True
    return board.viewer_groups.filter(pk__in=user.groups.values("pk")).exists()


def boards_for_user(user: object) -> QuerySet[Board]:
    """The boards a user may see (staff: all of them)."""
    if not _is_authenticated(user):
        return Board.objects.none()
    if _sees_everything(user):
        return Board.objects.all()
    granted = Q(viewers=user) | Q(viewer_groups__in=user.groups.all())
    return Board.objects.filter(pk__in=Board.objects.filter(granted).values("pk"))


def session_may_view(user_id: int, session_key: str | None, board_id: int) -> bool:
    """True while the session still signs this user in and the user may still see the board.

    An open websocket re-asks this every few seconds (the handshake alone is not enough):
    logging out (the session is deleted), a password change (the session's auth hash no longer
    matches), deactivation, deletion or a removed grant must end a stream already running.
    Read-only, unlike django.contrib.auth.get_user, which flushes or re-keys the session.
    """
    if not session_key:
        return False
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # An ended or expired session loads as empty, so this also covers "logged out".
    if session.get(SESSION_KEY) != str(user_id):
        return False
    backend_path = session.get(BACKEND_SESSION_KEY)
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return False
    user = load_backend(backend_path).get_user(user_id)  # None once deleted or deactivated
    if user is None or not _session_hash_matches(session.get(HASH_SESSION_KEY), user):
        return False
    board = Board.objects.filter(pk=board_id).first()
    return board is not None and user_can_view(user, board)


def _session_hash_matches(session_hash: str | None, user: AbstractBaseUser) -> bool:
    """The check django.contrib.auth.get_user makes, fallback secrets included."""
    if not hasattr(user, "get_session_auth_hash"):
        return True
    if not session_hash:
        return False
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, value) for value in hashes)


def make_display_cookie(display: Display) -> str:
    """A signed value naming the display and the token it was issued with."""
    payload = f"{display.pk}:{display.token_hash[:HASH_PREFIX_LENGTH]}"
    return signing.Signer(salt=DISPLAY_COOKIE_SALT).sign(payload)


def display_from_cookie(value: str | None) -> Display | None:
    """The active display a cookie names, or None for anything forged, stale or revoked.

    The hash prefix ties the cookie to the token it was swapped for, so issuing a new URL for
    a display locks out every screen still holding a cookie from the old one.
    """
    if not value:
        return None
    try:
        payload = signing.Signer(salt=DISPLAY_COOKIE_SALT).unsign(value)
    except signing.BadSignature:
        return None
    display_id, _, prefix = payload.partition(":")
    if not display_id.isdigit() or len(prefix) != HASH_PREFIX_LENGTH:
        return None
    display = Display.objects.filter(pk=int(display_id)).first()
    if display is None or not display.token_hash.startswith(prefix) or not display.is_active:
        return None
    return display


def display_is_active(display_id: int) -> bool:
    """True while the display is neither revoked nor expired (the consumer asks every cycle)."""
    now = timezone.now()
    active = Display.objects.filter(pk=display_id, revoked__isnull=True).filter(
        Q(expires__isnull=True) | Q(expires__gt=now)
    )
    return active.exists()


def display_still_shows(display_id: int, token_prefix: str, board_id: int) -> bool:
    """True while the display's URL is still the one the cookie came from and the board is
    still in its rotation (the consumer asks every few seconds).

    Issuing a new URL or switching a display's board reaches its screens through Redis at once;
    this check does not need Redis, so a screen missed meanwhile still drops off.
    """
    return DisplayBoard.objects.filter(
        display_id=display_id, board_id=board_id, display__token_hash__startswith=token_prefix
    ).exists()


def record_seen(display: Display, user_agent: str, ip: str | None) -> None:
    """Note when and from where a display last connected, at most once a minute.

    TVs reconnect after every network blip; throttling keeps that from becoming a write storm.
    """
    now = timezone.now()
    if display.last_seen is not None and now - display.last_seen < SEEN_EVERY:
        return
    display.last_seen = now
    display.user_agent = (user_agent or "")[:300]
    display.ip = _valid_ip(ip)
    Display.objects.filter(pk=display.pk).update(last_seen=now, user_agent=display.user_agent, ip=display.ip)


def _valid_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        validate_ipv46_address(ip)
    except ValidationError:
        return None
    return ip


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers") or []
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin1")
    return None


def origin_allowed(scope: Mapping[str, Any]) -> bool:
    """True when the page opening the socket is this very site, or exactly a trusted origin.

    The rule of Django's CSRF origin check: the Origin must name the scheme, host and port the
    handshake came to (a page on http://host:8000 opens ws://host:8000), and that host must be
    one of ALLOWED_HOSTS. The host alone is not enough: another port on the same machine is
    another site, perhaps someone else's. CSRF_TRUSTED_ORIGINS, compared exactly, serve proxies
    that rewrite Host or end TLS.
    """
    origin = _origin_site(_header(scope, b"origin") or "")
    if origin is None:
        return False
    if origin in {_origin_site(trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS}:
        return True
    ours = _site("https" if _is_secure(scope) else "http", _header(scope, b"host") or "")
    return ours is not None and origin == ours and validate_host(ours[1], _allowed_hosts())


def _origin_site(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an Origin such as `https://example.com`; None for anything else."""
    scheme, separator, netloc = origin.partition("://")
    return _site(scheme.lower(), netloc) if separator else None


def _site(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None when malformed."""
    if scheme not in DEFAULT_PORTS:
        return None
    # Django's own parser: lower-cases, accepts [IPv6], refuses paths, user info and spaces.
    host, port = split_domain_port(netloc)
    if not host or (port and not 0 < int(port) < 65536):
        return None
    return scheme, host, int(port) if port else DEFAULT_PORTS[scheme]


def _is_secure(scope: Mapping[str, Any]) -> bool:
    """Django's request.is_secure() for a handshake: the proxy's header when set, else the scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = _header(scope, meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1"))
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def _allowed_hosts() -> list[str]:
    """ALLOWED_HOSTS as Django's request.get_host() reads it (DEBUG with none: local names)."""
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


def _cookies(scope: Mapping[str, Any]) -> dict[str, str]:
    """Cookies parsed by CookieMiddleware, or straight from the header when it is not in the stack."""
    if "cookies" in scope:
        parsed: dict[str, str] = scope["cookies"] or {}
        return parsed
    return parse_cookie(_header(scope, b"cookie") or "")


def client_ip(scope: Mapping[str, Any]) -> str | None:
    """The handshake's peer address, if the server gave one."""
    client: tuple[str, int] | None = scope.get("client")
    return client[0] if client else None


def authorize_websocket(scope: Mapping[str, Any], slug: str) -> Access:
    """Decide whether a websocket handshake for board `slug` may proceed (sync: DB access).

    A session user needs a grant for the board; otherwise the display cookie must name an
    active display whose rotation includes the board. A foreign Origin is refused either way.
    """
    if not origin_allowed(scope):
        return Access(False, "foreign or missing Origin")
    board = Board.objects.filter(slug=slug).first()
    if board is None:
        return Access(False, "unknown board")
    user = scope.get("user")
    user_id = user.pk if _is_authenticated(user) else None
    if user_id is not None and user_can_view(user, board):
        return Access(True, "session", board_id=board.pk, user_id=user_id)
    return _display_access(board, display_cookie(scope), user_id, user_agent(scope), client_ip(scope))


def signed_in(scope: Mapping[str, Any]) -> bool:
    """True when the handshake carries a signed-in, active user (resolved by AuthMiddleware)."""
    return _is_authenticated(scope.get("user"))


def display_cookie(scope: Mapping[str, Any]) -> str | None:
    """The display cookie a handshake carries, if any."""
    return _cookies(scope).get(DISPLAY_COOKIE)


def user_agent(scope: Mapping[str, Any]) -> str:
    """The handshake's User-Agent header ("" when absent)."""
    return _header(scope, b"user-agent") or ""


def authorize_display(slug: str, cookie: str | None, agent: str, ip: str | None) -> Access:
    """authorize_websocket for a handshake with no signed-in user and an allowed Origin (sync: DB).

    Its answer depends on the board and the cookie only, so the screens of one display that
    reconnect together after a restart can share one asking of it (consumers, "handshake").
    """
    board = Board.objects.filter(slug=slug).first()
    if board is None:
        return Access(False, "unknown board")
    return _display_access(board, cookie, None, agent, ip)


def _display_access(board: Board, cookie: str | None, user_id: int | None, agent: str, ip: str | None) -> Access:
    display = display_from_cookie(cookie)
    if display is None:
        reason = "user has no grant for this board" if user_id else "no session and no valid display cookie"
        return Access(False, reason, board_id=board.pk, user_id=user_id)
    if not display.rotation.filter(board=board).exists():
        return Access(False, "board is not in this display's rotation", board_id=board.pk, display_id=display.pk)
    record_seen(display, agent, ip)
    return Access(True, "display", board_id=board.pk, display_id=display.pk,
                  token_prefix=display.token_hash[:HASH_PREFIX_LENGTH])
