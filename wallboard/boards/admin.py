"""Django admin: where administrators configure tenants, boards and displays (no code, no YAML)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from wallboard.boards import forms, tod_admin  # noqa: F401 - tod_admin registers the ContactNow admin (issue 16)
from wallboard.boards.crypto import unreadable_fields, unreadable_message
from wallboard.boards.models import (
    Board,
    BoardAgentGroup,
    BoardQueue,
    Display,
    DisplayBoard,
    QueueGroup,
    Tenant,
    TenantHealth,
    Threshold,
)
from wallboard.boards.secret_fields import secret_status
from wallboard.boards.selectors import rows_with_missing_schedules
from wallboard.live import displays as display_actions
from wallboard.polling.catalogue import get_catalogue
from wallboard.polling.connection import test_tenant_connection

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec  # the stubs' name for what get_fieldsets returns

log = logging.getLogger(__name__)
_Row = TypeVar("_Row", bound=Model)  # the model of one inline row

# Every action changes something (a token, a rotation, a screen, the catalogue) or calls 8x8:
# Django offers an action to anyone who may view the list unless it names a permission.
CHANGE = ("change",)


def _named(kind: str, obj: Tenant | Display) -> str:
    """How log lines name what an action changed: its name (quoted: typed by people) and its id."""
    return f"{kind} {obj.name!r} (id {obj.pk})"


def _log_action(request: HttpRequest, what: str, done: str, detail: str = "") -> None:
    """One INFO line per thing an administrator changed or tried, saying who did it."""
    log.info("%s: %s by %r%s", what, done, request.user.get_username(), f"; {detail}" if detail else "")


def _reach(display: Display, unreached: list[Display]) -> str:
    return "its screens could not be told live" if display in unreached else "its screens were told live"


class AdminMedia:
    """The admin stylesheet that keeps long (untrusted) names from widening the forms."""

    css = {"all": ["wallboard/css/admin.css"]}


# --- Tenants ----------------------------------------------------------------------------------


UNREADABLE_STATE = dict(TenantHealth.STATES)["unreadable_secret"]


def _health(tenant: Tenant) -> TenantHealth | None:
    try:
        return tenant.health
    except TenantHealth.DoesNotExist:
        return None


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    form = forms.TenantForm
    list_display = ["name", "tenant_name", "base_url", "enabled", "health_state", "last_success", "latency"]
    list_filter = ["enabled"]
    search_fields = ["name", "tenant_name"]
    actions = ["test_connection"]
    readonly_fields = ["health_summary", "token_status", "api_key_status", "action_token_status", "analytics_secret_status"]
    fieldsets = [
        (None, {"fields": ["name", "base_url", "tenant_name", "token", "api", "api_key"]}),
        (_("Campaign control"), {"fields": ["action_token"]}),
        (_("Statistics source"), {"fields": [
            "source", "analytics_client_id", "analytics_client_secret", "analytics_region",
            "analytics_tenant_info", "analytics_base_url",
        ]}),
        (_("Polling"), {"fields": ["time_zone", "response_format", "poll_interval", "schedule_refresh_interval", "enabled"]}),
        (_("Health"), {"fields": ["health_summary"]}),
    ]
    Media = AdminMedia

    def get_fieldsets(self, request: HttpRequest, obj: Tenant | None = None) -> _FieldsetSpec:
        """Without the change permission an existing tenant's fields are shown read-only, as values.

        The token's and API key's values are decrypted secrets, so a viewer gets placeholders instead.
        """
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):  # the add page is always a form
            return fieldsets
        secrets = {"token": "token_status", "api_key": "api_key_status", "action_token": "action_token_status",
                   "analytics_client_secret": "analytics_secret_status"}
        return [
            (name, {**options, "fields": [secrets.get(f, f) if isinstance(f, str) else f for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return super().get_queryset(request).select_related("health")

    @admin.display(description=_("state"))
    def health_state(self, tenant: Tenant) -> str:
        # Said from the row itself, not the poller's health: true before the next poll, and
        # for a disabled tenant too.
        unreadable = unreadable_fields(tenant)
        if unreadable:
            return f"{UNREADABLE_STATE} — {unreadable_message(unreadable)}"
        health = _health(tenant)
        return health.get_state_display() if health else "Pending"

    @admin.display(description=_("last success"))
    def last_success(self, tenant: Tenant) -> datetime | str:
        health = _health(tenant)
        return health.last_success if health and health.last_success else "never"

    @admin.display(description=_("latency"))
    def latency(self, tenant: Tenant) -> str:
        health = _health(tenant)
        return f"{health.latency_ms} ms" if health and health.latency_ms is not None else "–"

    @admin.display(description=_("polling"))
    def health_summary(self, tenant: Tenant) -> str:
        health = _health(tenant) if tenant.pk else None
        if health is None:
            return "Not polled yet."
        text = f"{health.get_state_display()} since {health.since:%Y-%m-%d %H:%M:%S %Z}"
        if health.message:
            text += f" — {health.message}"
        return text

    @admin.display(description=_("data request token"))
    def token_status(self, tenant: Tenant) -> str:
        return secret_status(tenant, "token")

    @admin.display(description=_("API key"))
    def api_key_status(self, tenant: Tenant) -> str:
        return secret_status(tenant, "api_key", optional=True)

    @admin.display(description=_("Analytics API secret"))
    def analytics_secret_status(self, tenant: Tenant) -> str:
        return secret_status(tenant, "analytics_client_secret", optional=True)

    @admin.display(description=_("action token"))
    def action_token_status(self, tenant: Tenant) -> str:
        return secret_status(tenant, "action_token", optional=True)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Tenant | None = None,
    ) -> HttpResponse:
        """Warn at the top of the page about secrets that must be typed again.

        The field's own help says it too, but a viewer sees no field, and the top of the page
        is where an administrator looks first after a key change.
        """
        unreadable = unreadable_fields(obj) if obj is not None and obj.pk else []
        if unreadable:
            self.message_user(request, f"{obj}: {unreadable_message(unreadable)}.", messages.WARNING)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description=_("Test connection (agents, queues, schedules)"), permissions=CHANGE)
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            ok, message = test_tenant_connection(tenant)
            _log_tested(request, tenant, message)
            self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.test_connection_view)
        return [path("<int:pk>/test-connection/", view, name="boards_tenant_test_connection")] + super().get_urls()

    def test_connection_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The change page's "Test connection" button (POST only: it calls 8x8 and fills the catalogue)."""
        # Permission first, so a user who may not change tenants cannot probe which ids exist.
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        tenant = get_object_or_404(Tenant, pk=pk)
        if not self.has_change_permission(request, tenant):
            raise PermissionDenied
        ok, message = test_tenant_connection(tenant)
        _log_tested(request, tenant, message)
        self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)
        return HttpResponseRedirect(reverse("admin:boards_tenant_change", args=[pk]))


def _log_tested(request: HttpRequest, tenant: Tenant, message: str) -> None:
    _log_action(request, _named("tenant", tenant), "connection tested", message.removeprefix(f"{tenant}: "))


# --- Boards -----------------------------------------------------------------------------------


class CatalogueInline(admin.TabularInline[_Row, Board]):
    extra = 0


class BoardQueueInline(CatalogueInline[BoardQueue]):
    model = BoardQueue
    form = forms.BoardQueueForm
    formset = forms.BoardQueueFormSet
    verbose_name = "queue"
    verbose_name_plural = _("Queues (and the schedule each one follows)")


class QueueGroupInline(CatalogueInline[QueueGroup]):
    model = QueueGroup
    form = forms.QueueGroupForm
    verbose_name_plural = _("Queue groups (several queues shown as one tile)")


class BoardAgentGroupInline(CatalogueInline[BoardAgentGroup]):
    model = BoardAgentGroup
    form = forms.BoardAgentGroupForm
    formset = forms.BoardAgentGroupFormSet
    verbose_name_plural = _("Agent groups (none: every agent)")


class ThresholdInline(CatalogueInline[Threshold]):
    model = Threshold
    form = forms.ThresholdForm
    formset = forms.ThresholdFormSet


# One catalogue per request: every inline and the page's warnings read the same one. Keyed by
# the request itself (the admin instance serves every request), gone with it.
_request_catalogues: WeakKeyDictionary[HttpRequest, forms.Catalogue] = WeakKeyDictionary()


def catalogue_for(tenant: Tenant | None, board: Board | None) -> forms.Catalogue:
    """The tenant's last catalogue, plus the ids this board already uses (same tenant only)."""
    if tenant is None:
        return forms.Catalogue(None)
    try:
        data = get_catalogue(tenant.pk)
    except Exception:  # Redis down: admin still works, with plain text inputs
        log.warning("catalogue of tenant %s unavailable", tenant.pk, exc_info=True)
        data = None
    catalogue = forms.Catalogue(data, tenant.name)
    if board is not None and board.pk and board.tenant_id == tenant.pk:
        catalogue.saved_queues = _saved_queue_ids(board)
        catalogue.saved_schedules = set(board.queues.exclude(schedule_id="").values_list("schedule_id", flat=True))
        catalogue.saved_groups = set(board.agent_groups.values_list("group_id", flat=True))
    return catalogue


def _saved_queue_ids(board: Board) -> set[str]:
    ids = set(board.queues.values_list("queue_id", flat=True))
    ids |= set(board.thresholds.exclude(queue_id="").values_list("queue_id", flat=True))
    for queue_ids in [*board.queue_groups.values_list("queue_ids", flat=True),
                      *board.agent_groups.values_list("queue_ids", flat=True)]:
        ids |= {q for q in queue_ids or [] if isinstance(q, str)}
    return ids


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin[Board]):
    form = forms.BoardForm
    inlines = [BoardQueueInline, QueueGroupInline, BoardAgentGroupInline, ThresholdInline]
    list_display = ["title", "slug", "tenant", "queue_count", "preview"]
    list_filter = ["tenant"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["viewers", "viewer_groups"]
    readonly_fields = ["preview"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "tenant", "preview"]}),
        (_("Layout"), {"fields": ["theme", "palette", "language", "queue_metrics", "show_agents", "hide_logged_out", "mute_when_closed", "page_seconds"]}),
        (_("Agent performance"), {"fields": ["leaderboard", "leaderboard_size", "leaderboard_min_count",
                                          "show_occupancy", "show_day_totals"],
                               "description": "Tiles from the agents' day figures 8x8 already sends (docs/admin.md)."}),
        (_("Who may see it"), {"fields": ["viewers", "viewer_groups"],
                            "description": "Supervisors see only boards granted to them or to one of their groups; staff see all."}),
    ]
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Board]:
        return super().get_queryset(request).select_related("tenant")

    def view_on_site(self, board: Board) -> str:
        return reverse("boards:supervisor", args=[board.slug])

    @admin.display(description=_("queues"))
    def queue_count(self, board: Board) -> int:
        return board.queues.count()

    @admin.display(description=_("preview"))
    def preview(self, board: Board) -> str:
        if not board.pk:
            return "Save the board to preview it."
        links = [
            (reverse("boards:supervisor", args=[board.slug]), "supervisor view"),
            (reverse("boards:kiosk_preview", args=[board.slug]), "TV layout"),
        ]
        return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener">{}</a>', links)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        initial = super().get_changeform_initial_data(request)
        if "tenant" not in initial:
            tenants = list(Tenant.objects.values_list("pk", flat=True)[:2])
            if len(tenants) == 1:
                initial["tenant"] = str(tenants[0])  # as ?tenant=<pk> would give it
        return initial

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Board, inline: InlineModelAdmin[Any, Board], prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        kwargs["form_kwargs"] = {**kwargs.get("form_kwargs", {}), "catalogue": self._catalogue(request, obj)}
        return kwargs

    def _catalogue(self, request: HttpRequest, obj: Board | None) -> forms.Catalogue:
        """One catalogue per request: every inline and the page's warnings read the same one."""
        catalogue = _request_catalogues.get(request)
        if catalogue is None:
            catalogue = _request_catalogues[request] = catalogue_for(self._tenant(request, obj), obj)
        return catalogue

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Board | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            self._warn_missing_schedules(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _warn_missing_schedules(self, request: HttpRequest, board: Board) -> None:
        """Say which queues follow a schedule 8x8 no longer lists: they look unscheduled otherwise."""
        catalogue = self._catalogue(request, board)
        if board.tenant_id != getattr(self._tenant(request, board), "pk", None):
            return  # the form is switching tenants: its own validation speaks for the rows
        for row in rows_with_missing_schedules(board, catalogue.schedules):
            name = forms.shorten(row.label or catalogue.queues.get(row.queue_id) or row.queue_id)
            messages.warning(
                request,
                f"Queue “{name}” follows schedule {row.schedule_id}, which 8x8 no longer lists: "
                "its open/closed state is unknown. Choose another schedule or “No schedule”.",
            )

    def _tenant(self, request: HttpRequest, obj: Board | None) -> Tenant | None:
        """The tenant the board is (being) set up for: the form's choice wins over the saved one."""
        data = request.POST if request.method == "POST" else request.GET
        raw = data.get("tenant", "")
        if raw.isdigit():
            tenant = Tenant.objects.filter(pk=int(raw)).first()
            if tenant is not None:
                return tenant
        if obj is not None and obj.pk:
            return obj.tenant
        tenants = list(Tenant.objects.all()[:2])
        return tenants[0] if len(tenants) == 1 else None


# --- Displays ---------------------------------------------------------------------------------


class DisplayBoardInline(admin.TabularInline[DisplayBoard, Display]):
    model = DisplayBoard
    extra = 1
    min_num = 0
    verbose_name = "board"
    verbose_name_plural = _("Boards shown (one: that board; several: a rotation, seconds each)")


def kiosk_url(request: HttpRequest, token: str) -> str:
    """The URL a TV opens once: it swaps the token for a cookie and lands on /kiosk/."""
    return request.build_absolute_uri(reverse("boards:display", args=[token]))


def _names(displays: list[Display]) -> str:
    return ", ".join(d.name for d in displays)


# The URL save_model() issued, for response_add() to show once: per request, as the catalogue.
_request_issued: WeakKeyDictionary[HttpRequest, list[tuple[Display, str]]] = WeakKeyDictionary()


@admin.register(Display)
class DisplayAdmin(admin.ModelAdmin[Display]):
    form = forms.DisplayForm
    inlines = [DisplayBoardInline]
    list_display = ["name", "boards", "status", "last_seen", "ip", "short_user_agent"]
    search_fields = ["name"]
    readonly_fields = ["status", "created", "revoked", "last_seen", "user_agent", "ip"]
    fields = ["name", "expires", "status", "created", "revoked", "last_seen", "user_agent", "ip"]
    actions = ["issue_new_url", "revoke", "reload_now", "switch_board"]
    Media = AdminMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Display]:
        return super().get_queryset(request).prefetch_related("rotation__board")

    @admin.display(description=_("boards"))
    def boards(self, display: Display) -> str:
        slots = list(display.rotation.all())
        if not slots:
            return "—"
        if len(slots) == 1:
            return slots[0].board.title
        return ", ".join(f"{s.board.title} ({s.seconds} s)" for s in slots)

    @admin.display(description=_("status"))
    def status(self, display: Display) -> str:
        if not display.pk:
            return "A URL is shown once after saving."
        if display.revoked:
            return f"Revoked {display.revoked:%Y-%m-%d %H:%M}"
        if not display.is_active:
            return "Expired"
        return "Active"

    @admin.display(description=_("user agent"))
    def short_user_agent(self, display: Display) -> str:
        return display.user_agent[:60]

    def save_model(self, request: HttpRequest, obj: Display, form: ModelForm[Display], change: bool) -> None:
        issued = not obj.token_hash
        if issued:
            _request_issued[request] = [(obj, obj.issue_token())]
        super().save_model(request, obj, form, change)
        if issued:
            _log_action(request, _named("display", obj), "URL issued")

    def response_add(self, request: HttpRequest, obj: Display, post_url_continue: str | None = None) -> HttpResponse:
        issued = _request_issued.get(request)
        if issued:
            return self._issued_page(request, issued)
        return super().response_add(request, obj, post_url_continue)

    def _issued_page(self, request: HttpRequest, issued: list[tuple[Display, str]]) -> TemplateResponse:
        """Show freshly issued URLs once; only their hashes are stored, so this is the only time."""
        context = {
            **self.admin_site.each_context(request),
            "title": "Display URLs",
            "opts": self.opts,
            "issued": [{"display": display, "url": kiosk_url(request, token)} for display, token in issued],
        }
        response = TemplateResponse(request, "admin/boards/display/issued_urls.html", context)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    @admin.action(description=_("Issue new URL (the old one stops working)"), permissions=CHANGE)
    def issue_new_url(self, request: HttpRequest, queryset: QuerySet[Display]) -> TemplateResponse:
        issued = display_actions.issue_new_urls(queryset)
        for display, _url in issued:
            _log_action(request, _named("display", display), "new URL issued (the old one stops working)")
        return self._issued_page(request, issued)

    @admin.action(description=_("Revoke (screens disconnect at once)"), permissions=CHANGE)
    def revoke(self, request: HttpRequest, queryset: QuerySet[Display]) -> None:
        displays = list(queryset)
        unreached = display_actions.revoke_displays(displays)
        for display in displays:
            _log_action(request, _named("display", display), "revoked", _reach(display, unreached))
        self.message_user(request, f"Revoked {len(displays)} display(s).", messages.SUCCESS)
        if unreached:
            self.message_user(
                request,
                f"Could not reach {_names(unreached)} live; they disconnect within one poll cycle.",
                messages.WARNING,
            )

    @admin.action(description=_("Reload now"), permissions=CHANGE)
    def reload_now(self, request: HttpRequest, queryset: QuerySet[Display]) -> None:
        displays = list(queryset)
        unreached = [d for d in displays if not display_actions.send_control(d, "reload")]
        for display in displays:
            _log_action(request, _named("display", display), "asked to reload", _reach(display, unreached))
        self._report_unreached(request, unreached)
        self.message_user(request, f"Asked {len(displays) - len(unreached)} display(s) to reload.", messages.SUCCESS)

    def _report_unreached(self, request: HttpRequest, unreached: list[Display]) -> None:
        if unreached:
            self.message_user(request, f"Could not reach {_names(unreached)}: live updates are down.", messages.ERROR)

    @admin.action(description=_("Switch board…"), permissions=CHANGE)
    def switch_board(self, request: HttpRequest, queryset: QuerySet[Display]) -> TemplateResponse | None:
        """Ask for a board, then make it each selected display's only board and tell the TVs."""
        form = forms.SwitchBoardForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            board = form.cleaned_data["board"]
            displays = list(queryset)
            unreached = display_actions.switch_displays(displays, board, form.cleaned_data.get("seconds") or 60)
            for display in displays:
                _log_action(request, _named("display", display), f"switched to board {board.slug!r}", _reach(display, unreached))
            self._report_unreached(request, unreached)
            reached = len(displays) - len(unreached)
            self.message_user(request, f"Switched {len(displays)} display(s) to “{board}” ({reached} told live).")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Switch board",
            "opts": self.opts,
            "form": form,
            "displays": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/boards/display/switch_board.html", context)
