"""Alert channels, rules, events and deliveries; announcements, who may make them, and their audit.

Channels are Apprise URLs, stored encrypted: the URL *is* the secret (a Slack webhook path, an
SMTP password). Only `redacted` (scheme and host) is ever shown. An AlertEvent row is the
claim on one occurrence of a rule's condition: at most one open event per rule and key (a
partial unique index), so two evaluators of the same cycle cannot both announce it.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wallboard.alerts.apprise_urls import redact, url_problem
from wallboard.boards.crypto import EncryptedTextField
from wallboard.boards.models import QUEUE_METRICS, Board


def validate_apprise_url(value: str) -> None:
    """Apprise must understand the URL; the message never repeats it (it holds secrets)."""
    problem = url_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_apprise_url")


class NotificationChannel(models.Model):
    """Where alerts go: one Apprise URL (Slack, Teams, mailto, json webhook, ...)."""

    name = models.CharField(max_length=100, unique=True)
    url = EncryptedTextField(
        _("Apprise URL"), validators=[validate_apprise_url],
        help_text=_("e.g. slack://…, msteams://…, mailtos://user:pass@example.com, json://host/path. "
        "Stored encrypted; never shown again."),
    )
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def redacted(self) -> str:
        """What admin shows of the URL: its scheme and host, nothing that may be a secret."""
        return redact(self.url)


class AlertRule(models.Model):
    """When a board sends alerts, and to which channels."""

    KINDS = [
        ("metric", "Queue or group metric reaches a level"),
        ("feed", "Tenant's 8x8 feed unhealthy"),
        ("schedule", "Schedule disagrees with 8x8"),
    ]
    LEVELS = [("alert", "Alert (red)"), ("warn", "Warn (amber) or worse")]

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=KINDS, default="metric")
    target_id = models.CharField(
        _("queue or group"), max_length=64, blank=True,
        help_text=_("A queue id, or a group tile's id (g<number>); empty: every queue and group on the board."),
    )
    metric = models.CharField(
        max_length=40, choices=QUEUE_METRICS, blank=True, help_text=_("Empty: any metric with a threshold.")
    )
    level = models.CharField(max_length=5, choices=LEVELS, default="alert")
    unhealthy_minutes = models.PositiveIntegerField(
        _("unhealthy for (minutes)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text=_("Feed rules: how long the feed must be unhealthy before the alert is sent."),
    )
    min_interval_minutes = models.PositiveIntegerField(
        _("minimum interval (minutes)"), default=10, validators=[MaxValueValidator(1440)],
        help_text=_("A new alert of this rule starting sooner than this after the last one is recorded but not sent."),
    )
    channels = models.ManyToManyField(NotificationChannel, related_name="rules")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["board", "name"]

    def __str__(self) -> str:
        return f"{self.board}: {self.name}"

    def clean(self) -> None:
        """A metric rule's queue or group must be on its board (or empty: all of them)."""
        if self.kind != "metric" or not self.target_id or not self.board_id:
            return
        queues = set(self.board.queues.values_list("queue_id", flat=True))
        groups = {f"g{pk}" for pk in self.board.queue_groups.values_list("pk", flat=True)}
        if self.target_id not in queues | groups:
            choices = ", ".join(sorted(queues | groups)[:20]) or "none yet"
            raise ValidationError({"target_id": f"Not a queue or group on this board (on it: {choices})."})


class AlertEvent(models.Model):
    """One occurrence of a rule's condition, from start to clear: the claim that it is announced once."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=200, help_text=_("What the condition is about: target and metric, tenant, schedule."))
    subject = models.CharField(max_length=300)
    detail = models.CharField(max_length=300, blank=True, help_text=_("What was seen when it started."))
    level = models.CharField(max_length=20, blank=True, help_text=_("The level or health state seen (as long as TenantHealth.state)."))
    started = models.DateTimeField()
    cleared = models.DateTimeField(null=True, blank=True)
    clear_reason = models.CharField(max_length=100, blank=True)
    notified = models.BooleanField(default=True, help_text=_("False: within the rule's minimum interval; not sent."))
    created = models.DateTimeField(default=timezone.now, help_text=_("When the poller noticed it (the minimum interval counts from here)."))

    class Meta:
        ordering = ["-started"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], condition=Q(cleared__isnull=True), name="one_open_event_per_rule_key")
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def duration_seconds(self) -> int | None:
        return int((self.cleared - self.started).total_seconds()) if self.cleared else None


class Delivery(models.Model):
    """One message to one channel: what it was about, when, and how it went."""

    KINDS = [("start", "Started"), ("clear", "Cleared"), ("digest", "Digest"), ("test", "Test")]
    OUTCOMES = [("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"), ("retrying", "Retrying"),
                ("failed", "Failed")]

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(AlertEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    events = models.ManyToManyField(AlertEvent, blank=True, related_name="digests")
    kind = models.CharField(max_length=6, choices=KINDS)
    title = models.CharField(max_length=300)
    body = models.TextField()
    notify_type = models.CharField(max_length=10, default="info")
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=OUTCOMES, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=500, blank=True)
    sending_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the current attempt was claimed (outcome sending)."
    )

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.channel}: {self.title}"


class Announcement(models.Model):
    """A short message for the people in front of one or more boards, between two times."""

    SEVERITIES = [("info", "Information"), ("warning", "Warning"), ("critical", "Critical")]

    boards = models.ManyToManyField(Board, related_name="announcements")
    message = models.CharField(max_length=280)
    severity = models.CharField(max_length=8, choices=SEVERITIES, default="info")
    starts = models.DateTimeField(default=timezone.now)
    ends = models.DateTimeField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    ended_early = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-starts"]

    def __str__(self) -> str:
        return self.message[:60]

    def clean(self) -> None:
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": "The end must be after the start."})

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.ended_early is None and self.starts <= now < self.ends


class AnnouncementGrant(models.Model):
    """Lets users or groups put announcements on one board (administrators may on any)."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="announcement_grants")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="announcement_grants")
    groups = models.ManyToManyField(Group, blank=True, related_name="announcement_grants")

    class Meta:
        verbose_name = "announcement right"
        constraints = [models.UniqueConstraint(fields=["board"], name="one_announcement_grant_per_board")]

    def __str__(self) -> str:
        return f"Who may announce on {self.board}"


class AnnouncementAudit(models.Model):
    """Who created, changed or ended which announcement, and when."""

    ACTIONS = [("create", "Created"), ("change", "Changed"), ("end", "Ended early"), ("delete", "Deleted")]

    announcement = models.ForeignKey(Announcement, null=True, on_delete=models.SET_NULL, related_name="audit")
    action = models.CharField(max_length=6, choices=ACTIONS)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    boards = models.CharField(max_length=500)
    message = models.CharField(max_length=280)

    class Meta:
        ordering = ["-at"]
        verbose_name = "announcement audit entry"
        verbose_name_plural = "announcement audit"

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.user or 'unknown'} at {self.at:%Y-%m-%d %H:%M}"
