"""Who may see which board: supervisors by grant, TVs by display cookie.

Everything that decides access lives here so the HTTP views and the websocket consumer apply
the same rules. A TV never logs in: it opens `/d/<token>` once, gets a signed cookie naming its
display, and from then on that cookie (checked against the display's current token hash, its
revocation and its expiry) is its credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

from channels.security.websocket import AllowedHostsOriginValidator
from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone

from wallboard.boards.models import Board, Display

DISPLAY_COOKIE = "wb_display"
DISPLAY_COOKIE_SALT = "wallboard.boards.display-cookie"
# Browsers cap cookie lifetimes at 400 days; the kiosk page renews the cookie on every load.
DISPLAY_COOKIE_MAX_AGE = 400 * 24 * 3600
# Enough of the token hash to tie a cookie to one issued token; a new URL voids old cookies.
HASH_PREFIX_LENGTH = 16
SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Access:
    """The outcome of a websocket handshake check."""

    allowed: bool
    reason: str
    board_id: int | None = None
    display_id: int | None = None
    user_id: int | None = None


def _is_authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _sees_everything(user) -> bool:
    return bool(user.is_staff or user.is_superuser)


def user_can_view(user, board: Board) -> bool:
    """True when the user is staff, or the board is granted to them or to one of their groups."""
    if not _is_authenticated(user):
        return False
    if _sees_everything(user):
        return True
    if board.viewers.filter(pk=user.pk).exists():
        return True
    return board.viewer_groups.filter(pk__in=user.groups.values("pk")).exists()


def boards_for_user(user) -> QuerySet[Board]:
    """The boards a user may see (staff: all of them)."""
    if not _is_authenticated(user):
        return Board.objects.none()
    if _sees_everything(user):
        return Board.objects.all()
    granted = Q(viewers=user) | Q(viewer_groups__in=user.groups.all())
    return Board.objects.filter(pk__in=Board.objects.filter(granted).values("pk"))


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
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_ipv46_address

    if not ip:
        return None
    try:
        validate_ipv46_address(ip)
    except ValidationError:
        return None
    return ip


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin1")
    return None


def origin_allowed(scope: dict) -> bool:
    """The same rule as channels' AllowedHostsOriginValidator: the Origin must be one of ours."""
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    try:
        parsed = urlparse(origin)
    except ValueError:
        return False
    return AllowedHostsOriginValidator(None).valid_origin(parsed)


def _cookies(scope: dict) -> dict[str, str]:
    """Cookies parsed by CookieMiddleware, or straight from the header when it is not in the stack."""
    if "cookies" in scope:
        return scope["cookies"] or {}
    from django.http.cookie import parse_cookie

    return parse_cookie(_header(scope, b"cookie") or "")


def _client_ip(scope: dict) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def authorize_websocket(scope: dict, slug: str) -> Access:
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
    display = display_from_cookie(_cookies(scope).get(DISPLAY_COOKIE))
    if display is None:
        reason = "user has no grant for this board" if user_id else "no session and no valid display cookie"
        return Access(False, reason, board_id=board.pk, user_id=user_id)
    if not display.rotation.filter(board=board).exists():
        return Access(False, "board is not in this display's rotation", board_id=board.pk, display_id=display.pk)
    record_seen(display, _header(scope, b"user-agent") or "", _client_ip(scope))
    return Access(True, "display", board_id=board.pk, display_id=display.pk)
