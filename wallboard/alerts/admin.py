"""Django admin: notification channels (with Send test), alert rules, the delivery log, announcements."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wallboard.alerts import announcements
from wallboard.alerts.models import (
    AlertEvent,
    AlertRule,
    Announcement,
    AnnouncementAudit,
    AnnouncementGrant,
    Delivery,
    NotificationChannel,
    validate_apprise_url,
)
from wallboard.alerts.outbox import record_test, send_to_channel
from wallboard.boards.admin_base import ReadOnlyAdmin
from wallboard.boards.crypto import UnreadableSecret

log = logging.getLogger(__name__)

CHANGE = ("change",)
TEST_TITLE = "Wallboard test notification"
TEST_BODY = "If you can read this, the wallboard's alerts reach this channel."


class AdminMedia:
    css = {"all": ["wallboard/css/admin.css"]}


# --- Channels -----------------------------------------------------------------------------------


class NotificationChannelForm(forms.ModelForm[NotificationChannel]):
    """The URL is write-only: never rendered back; left empty on edit keeps the stored one."""

    url = forms.CharField(
        label=_("Apprise URL"), required=False, max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 80}),
        help_text=_("e.g. slack://TokenA/TokenB/TokenC, msteams://…, mailtos://user:pass@example.com?to=ops@example.com, "
        "json://hooks.example.com/path. Stored encrypted and never shown again; leave empty to keep the current one."),
    )

    class Meta:
        model = NotificationChannel
        fields = ["name", "url", "enabled"]

    def clean_url(self) -> str:
        url = (self.cleaned_data.get("url") or "").strip()
        if url:
            validate_apprise_url(url)
            return url
        stored = self.instance.url if self.instance.pk else ""
        if stored and not isinstance(stored, UnreadableSecret):
            return str(stored)
        raise forms.ValidationError("Enter the channel's Apprise URL.")


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin[NotificationChannel]):
    form = NotificationChannelForm
    list_display = ["name", "redacted", "enabled", "last_delivery"]
    readonly_fields = ["redacted"]
    actions = ["send_test"]
    Media = AdminMedia

    @admin.display(description=_("URL (scheme and host only)"))
    def redacted(self, channel: NotificationChannel) -> str:
        if isinstance(channel.url, UnreadableSecret):
            return "unreadable with the current keys: enter it again"
        return channel.redacted if channel.url else "—"

    @admin.display(description=_("last delivery"))
    def last_delivery(self, channel: NotificationChannel) -> str:
        last = channel.deliveries.order_by("-created").first()
        if last is None:
            return "—"
        return f"{last.get_outcome_display()} {timezone.localtime(last.created):%Y-%m-%d %H:%M}: {last.detail}"[:200]

    @admin.action(description=_("Send test"), permissions=CHANGE)
    def send_test(self, request: HttpRequest, queryset: QuerySet[NotificationChannel]) -> None:
        for channel in queryset:
            result = send_to_channel(channel, TEST_TITLE, TEST_BODY)
            record_test(channel, result, TEST_TITLE)
            where = self.redacted(channel)
            log.info("channel %r (id %s): test sent by %r: %s", channel.name, channel.pk,
                     request.user.get_username(), result.detail)
            if result.ok:
                self.message_user(request, f"{channel} ({where}): test delivered.", messages.SUCCESS)
            else:
                self.message_user(request, f"{channel} ({where}): not delivered: {result.detail}", messages.ERROR)


# --- Rules and what they did ------------------------------------------------------------------


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin[AlertRule]):
    list_display = ["name", "board", "kind", "target_id", "metric", "level", "min_interval_minutes", "enabled"]
    list_filter = ["board", "kind", "enabled"]
    filter_horizontal = ["channels"]
    fieldsets = [
        (None, {"fields": ["board", "name", "kind", "channels", "enabled"]}),
        (_("Metric rules"), {"fields": ["target_id", "metric", "level"]}),
        (_("Feed rules"), {"fields": ["unhealthy_minutes"]}),
        (_("Flood control"), {"fields": ["min_interval_minutes"]}),
    ]
    Media = AdminMedia


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyAdmin):
    list_display = ["subject", "level", "started", "cleared", "notified", "clear_reason"]
    list_filter = ["rule__board", "notified"]
    readonly_fields = ["rule", "key", "subject", "detail", "level", "started", "cleared", "clear_reason", "notified", "created"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: event, channel, when, outcome."""

    list_display = ["created", "kind", "title", "channel", "outcome", "attempts", "detail"]
    list_filter = ["outcome", "kind", "channel"]
    readonly_fields = ["created", "kind", "channel", "event", "title", "body", "outcome", "attempts", "finished", "detail"]
    exclude = ["events", "notify_type"]
    date_hierarchy = "created"


# --- Announcements ----------------------------------------------------------------------------


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin[Announcement]):
    list_display = ["message", "severity", "starts", "ends", "status", "author"]
    list_filter = ["severity", "boards"]
    filter_horizontal = ["boards"]
    fields = ["boards", "message", "severity", "starts", "ends", "author", "ended_early"]
    readonly_fields = ["author", "ended_early"]
    actions = ["end_now"]
    Media = AdminMedia

    @admin.display(description=_("status"))
    def status(self, announcement: Announcement) -> str:
        now = timezone.now()
        if announcement.ended_early:
            return "ended early"
        if announcement.ends <= now:
            return "ended"
        return "showing" if announcement.starts <= now else "scheduled"

    def save_model(self, request: HttpRequest, obj: Announcement, form: Any, change: bool) -> None:
        if not change:
            obj.author_id = request.user.pk
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        announcements.saved(form.instance, request.user, created=not change)

    def delete_model(self, request: HttpRequest, obj: Announcement) -> None:
        boards = list(obj.boards.all())
        AnnouncementAudit.objects.create(announcement=None, action="delete", user_id=request.user.pk,
                                         boards=", ".join(b.slug for b in boards)[:500], message=obj.message)
        super().delete_model(request, obj)
        announcements.republish_boards(boards)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Announcement]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description=_("End now"), permissions=CHANGE)
    def end_now(self, request: HttpRequest, queryset: QuerySet[Announcement]) -> None:
        ended = [a for a in queryset if announcements.end_now(a, request.user)]
        self.message_user(request, f"Ended {len(ended)} announcement(s).", messages.SUCCESS)


@admin.register(AnnouncementGrant)
class AnnouncementGrantAdmin(admin.ModelAdmin[AnnouncementGrant]):
    list_display = ["board"]
    filter_horizontal = ["users", "groups"]


@admin.register(AnnouncementAudit)
class AnnouncementAuditAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "user", "boards", "message"]
    list_filter = ["action"]
    readonly_fields = ["at", "action", "user", "announcement", "boards", "message"]
