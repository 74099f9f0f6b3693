"""Automatic blending: pause an outbound campaign while inbound queues breach, resume when calm.

Per opted-in campaign, once per poll cycle: the watched queues' waiting calls (summed) or
longest wait (the highest) is compared with the threshold. K breaching cycles in a row pause
a campaign known to be RUNNING; M calm cycles in a row run again a campaign that blending
itself paused. No automatic change comes sooner than the minimum dwell after the last change
of either kind, so it never flaps. A person's action wins: a manual pause is never resumed
automatically until a person runs the campaign again. In dry-run mode nothing is sent: the
decision is logged and audited, and blending carries on as if it had been carried out.

"Once per cycle" holds across workers: the first to claim (tenant, cycle number) in Redis
evaluates it, any other poll of the same cycle (a second worker, a phase-lock relook) skips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from wallboard.boards.models import Tenant
from wallboard.campaigns import services
from wallboard.campaigns.models import Campaign
from wallboard.live.redis import get_redis

log = logging.getLogger(__name__)

CLAIM_TTL_SECONDS = 3600


def claim_key(tenant_id: int, cycle: int) -> str:
    return f"wb:campaigns:blend:{tenant_id}:{cycle}"


def cycle_number(tenant: Tenant, at: datetime) -> int:
    """Which poll cycle a moment belongs to: its poll interval's window."""
    return int(at.timestamp() // max(1, tenant.poll_interval))


def claim_cycle(tenant: Tenant, at: datetime) -> bool:
    """True for the one caller that gets to evaluate this tenant's cycle (SET NX)."""
    key = claim_key(tenant.pk, cycle_number(tenant, at))
    return bool(get_redis().set(key, "1", nx=True, ex=CLAIM_TTL_SECONDS))


def measure(campaign: Campaign, queues: Mapping[str, Any]) -> int | None:
    """The watched queues' value this cycle; None when 8x8 returned none of them."""
    values = [getattr(queues[q], campaign.blend_metric, None) for q in campaign.blend_queue_ids if q in queues]
    numbers = [int(v) for v in values if isinstance(v, int | float)]
    if not numbers:
        return None
    return max(numbers) if campaign.blend_metric == "longest_wait_time" else sum(numbers)


def run_blending(tenant: Tenant, queues: Mapping[str, Any], at: datetime) -> list[tuple[str, str]]:
    """Evaluate every opted-in campaign of the tenant for this cycle; return (campaign id, action) done."""
    campaigns = list(Campaign.objects.filter(tenant=tenant, blend_enabled=True).values_list("pk", flat=True))
    if not campaigns or not claim_cycle(tenant, at):
        return []
    return [done for pk in campaigns for done in _evaluate(pk, queues, at)]


def _evaluate(pk: int, queues: Mapping[str, Any], at: datetime) -> Iterable[tuple[str, str]]:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=pk)
        value = measure(campaign, queues)
        if value is None:
            return []
        want = _decide(campaign, value, at)
        if want is not None and campaign.blend_dry_run:
            _pretend(campaign, want, value, at)
            want = None
        campaign.save()
    if want is None:
        return []
    note = _note(campaign, want, value)
    log.info("campaign %s (id %s): blending: %s", campaign.campaign_id, pk, note)
    outcome = services.act(pk, want, user=None, note=note, at=at)
    return [(campaign.campaign_id, f"{want}: {outcome.outcome}")]


def _decide(campaign: Campaign, value: int, at: datetime) -> str | None:
    """Count this cycle and say what to do: "pause", "run" or nothing."""
    if value >= campaign.blend_threshold:
        campaign.blend_breaches += 1
        campaign.blend_calm = 0
    else:
        campaign.blend_calm += 1
        campaign.blend_breaches = 0
    state = campaign.blend_dry_state if campaign.blend_dry_run and campaign.blend_dry_state else campaign.state
    changed = campaign.blend_changed_at
    if changed is not None and (at - changed).total_seconds() < campaign.blend_min_dwell:
        return None
    if state == "RUNNING" and campaign.blend_breaches >= campaign.blend_breach_cycles:
        return "pause"
    if (
        state == "PAUSED"
        and campaign.blend_auto_paused
        and not campaign.blend_hold
        and campaign.blend_calm >= campaign.blend_calm_cycles
    ):
        return "run"
    return None


def _pretend(campaign: Campaign, want: str, value: int, at: datetime) -> None:
    """Dry run: audit the decision and carry on as if it had been made."""
    note = _note(campaign, want, value)
    log.info("campaign %s (id %s): blending dry run: would %s", campaign.campaign_id, campaign.pk, note)
    campaign.blend_dry_state = services.ACTIONS[want]
    campaign.blend_auto_paused = want == "pause"
    campaign.blend_changed_at = at
    campaign.blend_breaches = campaign.blend_calm = 0
    services.record_dry_run(campaign, want, note)


def _note(campaign: Campaign, want: str, value: int) -> str:
    measure_name = "waiting" if campaign.blend_metric == "queue_size" else "longest wait"
    if want == "pause":
        cycles = f"{campaign.blend_breaches} cycles"
        return f"pause: {measure_name} {value} ≥ {campaign.blend_threshold} for {cycles}"
    return f"run: {measure_name} {value} < {campaign.blend_threshold} for {campaign.blend_calm} cycles"
