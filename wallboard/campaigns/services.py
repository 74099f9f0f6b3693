"""Campaign actions: run, pause, stop, purge, add a callback, remove a customer; each audited.

Every action on a campaign goes through `_perform`: one at a time per campaign (a Redis lock
across processes), a double submit answered from the audit log instead of calling 8x8 again
(the form's idempotency key), 8x8 called once and never retried, then the last known state,
the audit entry and the boards that show the campaign updated. A call whose answer was lost
leaves the state "unknown, check in 8x8": nobody is told it failed when it may have worked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from wallboard.boards.crypto import UnreadableSecret
from wallboard.campaigns.locks import CampaignLock
from wallboard.campaigns.models import AUTOMATIC, Campaign, CampaignAction
from wallboard.campaigns.publish import republish
from wallboard.vcc.campaigns import (
    CampaignClient,
    CustomerItem,
    CustomerResult,
    OutcomeUnknownError,
    WrongActionTokenError,
)
from wallboard.vcc.errors import BadRequestError, NotFoundError, VccError

log = logging.getLogger(__name__)

ACTIONS = {"run": "RUNNING", "pause": "PAUSED", "stop": "STOPPED", "purge": "PURGED"}
MAX_AHEAD = timedelta(days=7)  # 8x8 takes callbacks at most 7 days ahead


@dataclass(frozen=True)
class Outcome:
    """What an action came to, in words for the person who pressed."""

    outcome: str  # ok, partial, refused, error, unknown, dry_run, busy
    message: str
    results: list[CustomerResult] = field(default_factory=list)
    repeated: bool = False  # a double submit: the first press's outcome, nothing sent again

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True)
class _Answer:
    outcome: str
    message: str
    status: int | None = None
    results: list[CustomerResult] = field(default_factory=list)


class CallbackTimeError(ValueError):
    """A callback time the form must refuse before anything is sent."""


def client_for(campaign: Campaign) -> CampaignClient:
    """The tenant's Dynamic Campaigns client, with its action token."""
    tenant = campaign.tenant
    token = tenant.action_token
    if isinstance(token, UnreadableSecret):
        raise WrongActionTokenError("the stored action token cannot be read with the current keys: enter it again")
    if not token:
        raise WrongActionTokenError(f"tenant {tenant.name!r} has no action token: add it in admin (Tenants)")
    return CampaignClient.from_settings(tenant.base_url, tenant.tenant_name, token)


# --- the actions ----------------------------------------------------------------------------------


def act(
    campaign_pk: int, action: str, *, user: Any = None, key: str | None = None, note: str = "", at: datetime | None = None
) -> Outcome:
    """Run, pause, stop or purge; `user` None means automatic blending, `at` its cycle's time."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    status = ACTIONS[action]

    def call(client: CampaignClient, campaign: Campaign) -> _Answer:
        client.set_status(campaign.campaign_id, status)
        return _Answer("ok", f"{campaign.name}: {status.lower()} (8x8 accepted it)", 200)

    def done(campaign: Campaign, answer: _Answer, now: datetime) -> None:
        _record_state(campaign, action, answer, user, now)

    return _perform(campaign_pk, action, note, user, key, call, done, at)


def add_callback(campaign_pk: int, customer_id: str, at: datetime | None, *, user: Any, key: str | None = None) -> Outcome:
    """Add one customer record, with a callback time (aware, already validated) or without."""
    detail = customer_id + (f" at {at.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M} UTC" if at else "")

    def call(client: CampaignClient, campaign: Campaign) -> _Answer:
        [result] = client.add_customers(campaign.campaign_id, [CustomerItem(customer_id, at)])
        if result.ok:
            return _Answer("ok", f"customer {customer_id} added to {campaign.name}", result.http_status, [result])
        return _Answer("refused", f"customer {customer_id}: {result.message}", result.http_status, [result])

    return _perform(campaign_pk, "add_customer", detail, user, key, call)


def remove_customer(campaign_pk: int, customer_id: str, *, user: Any, key: str | None = None) -> Outcome:
    """Remove a customer record that 8x8 has not offered yet."""

    def call(client: CampaignClient, campaign: Campaign) -> _Answer:
        client.remove_customer(campaign.campaign_id, customer_id)
        return _Answer("ok", f"customer {customer_id} removed from {campaign.name}", 204)

    return _perform(campaign_pk, "remove_customer", customer_id, user, key, call)


def test_campaign(campaign_pk: int, *, user: Any) -> Outcome:
    """Check the campaign id, its dynamic setting and the action token, changing nothing (admin's Test)."""

    def call(client: CampaignClient, campaign: Campaign) -> _Answer:
        return _Answer("ok", f"{campaign.name}: {client.probe(campaign.campaign_id)}", 404)

    return _perform(campaign_pk, "test", "", user, None, call)


def record_dry_run(campaign: Campaign, action: str, note: str) -> None:
    """Audit what blending would have done in dry-run mode (nothing is sent)."""
    _audit(campaign, action, note, None, None, _Answer("dry_run", f"dry run: would {action} {campaign.name}"), None)


def callback_time(tenant_zone: str, day: date, at: clock_time, now: datetime | None = None) -> datetime:
    """The aware moment a local date and time in the tenant's zone stand for, checked for 8x8.

    Refused: a time that does not exist on that day (the clocks went forward), a time in the
    past, more than 7 days ahead. An ambiguous time (the clocks went back) is the first one.
    """
    zone = ZoneInfo(tenant_zone)
    local = datetime.combine(day, at, zone)
    utc = local.astimezone(ZoneInfo("UTC"))
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise CallbackTimeError(f"{local:%Y-%m-%d %H:%M} does not exist in {tenant_zone} (the clocks go forward then)")
    now = now or timezone.now()
    if utc <= now:
        raise CallbackTimeError(f"{local:%Y-%m-%d %H:%M} ({tenant_zone}) is in the past")
    if utc > now + MAX_AHEAD:
        raise CallbackTimeError(f"{local:%Y-%m-%d %H:%M} ({tenant_zone}) is more than 7 days ahead; 8x8 refuses that")
    return utc


# --- plumbing -------------------------------------------------------------------------------------


def _lock_seconds() -> float:
    return float(settings.VCC_CONNECT_TIMEOUT) + float(settings.VCC_READ_TIMEOUT) + 2.0


def _perform(
    campaign_pk: int,
    action: str,
    detail: str,
    user: Any,
    key: str | None,
    call: Callable[[CampaignClient, Campaign], _Answer],
    done: Callable[[Campaign, _Answer, datetime], None] | None = None,
    at: datetime | None = None,
) -> Outcome:
    seconds = _lock_seconds()
    with CampaignLock(campaign_pk, ttl_seconds=seconds + 5, wait_seconds=seconds + 1) as held:
        if not held:
            return Outcome("busy", "another action on this campaign is still waiting for 8x8; try again in a moment")
        earlier = _earlier(key)
        if earlier is not None:
            return earlier
        campaign = Campaign.objects.select_related("tenant").get(pk=campaign_pk)
        started = time.monotonic()
        answer = _call(campaign, action, call)
        latency = int((time.monotonic() - started) * 1000)
        now = at or timezone.now()
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().select_related("tenant").get(pk=campaign_pk)
            if done is not None:
                done(campaign, answer, now)
            try:
                with transaction.atomic():
                    _audit(campaign, action, detail, user, key, answer, latency)
            except IntegrityError:
                # The same key audited meanwhile (a lock that expired under a very slow 8x8).
                _audit(campaign, action, detail, user, None, answer, latency)
    log.info(
        "campaign %s (id %s): %s by %s: %s",
        campaign.campaign_id, campaign.pk, action, _actor(user), answer.outcome,
    )
    if done is not None and user is not None and answer.outcome in ("ok", "unknown"):
        republish(campaign)  # blending's changes go out with the poll it runs in
    return Outcome(answer.outcome, answer.message, answer.results)


def _earlier(key: str | None) -> Outcome | None:
    if not key:
        return None
    entry = CampaignAction.objects.filter(idempotency_key=key).first()
    if entry is None:
        return None
    return Outcome(entry.outcome, f"already sent: {entry.upstream_answer}", repeated=True)


def _call(campaign: Campaign, action: str, call: Callable[[CampaignClient, Campaign], _Answer]) -> _Answer:
    """8x8's answer in the audit's terms; never raises for an upstream failure."""
    try:
        with client_for(campaign) as client:
            return call(client, campaign)
    except OutcomeUnknownError as exc:
        return _Answer("unknown", f"unknown, check in 8x8: {exc}", exc.status)
    except (BadRequestError, NotFoundError) as exc:
        return _Answer("refused", str(exc), exc.status)
    except VccError as exc:
        return _Answer("error", str(exc), exc.status)
    except ValueError as exc:  # an id the client refuses before sending
        return _Answer("error", str(exc))


def _actor(user: Any) -> str:
    return AUTOMATIC if user is None else str(user.get_username())


def _audit(
    campaign: Campaign, action: str, detail: str, user: Any, key: str | None, answer: _Answer, latency: int | None
) -> CampaignAction:
    results = "; ".join(f"{r.customer_id}: {r.http_status} {r.message}" for r in answer.results)
    return CampaignAction.objects.create(
        campaign=campaign,
        campaign_label=f"{campaign.name} ({campaign.campaign_id}) of {campaign.tenant.name}",
        actor=_actor(user),
        user=user,
        action=action,
        detail=detail[:300],
        outcome=answer.outcome,
        upstream_status=answer.status,
        upstream_answer=answer.message + (f" [{results}]" if results and results not in answer.message else ""),
        latency_ms=latency,
        idempotency_key=key or None,
    )


def _record_state(campaign: Campaign, action: str, answer: _Answer, user: Any, now: datetime) -> None:
    """The last known state after a state change: what 8x8 accepted, or unknown when lost."""
    if answer.outcome not in ("ok", "unknown"):
        return
    automatic = user is None
    campaign.state_by = _actor(user)
    campaign.state_at = now
    campaign.blend_changed_at = now
    if answer.outcome == "unknown":
        campaign.state, campaign.state_source = "unknown", "uncertain"
    else:
        campaign.state = ACTIONS[action]
        campaign.state_source = AUTOMATIC if automatic else "person"
    if automatic:
        campaign.blend_auto_paused = action == "pause" and answer.outcome == "ok"
    else:
        # A person's action wins: a manual pause holds until a person runs it again.
        campaign.blend_hold = action == "pause"
        campaign.blend_auto_paused = False
        campaign.blend_dry_state = ""
    campaign.blend_breaches = campaign.blend_calm = 0
    campaign.save()
