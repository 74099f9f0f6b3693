"""Board pages: the supervisor's list and view, the TV's token exchange and kiosk page."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.template import Context, Engine
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache

import wallboard
from wallboard.boards import access
from wallboard.boards.middleware import query_language
from wallboard.boards.models import Board, Display, DisplayBoard, hash_token

log = logging.getLogger(__name__)

_DENIED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Display not recognised</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:1.6rem/1.4 system-ui,sans-serif;background:#111;color:#eee;margin:10vh 10vw}</style></head>
<body><h1>This display link is not valid</h1>
<p>{{ message }}</p>
<p>Ask an administrator to issue a new display URL for this screen
(Django admin → Displays → “Issue new URL”).</p></body></html>"""


def ws_path(slug: str) -> str:
    """The websocket path of a board (the protocol's single entry point)."""
    return f"/ws/boards/{slug}/"


def _board_context(board: Board, mode: str, rotation: list[dict[str, object]]) -> dict[str, object]:
    """The context every board template gets, including `config` for json_script."""
    context: dict[str, object] = {
        "board_slug": board.slug,
        "board_title": board.title,
        "ws_path": ws_path(board.slug),
        "version": wallboard.__version__,
        "cycle_seconds": board.tenant.poll_interval,
        "theme": board.theme,
        "palette": board.palette,
        "mode": mode,
        "rotation": rotation,
    }
    context["config"] = {
        "board": board.slug,
        "ws_path": context["ws_path"],
        "version": context["version"],
        "cycle_seconds": context["cycle_seconds"],
        "theme": board.theme,
        "mode": mode,
        "rotation": rotation,
        # The clock on the wall shows the contact center's time, not the TV's.
        "time_zone": board.tenant.time_zone,
    }
    return context


def _board_links(user: object) -> list[dict[str, str]]:
    boards = access.boards_for_user(user).order_by("title")
    return [{"slug": b.slug, "title": b.title, "url": reverse("boards:supervisor", args=[b.slug])} for b in boards]


def _granted_board(request: HttpRequest, slug: str) -> Board:
    board = get_object_or_404(Board.objects.select_related("tenant"), slug=slug)
    if not access.user_can_view(request.user, board):
        raise PermissionDenied("This board has not been shared with you.")
    return board


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The boards this user may open."""
    context = {"boards": _board_links(request.user), "user": request.user}
    return render(request, "boards/index.html", context)


@login_required
def supervisor(request: HttpRequest, slug: str) -> HttpResponse:
    """A supervisor's live view of one board."""
    board = _granted_board(request, slug)
    context = _board_context(board, "supervisor", [])
    context.update(boards=_board_links(request.user), user=request.user)
    return render(request, "boards/supervisor.html", context)


@login_required
def kiosk_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The TV layout of one board, for someone building or checking it."""
    board = _granted_board(request, slug)
    _use_board_language(request, board)
    return render(request, "boards/kiosk.html", _board_context(board, "kiosk", []))


# How a display shows its board, kept in its link and carried to /kiosk/ (docs/admin.md,
# "Display options"); display-options.js reads them. Nothing else of the query is passed on.
DISPLAY_OPTIONS = ("theme", "palette", "lite", "shift", "lang")


def _display_options(request: HttpRequest) -> str:
    """The display options of the link as a query string for the kiosk's address ("" if none)."""
    kept = {name: request.GET[name][:8] for name in DISPLAY_OPTIONS if request.GET.get(name)}
    return f"?{urlencode(kept)}" if kept else ""


@never_cache
def display_exchange(request: HttpRequest, token: str) -> HttpResponse:
    """Swap a display token for the display cookie and send the TV to /kiosk/.

    The token leaves the address bar at once, so it never sits in history, page source or a
    Referer header; a bad token gets a page that does not repeat it.
    """
    display = Display.objects.filter(token_hash=hash_token(token)).first()
    if display is None or not display.is_active:
        reason = "unknown" if display is None else "revoked or expired"
        log.warning("display link refused (%s)", reason, extra={"display_id": getattr(display, "pk", None)})
        return _denied(request, "It may have been revoked, replaced by a newer link, or expired.")
    response = HttpResponseRedirect(reverse("boards:kiosk") + _display_options(request))
    _set_display_cookie(response, display)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def kiosk(request: HttpRequest) -> HttpResponse:
    """The TV's page: its board, or its rotation of boards."""
    display = access.display_from_cookie(request.COOKIES.get(access.DISPLAY_COOKIE))
    if display is None:
        return _denied(request, "This screen has no valid display link, or its link was revoked.")
    slots = list(display.rotation.select_related("board__tenant"))
    if not slots:
        return _denied(request, "This display has no board assigned yet.", status=409)
    access.record_seen(display, request.headers.get("user-agent", ""), request.META.get("REMOTE_ADDR"))
    rotation = _rotation(slots) if len(slots) > 1 else []
    _use_board_language(request, slots[0].board)
    response = render(request, "boards/kiosk.html", _board_context(slots[0].board, "kiosk", rotation))
    _set_display_cookie(response, display)
    return response


def _use_board_language(request: HttpRequest, board: Board) -> None:
    """TVs speak the board's language unless the display link names one (`?lang=`).

    A TV's browser rarely says what the room speaks, so the board decides before the browser does.
    """
    if board.language and query_language(request) is None:
        translation.activate(board.language)
        request.LANGUAGE_CODE = board.language


def _rotation(slots: Iterable[DisplayBoard]) -> list[dict[str, object]]:
    return [
        {"slug": s.board.slug, "title": s.board.title, "seconds": s.seconds, "ws_path": ws_path(s.board.slug)}
        for s in slots
    ]


def _set_display_cookie(response: HttpResponse, display: Display) -> None:
    """Set (or renew) the display cookie; renewing on each load keeps a TV in for good."""
    response.set_cookie(
        access.DISPLAY_COOKIE,
        access.make_display_cookie(display),
        max_age=access.DISPLAY_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=not settings.DEBUG,
    )


class _UnloggedResponse(HttpResponse):
    """A response Django's request logger leaves out (django.utils.log.log_response skips it)."""

    _has_been_logged = True


def _denied(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    """A plain refusal that Django's request logger does not log (the path may hold a token)."""
    response = _UnloggedResponse(_render_string(request, _DENIED_PAGE, {"message": message}), status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _render_string(request: HttpRequest, source: str, context: dict[str, object]) -> str:
    engine = Engine.get_default()
    context = {**context, "csrf_token": get_token(request)} if "csrf_token" in source else context
    return engine.from_string(source).render(Context(context))
