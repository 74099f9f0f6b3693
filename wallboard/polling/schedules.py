"""Tenant schedules: refresh the definitions from 8x8 and evaluate the mapped ones each cycle.

A refresh (every few minutes) stores the definitions and, for each mapped schedule whose
evaluation disagrees with 8x8's /status, an override that wins until the next refresh. Polls
then evaluate the stored definitions locally: no upstream call per cycle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from wallboard.boards.models import Tenant, TenantHealth
from wallboard.boards.selectors import mapped_schedule_ids
from wallboard.live import store
from wallboard.live.redis import get_redis
from wallboard.polling import clients, tod
from wallboard.polling.catalogue import update_catalogue
from wallboard.polling.clients import UnreadableSecretError
from wallboard.polling.dispatch import hold_upstream, lock_ttl, retry_schedules_after, upstream_held
from wallboard.polling.health import log_unexpected, tenant_label
from wallboard.polling.keys import overrides_key, schedules_key
from wallboard.polling.lock import TenantLock
from wallboard.schedules.codes import status_label, status_state
from wallboard.schedules.engine import evaluate
from wallboard.schedules.reconcile import reconcile
from wallboard.vcc.errors import VccError

if TYPE_CHECKING:
    from wallboard.boards.state import Schedule

log = logging.getLogger(__name__)

T = TypeVar("T")


def load_schedules(tenant_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tenant's schedule definitions and the API overrides, as last refreshed."""
    client = get_redis()
    raw_schedules, raw_overrides = client.mget(schedules_key(tenant_id), overrides_key(tenant_id))
    schedules = json.loads(raw_schedules) if raw_schedules else {}
    overrides = json.loads(raw_overrides) if raw_overrides else {}
    return schedules, overrides


def known_schedules(tenant_id: int, schedule_ids: set[str], evaluated: Mapping[str, object]) -> set[str] | None:
    """The mapped schedule ids 8x8 listed at the last refresh, or None while no refresh stored any.

    Only asked when a mapped schedule was not evaluated: then whether the definitions were ever
    stored tells "8x8 no longer lists it" (shown as missing) from "not fetched yet" (shown as
    nothing), so the common cycle costs no extra Redis call.
    """
    tod_ids = {sid for sid in schedule_ids if tod.is_tod_id(sid)}
    if tod_ids:
        # ContactNow policies come from their own refresh; an 8x8 id not known yet is listed
        # here as known-but-not-evaluated, which shows nothing rather than "missing".
        known_8x8 = known_schedules(tenant_id, schedule_ids - tod_ids, evaluated)
        evaluated_tod = tod_ids & evaluated.keys()  # the common cycle: no look-up needed
        known_tod = evaluated_tod | tod.known_tod_ids(tod_ids - evaluated_tod)
        return (known_8x8 if known_8x8 is not None else schedule_ids - tod_ids) | known_tod
    if schedule_ids <= evaluated.keys():
        return set(evaluated)
    return set(evaluated) if get_redis().exists(schedules_key(tenant_id)) else None


def schedule_states(tenant: Tenant, schedule_ids: set[str], at: datetime) -> dict[str, Schedule]:
    """Evaluate each mapped schedule now; an API override wins until the next refresh."""
    if not schedule_ids:
        return {}
    tod_ids = {sid for sid in schedule_ids if tod.is_tod_id(sid)}
    states: dict[str, Schedule] = tod.tod_states(tenant.pk, tod_ids, at) if tod_ids else {}
    schedule_ids = schedule_ids - tod_ids
    definitions, overrides = load_schedules(tenant.pk) if schedule_ids else ({}, {})
    now = at.timestamp()
    for sid in schedule_ids:
        schedule = definitions.get(sid)
        if schedule is None:
            continue
        local = evaluate(schedule, at, tenant.time_zone)
        entry: Schedule = {
            "status": local.status,
            "label": local.label,
            "state": local.state,
            "name": schedule.get("name"),
            "next_change": local.next_change.isoformat() if local.next_change else None,
            "next_state": status_state(local.next_status) if local.next_status is not None else None,
            "exception": local.exception,
            "source": "local",
        }
        override = overrides.get(sid)
        if override and override["until"] > now and override["local_status"] == local.status:
            code = override["status"]
            entry.update({
                "status": code, "label": status_label(code), "state": status_state(code), "source": "api",
                "next_change": None, "next_state": None,
            })
        states[sid] = entry
    return states


class LockBusy(Exception):
    """The tenant lock stayed taken (a poll ran long); try the refresh again soon."""


def _locked_call(tenant: Tenant, call: Callable[[], T]) -> T:
    """One upstream call under the tenant lock, so a refresh never overlaps a poll."""
    with TenantLock(tenant.pk, lock_ttl(tenant), wait_seconds=8) as held:
        if not held or upstream_held(tenant.pk):
            raise LockBusy()
        try:
            return call()
        except VccError as exc:
            if exc.kind == "timeout":
                hold_upstream(tenant.pk)
            raise


def refresh_schedules(tenant_id: int) -> str:
    """Fetch schedule definitions and check our answer against 8x8's /status for each mapped one.

    Each upstream call takes the tenant lock on its own, so polls carry on in between.
    """
    tenant = Tenant.objects.filter(pk=tenant_id, enabled=True).first()
    if tenant is None:
        return "disabled"
    try:
        client = clients.client_for(tenant)
        schedules = _locked_call(tenant, client.schedules)
    except LockBusy:
        retry_schedules_after(tenant.pk, 5)
        return "locked"
    except UnreadableSecretError as exc:
        # The poll reports it (health, boards, one log line at the change): no line per refresh.
        retry_schedules_after(tenant.pk, settings.WALLBOARD_UNAUTHORISED_RETRY)
        return exc.kind
    except VccError as exc:
        log.warning("%s: schedule refresh failed: %s", tenant_label(tenant), exc)
        retry_schedules_after(tenant.pk, 60)
        return exc.kind
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        log_unexpected(tenant, "schedule refresh", exc)
        retry_schedules_after(tenant.pk, 60)
        return "error"
    definitions = {s.id: s.to_dict() for s in schedules}
    overrides, disagreements = {}, {}
    now = timezone.now()
    for sid in sorted(mapped_schedule_ids(tenant) & set(definitions)):
        try:
            api = _locked_call(tenant, partial(client.schedule_status, sid))
        except (VccError, LockBusy) as exc:
            log.info("%s: /status of schedule %s failed: %s", tenant_label(tenant), sid, exc)
            continue
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            log_unexpected(tenant, f"/status of schedule {sid}", exc)
            continue
        checked = timezone.now()
        local = evaluate(definitions[sid], checked, tenant.time_zone)
        result = reconcile(local, api.status, checked)
        if result.source == "api":
            overrides[sid] = {
                "status": result.status,
                "local_status": local.status,
                "until": now.timestamp() + tenant.schedule_refresh_interval,
            }
            disagreements[sid] = result.to_dict()
            log.warning("%s schedule %s: %s", tenant_label(tenant), sid, result.log_line())
    redis_client = get_redis()
    redis_client.set(schedules_key(tenant.pk), store.dumps(definitions))
    redis_client.set(overrides_key(tenant.pk), store.dumps(overrides))
    update_catalogue(tenant.pk, schedules=[{"id": s.id, "name": s.name or s.id} for s in schedules])
    TenantHealth.objects.update_or_create(
        tenant=tenant, defaults={"schedules_refreshed": now, "schedule_disagreements": disagreements}
    )
    return "ok"
