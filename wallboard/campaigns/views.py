"""The supervisor's campaign panel: state, Run/Pause/Stop (Purge for administrators), callbacks.

Every POST is CSRF-protected (Django's middleware), checked against the board's campaign
grant, and carries an idempotency key so a double click sends one request to 8x8. The
outcome is told on the next page (post/redirect/get), a form error on the same page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from wallboard.boards import access
from wallboard.boards.models import Board
from wallboard.campaigns import services
from wallboard.campaigns.forms import ActionForm, CallbackForm, CustomerForm
from wallboard.campaigns.models import Campaign
from wallboard.campaigns.selectors import campaigns_on, may_control, may_purge

LEVELS = {"ok": messages.SUCCESS, "unknown": messages.WARNING, "busy": messages.WARNING, "dry_run": messages.INFO}


def _board(request: HttpRequest, slug: str) -> Board:
    board = get_object_or_404(Board.objects.select_related("tenant"), slug=slug)
    if not access.user_can_view(request.user, board) or not may_control(request.user, board):
        raise PermissionDenied("You may not control this board's campaigns.")
    return board


def _campaign(board: Board, pk: int) -> Campaign:
    return get_object_or_404(campaigns_on(board).select_related("tenant"), pk=pk)


def _key(request: HttpRequest, form: Any) -> str | None:
    """The form's key, scoped to the user: nobody can replay another person's press."""
    raw = form.cleaned_data.get("key") or ""
    return f"{request.user.pk}:{raw}" if raw else None


def _tell(request: HttpRequest, outcome: services.Outcome) -> None:
    text = outcome.message + (" (a repeated submission: nothing was sent again)" if outcome.repeated else "")
    messages.add_message(request, LEVELS.get(outcome.outcome, messages.ERROR), text)


def _back(board: Board) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("campaigns:panel", args=[board.slug]))


@login_required
def panel(request: HttpRequest, slug: str, *, bound: dict[int, dict[str, Any]] | None = None, status: int = 200) -> HttpResponse:
    """Every campaign the board shows, with its state, buttons and forms."""
    board = _board(request, slug)
    zone = board.tenant.time_zone
    rows = []
    for campaign in campaigns_on(board):
        forms = (bound or {}).get(campaign.pk, {})
        rows.append({
            "campaign": campaign,
            "action_form": forms.get("action") or ActionForm(),
            "callback_form": forms.get("callback") or CallbackForm(zone=zone),
            "remove_form": forms.get("remove") or CustomerForm(),
        })
    context = {
        "board": board,
        "rows": rows,
        "zone": zone,
        "may_purge": may_purge(request.user, board),
        "user": request.user,
    }
    return render(request, "campaigns/panel.html", context, status=status)


@login_required
@require_POST
def action(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Run, Pause, Stop; Purge for administrators who typed the campaign's name."""
    board = _board(request, slug)
    campaign = _campaign(board, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return panel(request, slug, bound={campaign.pk: {"action": form}}, status=400)
    name = form.cleaned_data["action"]
    if name == "purge":
        if not may_purge(request.user, board):
            raise PermissionDenied("Only administrators may purge a campaign.")
        if form.cleaned_data.get("confirm", "").strip() != campaign.name:
            form.add_error("confirm", f"Type the campaign's name ({campaign.name}) to purge it.")
            return panel(request, slug, bound={campaign.pk: {"action": form}}, status=400)
    _tell(request, services.act(campaign.pk, name, user=request.user, key=_key(request, form)))
    return _back(board)


@login_required
@require_POST
def add_customer(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Add a customer, with a callback time in the tenant's zone checked before sending."""
    board = _board(request, slug)
    campaign = _campaign(board, pk)
    form = CallbackForm(request.POST, zone=board.tenant.time_zone)
    if not form.is_valid():
        return panel(request, slug, bound={campaign.pk: {"callback": form}}, status=400)
    outcome = services.add_callback(
        campaign.pk, form.cleaned_data["customer_id"], form.cleaned_data["at"], user=request.user, key=_key(request, form)
    )
    _tell(request, outcome)
    return _back(board)


@login_required
@require_POST
def remove_customer(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Remove a customer record 8x8 has not offered yet."""
    board = _board(request, slug)
    campaign = _campaign(board, pk)
    form = CustomerForm(request.POST)
    if not form.is_valid():
        return panel(request, slug, bound={campaign.pk: {"remove": form}}, status=400)
    outcome = services.remove_customer(campaign.pk, form.cleaned_data["customer_id"], user=request.user, key=_key(request, form))
    _tell(request, outcome)
    return _back(board)
