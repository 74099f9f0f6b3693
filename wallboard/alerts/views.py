"""The supervisor's announcement page: write one for boards they may announce on, end one early."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from wallboard.alerts import announcements
from wallboard.alerts.forms import AnnouncementForm
from wallboard.alerts.models import Announcement
from wallboard.boards.models import Board


def _board_for_announcer(request: HttpRequest, slug: str) -> Board:
    board = get_object_or_404(Board, slug=slug)
    if not announcements.may_announce(request.user, board):
        raise PermissionDenied("You may not put announcements on this board.")
    return board


@login_required
def announce(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the form and the board's current and coming announcements; POST: create one."""
    board = _board_for_announcer(request, slug)
    allowed = announcements.boards_user_may_announce(request.user).order_by("title")
    form = AnnouncementForm(request.POST or None, boards=allowed, initial={"boards": [board.pk]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        announcements.create(request.user, data["boards"], data["message"], data["severity"], data["starts"], data["ends"])
        messages.success(request, "Announcement saved; it shows on the boards from its start time.")
        return HttpResponseRedirect(reverse("alerts:announce", args=[board.slug]))
    current = (
        Announcement.objects.filter(boards=board, ended_early__isnull=True, ends__gt=timezone.now())
        .order_by("starts")
        .prefetch_related("boards")
    )
    context = {"board": board, "form": form, "current": current, "now": timezone.now(),
               "time_zone": timezone.get_current_timezone_name()}
    return render(request, "alerts/announce.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def end_announcement(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """End an announcement early; the user must be allowed on every board it shows on."""
    board = _board_for_announcer(request, slug)
    announcement = get_object_or_404(Announcement, pk=pk, boards=board)
    allowed = set(announcements.boards_user_may_announce(request.user).values_list("pk", flat=True))
    if not set(announcement.boards.values_list("pk", flat=True)) <= allowed:
        raise PermissionDenied("This announcement is also on boards you may not announce on.")
    if announcements.end_now(announcement, request.user):
        messages.success(request, "Announcement ended.")
    return HttpResponseRedirect(reverse("alerts:announce", args=[board.slug]))
