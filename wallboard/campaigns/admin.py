"""Admin: campaigns per tenant (with a Test action), control grants per board, the audit log (read-only)."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wallboard.boards.admin_base import AuditAdmin
from wallboard.campaigns import services
from wallboard.campaigns.models import Campaign, CampaignAction, CampaignGrant

log = logging.getLogger(__name__)


class CampaignForm(forms.ModelForm[Campaign]):
    blend_queue_ids = forms.CharField(
        label=_("Queues watched"),
        required=False,
        help_text=_("8x8 queue ids, separated by commas (e.g. 201, 202)."),
    )

    class Meta:
        model = Campaign
        fields = [
            "tenant", "campaign_id", "name", "boards",
            "blend_enabled", "blend_queue_ids", "blend_metric", "blend_threshold",
            "blend_breach_cycles", "blend_calm_cycles", "blend_min_dwell", "blend_dry_run",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.blend_queue_ids, list):
            self.initial["blend_queue_ids"] = ", ".join(self.instance.blend_queue_ids)

    def clean_blend_queue_ids(self) -> list[str]:
        text = self.cleaned_data.get("blend_queue_ids") or ""
        return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tenant, boards = cleaned.get("tenant"), cleaned.get("boards")
        if tenant is not None and boards:
            foreign = [b.title for b in boards if b.tenant_id != tenant.pk]
            if foreign:
                self.add_error("boards", f"These boards belong to another tenant: {', '.join(foreign)}.")
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    form = CampaignForm
    list_display = ["name", "campaign_id", "tenant", "state", "state_source", "state_by", "state_at", "blend_enabled"]
    list_filter = ["tenant", "state", "blend_enabled"]
    search_fields = ["name", "campaign_id"]
    filter_horizontal = ["boards"]
    actions = ["test_campaigns"]
    readonly_fields = ["state", "state_source", "state_by", "state_at"]
    fieldsets = [
        (None, {"fields": ["tenant", "campaign_id", "name", "boards"]}),
        (_("Last known state (8x8 has no call that reads it)"), {"fields": ["state", "state_source", "state_by", "state_at"]}),
        (_("Automatic blending"), {"fields": [
            "blend_enabled", "blend_queue_ids", "blend_metric", "blend_threshold",
            "blend_breach_cycles", "blend_calm_cycles", "blend_min_dwell", "blend_dry_run",
        ]}),
    ]

    @admin.action(description=_("Test against 8x8 (id, dynamic, action token; changes nothing)"), permissions=["change"])
    def test_campaigns(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset.select_related("tenant"):
            outcome = services.test_campaign(campaign.pk, user=request.user)
            log.info("campaign %s (id %s): tested by %r: %s", campaign.campaign_id, campaign.pk,
                     request.user.get_username(), outcome.outcome)
            level = messages.SUCCESS if outcome.ok else messages.ERROR
            self.message_user(request, f"{campaign}: {outcome.message}", level)


@admin.register(CampaignGrant)
class CampaignGrantAdmin(admin.ModelAdmin[CampaignGrant]):
    list_display = ["board"]
    filter_horizontal = ["users", "groups"]


@admin.register(CampaignAction)
class CampaignActionAdmin(AuditAdmin):
    """The audit log: read-only, never deleted from admin."""

    list_display = ["at", "actor", "campaign_label", "action", "detail", "outcome", "upstream_status", "latency_ms"]
    list_filter = ["outcome", "action", "actor"]
    search_fields = ["campaign_label", "actor", "detail"]
    date_hierarchy = "at"
    readonly_fields = fields = (
        "at", "actor", "user", "campaign", "campaign_label", "action", "detail", "outcome",
        "upstream_status", "upstream_answer", "latency_ms",
    )
