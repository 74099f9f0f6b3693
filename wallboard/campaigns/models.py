"""Campaigns a board shows and controls, who may control them, and the audit of every action."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from wallboard.boards.models import Board, Tenant

campaign_id_validator = RegexValidator(r"^\d{1,10}$", "The campaign id is a number (Configuration Manager → Campaigns).")

STATES = [
    ("unknown", "Unknown"),
    ("RUNNING", "Running"),
    ("PAUSED", "Paused"),
    ("STOPPED", "Stopped"),
    ("PURGED", "Purged"),
]
# Where the last known state comes from: 8x8 has no call that reads a campaign's state.
SOURCES = [
    ("none", "Not set from the wallboard yet"),
    ("person", "Set from the wallboard by a person"),
    ("automatic", "Set by automatic blending"),
    ("uncertain", "Last change's answer was lost: check in 8x8"),
]
BLEND_METRICS = [("queue_size", "Waiting (sum over the queues)"), ("longest_wait_time", "Longest wait in s (max)")]
AUTOMATIC = "automatic"


class Campaign(models.Model):
    """An 8x8 Dynamic Campaign of a tenant, the boards that show it, and its blending rule."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="campaigns")
    campaign_id = models.CharField(_("8x8 campaign id"), max_length=10, validators=[campaign_id_validator])
    name = models.CharField(max_length=100)
    boards = models.ManyToManyField(Board, blank=True, related_name="campaigns", help_text=_("Boards that show it."))
    # What the wallboard last did to it (not read from 8x8: there is no such call).
    state = models.CharField(_("last known state"), max_length=10, choices=STATES, default="unknown")
    state_source = models.CharField(_("state comes from"), max_length=10, choices=SOURCES, default="none")
    state_by = models.CharField(_("set by"), max_length=150, blank=True)
    state_at = models.DateTimeField(_("set at"), null=True, blank=True)
    # Automatic blending (opt-in): pause when the named queues breach, resume when calm.
    blend_enabled = models.BooleanField(_("automatic blending"), default=False)
    blend_queue_ids = models.JSONField(_("queues watched"), default=list, blank=True, help_text=_("8x8 queue ids."))
    blend_metric = models.CharField(_("measure"), max_length=20, choices=BLEND_METRICS, default="queue_size")
    blend_threshold = models.PositiveIntegerField(_("threshold"), default=10, help_text=_("Breach at or above this."))
    blend_breach_cycles = models.PositiveIntegerField(
        _("pause after (cycles)"), default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    blend_calm_cycles = models.PositiveIntegerField(
        _("resume after (cycles)"), default=6, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    blend_min_dwell = models.PositiveIntegerField(
        _("minimum dwell (s)"), default=300, validators=[MaxValueValidator(86400)],
        help_text=_("No automatic change sooner than this after the last change, so it never flaps."),
    )
    blend_dry_run = models.BooleanField(
        _("dry run"), default=False, help_text=_("Only log and audit what blending would do; 8x8 is not called.")
    )
    # Blending's memory between cycles.
    blend_breaches = models.PositiveIntegerField(default=0, editable=False)
    blend_calm = models.PositiveIntegerField(default=0, editable=False)
    blend_auto_paused = models.BooleanField(default=False, editable=False)  # the pause in force is blending's
    blend_hold = models.BooleanField(default=False, editable=False)  # a person paused it: never auto-resume
    blend_dry_state = models.CharField(max_length=10, blank=True, editable=False)  # what a dry run pretends
    blend_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tenant__name", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "campaign_id"], name="unique_campaign_per_tenant")]
        permissions = [("purge_campaign", "Can purge a campaign (deletes its records in 8x8)")]

    def __str__(self) -> str:
        return f"{self.name} ({self.campaign_id})"

    def clean(self) -> None:
        ids = self.blend_queue_ids
        if not isinstance(ids, list) or not all(isinstance(q, str) and q.strip() for q in ids):
            raise ValidationError({"blend_queue_ids": "A list of queue ids, e.g. [\"201\", \"202\"]."})
        if self.blend_enabled and not ids:
            raise ValidationError({"blend_queue_ids": "Name the queues blending watches."})


class CampaignGrant(models.Model):
    """Who may control the campaigns a board shows (users and groups), per board."""

    board = models.OneToOneField(Board, on_delete=models.CASCADE, related_name="campaign_grant")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="campaign_grants")
    groups = models.ManyToManyField(Group, blank=True, related_name="campaign_grants")

    class Meta:
        verbose_name = "campaign control grant"

    def __str__(self) -> str:
        return f"May control campaigns on {self.board}"


class CampaignAction(models.Model):
    """One action on a campaign, by a person or by blending, and 8x8's answer. Never edited."""

    OUTCOMES = [
        ("ok", "Done"),
        ("partial", "Partly done"),
        ("refused", "Refused by 8x8"),
        ("error", "Failed"),
        ("unknown", "Unknown: check in 8x8"),
        ("dry_run", "Dry run (not sent)"),
    ]

    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, related_name="actions")
    campaign_label = models.CharField(max_length=200)  # kept when the campaign is deleted
    actor = models.CharField("who", max_length=150)  # a user name, or "automatic"
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField("when", auto_now_add=True, db_index=True)
    action = models.CharField(max_length=20)  # run, pause, stop, purge, add_customer, remove_customer, test
    detail = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    upstream_status = models.PositiveIntegerField("HTTP status", null=True, blank=True)
    upstream_answer = models.TextField("8x8's answer", blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "campaign audit entry"
        verbose_name_plural = "campaign audit log"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor}: {self.action} {self.campaign_label} ({self.outcome})"
