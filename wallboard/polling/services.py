"""Polling: fetch a tenant's statistics, record health, compute and publish every board.

Celery tasks are thin shells over these functions. One poll of one tenant makes exactly one
agents call and one queues call, under a Redis lock, so upstream load does not depend on the
number of boards or screens.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

import wallboard
from wallboard.boards.models import Tenant, TenantHealth
from wallboard.boards.selectors import board_configs_for_tenant, mapped_schedule_ids
from wallboard.boards.state import EMPTY, TenantSnapshot, compute_board_state, compute_boards
from wallboard.live import store
from wallboard.live.diff import make_patch
from wallboard.live.publish import send_board_texts
from wallboard.live.redis import get_redis
from wallboard.polling.catalogue import catalogue_from_records, update_catalogue
from wallboard.polling.clients import UnreadableSecretError
from wallboard.polling.lock import TenantLock
from wallboard.vcc.errors import VccError

log = logging.getLogger(__name__)

# Failure kinds of the 8x8 client -> tenant health state.
HEALTH_FOR_KIND = {
    "unauthorised": "unauthorised",
    "timeout": "unreachable",
    "unreachable": "unreachable",
    "busy": "busy",
    "server_error": "degraded",
    "not_found": "degraded",
    "bad_request": "degraded",
    "malformed": "malformed",
    "unsafe": "malformed",
    "too_large": "malformed",
    # Not 8x8's answer: a stored secret no configured key decrypts (the client refuses to start).
    "unreadable_secret": "unreadable_secret",
}


@dataclass
class PollResult:
    """What one poll did (for tasks, tests and benchmarks)."""

    outcome: str  # "ok", a failure kind, "locked" or "disabled"
    boards: int = 0
    latency_ms: int | None = None


def next_key(tenant_id: int) -> str:
    """When the tenant's next poll is due (epoch seconds); absent means now."""
    return f"wb:tenant:{tenant_id}:next"


def phase_key(tenant_id: int) -> str:
    return f"wb:tenant:{tenant_id}:phase"


def schedules_due_key(tenant_id: int) -> str:
    return f"wb:tenant:{tenant_id}:schedules-due"


def schedules_key(tenant_id: int) -> str:
    return f"wb:tenant:{tenant_id}:schedules"


def overrides_key(tenant_id: int) -> str:
    return f"wb:tenant:{tenant_id}:schedule-overrides"


def hold_key(tenant_id: int) -> str:
    """Until when (epoch seconds) nothing may be sent to the tenant: see hold_upstream."""
    return f"wb:tenant:{tenant_id}:hold"


def hold_upstream(tenant_id: int, seconds: float | None = None) -> float:
    """Send nothing to the tenant for a while after giving up on a request; return until when.

    A request we stopped waiting for (read timeout, time limit) is still being worked on at
    8x8, which answers 503 to any other request of the tenant until it is done. Sending the
    next one while it is would be a second request in flight, so polls in the meantime only
    repeat the last state (an empty patch, so screens know we are alive) without calling 8x8.
    """
    hold = settings.WALLBOARD_ABANDONED_HOLD if seconds is None else seconds
    until = time.time() + hold
    get_redis().set(hold_key(tenant_id), f"{until:.3f}", px=max(1, int(hold * 1000)))
    return until


def upstream_held(tenant_id: int) -> bool:
    """True while an abandoned request may still be in flight at 8x8."""
    raw = get_redis().get(hold_key(tenant_id))
    return raw is not None and float(raw) > time.time()


def lock_ttl(tenant: Tenant) -> float:
    """Long enough for two upstream calls, short enough that a crashed poll frees the tenant."""
    return max(float(tenant.poll_interval), 2 * (settings.VCC_CONNECT_TIMEOUT + settings.VCC_READ_TIMEOUT) + 2)


# --- Dispatch -------------------------------------------------------------------------------


# Atomically: if the tenant is due before `horizon`, move its next poll one interval on and
# return when this one should run. Two overlapping ticks can never enqueue the same poll.
_CLAIM = """
local raw = redis.call('get', KEYS[1])
local now = tonumber(ARGV[1])
local due = now
if raw then due = tonumber(raw) end
if due > tonumber(ARGV[2]) then return false end
local eta = math.max(due, now)
redis.call('set', KEYS[1], string.format('%.3f', eta + tonumber(ARGV[3])))
return string.format('%.3f', eta)
"""


def claim_due_polls(horizon_seconds: float | None = None) -> list[tuple[int, float]]:
    """Return (tenant id, when to poll) for every enabled tenant due within the horizon.

    The beat ticks every second; a poll due within the next tick is claimed now and run at
    its exact time (a Celery eta), so phase-locking to the upstream refresh is not limited
    to whole seconds. A missed cycle (outage) is not replayed: the next poll is due now.
    """
    client = get_redis()
    now = time.time()
    horizon = now + (settings.WALLBOARD_TICK_SECONDS if horizon_seconds is None else horizon_seconds)
    due = []
    for tenant_id, interval in Tenant.objects.filter(enabled=True).values_list("pk", "poll_interval"):
        eta = client.eval(_CLAIM, 1, next_key(tenant_id), f"{now:.3f}", f"{horizon:.3f}", interval)
        if eta is not None:
            due.append((tenant_id, float(eta)))
    return due


def claim_due_schedule_refreshes() -> list[int]:
    """Return the enabled tenants whose schedules should be refreshed now."""
    client = get_redis()
    due = []
    for tenant_id, interval in Tenant.objects.filter(enabled=True).values_list("pk", "schedule_refresh_interval"):
        if client.set(schedules_due_key(tenant_id), "1", nx=True, px=interval * 1000):
            due.append(tenant_id)
    return due


def retry_schedules_after(tenant_id: int, seconds: float) -> None:
    """Hold the next schedule refresh back for `seconds`."""
    get_redis().set(schedules_due_key(tenant_id), "backoff", px=max(1, int(seconds * 1000)))


def poll_after(tenant_id: int, seconds: float) -> None:
    """Set the next poll `seconds` from now (a slow retry, or the phase lock's choice)."""
    get_redis().set(next_key(tenant_id), f"{time.time() + seconds:.3f}")


def poll_now(tenant_id: int) -> None:
    """Make the tenant due at the next tick (its settings changed: try the new token now)."""
    get_redis().delete(next_key(tenant_id), schedules_due_key(tenant_id), phase_key(tenant_id))


# --- Phase lock -------------------------------------------------------------------------------
# 8x8 answers from a cache refreshed every 10 s. Polling at a random point of that window shows
# data 5 s old on average; polling just after the refresh shows it within a second. We find the
# refresh by watching when the answer changes, in four modes kept in Redis per tenant:
#
# - seek: each poll that brings new data moves the next one SEEK earlier (9 s apart), so within
#   ten cycles one lands just before a refresh and sees the same data as the last one;
# - relook: after such an early poll we look again where the last good poll was (or STEP
#   later), which is after the refresh: the refresh is now known to within that gap;
# - locked: poll exactly one interval after the relook, every cycle, which is one call per
#   endpoint per upstream window. Every PROBE_EVERY cycles one poll comes CREEP earlier: still
#   new data means the refresh is earlier than we thought: we keep the earlier phase and probe
#   again next cycle twice as far (up to PROBE_MAX), so even a jump of several seconds is
#   found in a few cycles; the same data costs one extra call and a relook. If upstream's
#   phase drifts later, a locked poll sees the same data and relooks by itself;
# - quiet: no change for more than an interval although we relooked: a tenant with nothing
#   moving. Poll once an interval and seek again when the data moves.
#
# A failed poll changes nothing here: the claim already set the next poll one interval on.
PHASE_STEP = 1.0
PHASE_SEEK = 1.0
PHASE_CREEP = 0.25
PHASE_PROBE_EVERY = 12
PHASE_PROBE_MAX = 4.0


def fingerprint(agent_records, queue_records) -> str:
    """Something that changes whenever upstream refreshed (time in status always moves)."""
    agents = (
        len(agent_records),
        sum(a.time_in_status or 0 for a in agent_records),
        sum(a.agent_status or 0 for a in agent_records),
    )
    queues = (
        len(queue_records),
        sum(q.longest_wait_time or 0 for q in queue_records),
        sum(q.queue_size or 0 for q in queue_records),
        sum(q.day_queued or 0 for q in queue_records),
    )
    return f"{agents}{queues}"


def plan_next_poll(tenant_id: int, interval: float, polled_at: float, print_: str) -> float:
    """Decide when to poll next from whether this answer was new; return that time."""
    client = get_redis()
    raw = {k.decode(): v.decode() for k, v in client.hgetall(phase_key(tenant_id)).items()}
    # Plan from when this poll was due, not when the worker got to it: otherwise the worker's
    # lateness (tens of ms under load) would add up cycle after cycle and drag the phase late.
    planned = float(raw.get("planned", 0) or 0)
    base = planned if abs(polled_at - planned) < PHASE_STEP else polled_at
    mode, when, state = _next_phase(raw, interval, base, print_)
    pipe = client.pipeline()
    pipe.delete(phase_key(tenant_id))
    pipe.hset(phase_key(tenant_id), mapping={"fingerprint": print_, "mode": mode, "planned": f"{when:.3f}", **state})
    pipe.expire(phase_key(tenant_id), int(interval * 10))
    pipe.set(next_key(tenant_id), f"{when:.3f}")
    pipe.execute()
    return when


def _next_phase(raw: dict[str, str], interval: float, polled_at: float, print_: str) -> tuple[str, float, dict]:
    """(mode, next poll time, state to keep) for a poll at `polled_at` that got `print_`."""
    mode = raw.get("mode", "seek")
    good = float(raw.get("good", 0) or 0)
    steady = int(raw.get("steady", 0) or 0)
    probe = float(raw.get("probe", 0) or 0)
    if "fingerprint" not in raw:
        return "seek", polled_at + interval - PHASE_SEEK, {"good": f"{polled_at:.3f}"}
    if raw["fingerprint"] != print_:  # new data: this poll came after a refresh
        kept = {"good": f"{polled_at:.3f}"}
        if mode == "relook":
            return "locked", polled_at + interval, {**kept, "steady": "0"}
        if mode == "locked" and probe:
            # A probe that still got new data: the refresh is earlier than we thought (upstream
            # moved). Probe again next cycle, twice as far, until one comes too early.
            further = min(probe * 2, PHASE_PROBE_MAX)
            return "locked", polled_at + interval - further, {**kept, "probe": f"{further:.3f}"}
        if mode == "locked":
            steady += 1
            if steady >= PHASE_PROBE_EVERY:
                return "locked", polled_at + interval - PHASE_CREEP, {**kept, "probe": f"{PHASE_CREEP:.3f}"}
            return "locked", polled_at + interval, {**kept, "steady": str(steady)}
        return "seek", polled_at + interval - PHASE_SEEK, kept
    kept = {"good": f"{good:.3f}"}
    if mode in ("seek", "locked"):
        # Early: the refresh lies between now and where the last good poll's phase falls.
        gap = good + interval - polled_at
        return "relook", polled_at + (gap if 0 < gap <= PHASE_STEP else PHASE_STEP), kept
    if mode == "relook" and polled_at - good < interval + PHASE_STEP:
        return "relook", polled_at + PHASE_STEP, kept
    # A whole interval and more without a change: nothing moves at this tenant.
    return "quiet", polled_at + interval, kept


# --- Health ---------------------------------------------------------------------------------


def tenant_label(tenant: Tenant) -> str:
    """How log lines name a tenant: its name (quoted: it is typed by people) and its id."""
    return f"tenant {tenant.name!r} (id {tenant.pk})"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def status_dict(health: TenantHealth) -> dict:
    """The health object sent to browsers (docs/protocol.md, `status`)."""
    return {
        "state": health.state,
        "since": _iso(health.since),
        "last_ok": _iso(health.last_success),
        "message": health.message,
    }


def record_success(tenant: Tenant, latency_ms: int, at: datetime) -> TenantHealth:
    health, _ = TenantHealth.objects.get_or_create(tenant=tenant)
    if health.state != "ok":
        health.since = at
        # Logged at the change only (the first poll included), never every cycle.
        log.info("%s: %s -> ok", tenant_label(tenant), health.state)
    health.state = "ok"
    health.message = ""
    health.last_poll = health.last_success = at
    health.consecutive_failures = 0
    health.latency_ms = latency_ms
    health.save()
    return health


def record_failure(tenant: Tenant, error: VccError, latency_ms: int, at: datetime) -> TenantHealth:
    health, _ = TenantHealth.objects.get_or_create(tenant=tenant)
    state = HEALTH_FOR_KIND.get(error.kind, "degraded")
    if health.state != state:
        health.since = at
        # Logged once per change of state, not every cycle; a warning, as someone must look.
        log.warning("%s: %s -> %s: %s", tenant_label(tenant), health.state, state, error)
    health.state = state
    health.message = _failure_message(state, str(error), health.last_success)
    health.last_poll = health.last_error = at
    health.last_error_kind = error.kind
    health.last_error_message = str(error)[:300]
    health.consecutive_failures += 1
    health.latency_ms = latency_ms
    health.save()
    return health


def _failure_message(state: str, detail: str, last_ok: datetime | None) -> str:
    if state == "unauthorised":
        retry = int(settings.WALLBOARD_UNAUTHORISED_RETRY)
        text = f"8x8 refused the tenant's credentials; check the token in admin (retrying every {retry} s)."
    elif state == "unreadable_secret":
        text = f"Not polling 8x8: {detail} in admin."
    elif state == "busy":
        text = "8x8 is busy (503); this cycle was skipped."
    elif state == "malformed":
        text = f"8x8 sent an answer we cannot use ({detail}); showing the last good data."
    else:
        text = f"8x8 is not answering properly ({detail}); showing the last good data."
    return text[:300]


# --- Schedules ------------------------------------------------------------------------------


def load_schedules(tenant_id: int) -> tuple[dict, dict]:
    """The tenant's schedule definitions and the API overrides, as last refreshed."""
    client = get_redis()
    raw_schedules, raw_overrides = client.mget(schedules_key(tenant_id), overrides_key(tenant_id))
    schedules = json.loads(raw_schedules) if raw_schedules else {}
    overrides = json.loads(raw_overrides) if raw_overrides else {}
    return schedules, overrides


def known_schedules(tenant_id: int, schedule_ids: set[str], evaluated: dict[str, dict]) -> set[str] | None:
    """The mapped schedule ids 8x8 listed at the last refresh, or None while no refresh stored any.

    Only asked when a mapped schedule was not evaluated: then whether the definitions were ever
    stored tells "8x8 no longer lists it" (shown as missing) from "not fetched yet" (shown as
    nothing), so the common cycle costs no extra Redis call.
    """
    if schedule_ids <= evaluated.keys():
        return set(evaluated)
    return set(evaluated) if get_redis().exists(schedules_key(tenant_id)) else None


def schedule_states(tenant: Tenant, schedule_ids: set[str], at: datetime) -> dict[str, dict]:
    """Evaluate each mapped schedule now; an API override wins until the next refresh."""
    from wallboard.schedules.codes import status_label, status_state
    from wallboard.schedules.engine import evaluate

    if not schedule_ids:
        return {}
    definitions, overrides = load_schedules(tenant.pk)
    states = {}
    now = at.timestamp()
    for sid in schedule_ids:
        schedule = definitions.get(sid)
        if schedule is None:
            continue
        local = evaluate(schedule, at, tenant.time_zone)
        entry = {
            "status": local.status,
            "label": local.label,
            "state": local.state,
            "name": schedule.get("name"),
            "next_change": _iso(local.next_change),
            "next_state": status_state(local.next_status) if local.next_status is not None else None,
            "exception": local.exception,
            "source": "local",
        }
        override = overrides.get(sid)
        if override and override["until"] > now and override["local_status"] == local.status:
            code = override["status"]
            entry.update(
                status=code, label=status_label(code), state=status_state(code), source="api",
                next_change=None, next_state=None,
            )
        states[sid] = entry
    return states


def _locked_call(tenant: Tenant, call):
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


class LockBusy(Exception):
    """The tenant lock stayed taken (a poll ran long); try the refresh again soon."""


def refresh_schedules(tenant_id: int) -> str:
    """Fetch schedule definitions and check our answer against 8x8's /status for each mapped one.

    Each upstream call takes the tenant lock on its own, so polls carry on in between.
    """
    from wallboard.schedules.engine import evaluate
    from wallboard.schedules.reconcile import reconcile

    tenant = Tenant.objects.filter(pk=tenant_id, enabled=True).first()
    if tenant is None:
        return "disabled"
    try:
        client = tenant.client()
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
        _log_unexpected(tenant, "schedule refresh", exc)
        retry_schedules_after(tenant.pk, 60)
        return "error"
    definitions = {s.id: s.to_dict() for s in schedules}
    overrides, disagreements = {}, {}
    now = timezone.now()
    for sid in sorted(mapped_schedule_ids(tenant) & set(definitions)):
        try:
            api = _locked_call(tenant, lambda sid=sid: client.schedule_status(sid))
        except (VccError, LockBusy) as exc:
            log.info("%s: /status of schedule %s failed: %s", tenant_label(tenant), sid, exc)
            continue
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            _log_unexpected(tenant, f"/status of schedule {sid}", exc)
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


# --- The cycle ------------------------------------------------------------------------------


def poll_tenant(tenant_id: int) -> PollResult:
    """One cycle for one tenant: fetch, record health, publish every board."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or not tenant.enabled:
        return PollResult("disabled")
    # A schedule refresh call may hold the lock for a moment; a previous poll is another matter.
    with TenantLock(tenant.pk, lock_ttl(tenant), wait_seconds=2) as held:
        if not held:
            # Every cycle while it lasts; an overrun poll is logged by its time limit.
            log.debug("%s: previous poll still running; skipping this cycle", tenant_label(tenant))
            return PollResult("locked")
        if upstream_held(tenant.pk):
            return _heartbeat(tenant)
        return _poll_locked(tenant)


def _heartbeat(tenant: Tenant) -> PollResult:
    """A cycle without calling 8x8: every board gets an empty patch and its current status."""
    health, _ = TenantHealth.objects.get_or_create(tenant=tenant)
    status = status_dict(health)
    configs = board_configs_for_tenant(tenant)
    for config in configs:
        previous = load_previous(config.slug)
        if previous is not None:
            head, data = previous
            publish_board(config.slug, head, data, data, head.as_of, status)
    return PollResult("held", len(configs))


def _poll_locked(tenant: Tenant) -> PollResult:
    started = time.monotonic()
    fetched_at = timezone.now()
    polled_at = time.time()
    snapshot = None
    error = None
    try:
        client = tenant.client()
        agent_records = client.agents()
        queue_records = client.queues()
    except VccError as exc:
        error = exc
        if exc.kind == "timeout":
            hold_upstream(tenant.pk)
    except SoftTimeLimitExceeded:
        raise  # the task holds the tenant back: 8x8 may still be answering
    except Exception as exc:
        # Not the client's typed failure: a bug here or in a library. The board still gets a
        # status and /healthz a state, instead of "pending" for ever.
        _log_unexpected(tenant, "poll", exc)
        error = VccError(f"unexpected {type(exc).__name__}; see the worker log")
    latency_ms = int((time.monotonic() - started) * 1000)
    if error is None:
        health = record_success(tenant, latency_ms, fetched_at)
        snapshot = TenantSnapshot.from_records(agent_records, queue_records)
        _refresh_catalogue(tenant, agent_records, queue_records, fetched_at)
        plan_next_poll(tenant.pk, tenant.poll_interval, polled_at, fingerprint(agent_records, queue_records))
    else:
        health = record_failure(tenant, error, latency_ms, fetched_at)
        if error.kind in ("unauthorised", "unreadable_secret"):
            # Nothing changes by retrying every cycle; saving the tenant makes it due at once.
            poll_after(tenant.pk, settings.WALLBOARD_UNAUTHORISED_RETRY)
    configs = board_configs_for_tenant(tenant)
    schedule_ids = set().union(*(c.schedule_ids() for c in configs)) if configs else set()
    schedules = schedule_states(tenant, schedule_ids, fetched_at)
    known = known_schedules(tenant.pk, schedule_ids, schedules)
    status = status_dict(health)
    previous = {c.slug: load_previous(c.slug) for c in configs}
    now = int(fetched_at.timestamp())
    if snapshot is not None:
        states = compute_boards(
            configs, snapshot, schedules, {s: p[1] if p else None for s, p in previous.items()}, now, known
        )
        as_of = fetched_at.astimezone(UTC).isoformat()
    memo: dict = {}  # shared entries are diffed once for all of this tenant's boards
    for config in configs:
        stored, data = previous[config.slug] or (None, None)
        if stored is None:
            # Once per board: its first publication, or the first after Redis lost its state.
            log.info("%s: board %r: publishing a new epoch (no state in Redis)", tenant_label(tenant), config.slug)
        if snapshot is not None:
            publish_board(config.slug, stored, data, states[config.slug], as_of, status, memo)
        elif stored is not None:
            publish_board(config.slug, stored, data, data, stored.as_of, status)
        else:
            empty = compute_board_state(config, EMPTY, schedules, None, now, known)
            publish_board(config.slug, None, None, empty, None, status)
    return PollResult(error.kind if error else "ok", len(configs), latency_ms)


def _log_unexpected(tenant: Tenant, what: str, exc: Exception) -> None:
    """Log an unexpected exception by its class and stack only, never by its text.

    Its text may quote the request it failed on, credentials included (requests' encoding
    errors quote the token); the stack (file, line, code) is enough to find the bug.
    """
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s failed with %s (text withheld: it may quote credentials)\n%s",
              tenant_label(tenant), what, type(exc).__name__, stack)


def _refresh_catalogue(tenant: Tenant, agent_records, queue_records, at: datetime) -> None:
    update_catalogue(tenant.pk, **catalogue_from_records(agent_records, queue_records), as_of=at.isoformat())


# Parsed states this process wrote last, by slug: (epoch, seq, state). Saves reading and
# parsing the stored state every cycle; checked against Redis so another process's write is
# never missed. With it, each board's serialiser knows exactly what Redis holds.
_previous_cache: dict[str, tuple[str, int, dict]] = {}
_serialisers: dict[str, store.StateSerialiser] = {}


def load_previous(slug: str) -> tuple[store.BoardHead, dict] | None:
    """The stored head and the parsed state, or None when Redis has none (a new epoch)."""
    head = store.load_head(slug)
    if head is None:
        _previous_cache.pop(slug, None)
        return None
    cached = _previous_cache.get(slug)
    if cached and cached[:2] == (head.epoch, head.seq):
        return head, cached[2]
    _previous_cache.pop(slug, None)  # someone else wrote it: our serialiser's view is stale
    stored = store.load(slug)
    if stored is None:
        return None
    return stored, stored.data


def publish_board(
    slug: str,
    stored: store.BoardHead | None,
    previous: dict | None,
    data: dict,
    as_of: str | None,
    status: dict,
    memo: dict | None = None,
) -> list[str]:
    """Store a board's new state and send what changed to its group; return the texts sent.

    `stored`/`previous` are what Redis holds (from load_previous). On a failed cycle `data` is
    the previous state: the patch is empty and `as_of` keeps saying how old the data is.
    Without a stored state a new epoch begins. `memo` is make_patch's, shared by one cycle's
    boards.
    """
    status_json = store.dumps(status)
    serialiser = _serialisers.setdefault(slug, store.StateSerialiser())
    texts: list[str] = []
    if stored is None:
        head = store.BoardHead(store.new_epoch(), 1, as_of, status_json)
        # The first message of a new epoch: browsers still on the old one resync at once.
        texts.append(store.status_text(slug, head))
        store.save(slug, head, serialiser.fragments(data), replace=True)
    else:
        cached = _previous_cache.get(slug)
        known = cached is not None and cached[:2] == (stored.epoch, stored.seq)
        old = cached[2] if known else previous
        head = store.BoardHead(stored.epoch, stored.seq, as_of, status_json)
        if _status_changed(stored.status, status):
            head.seq += 1
            texts.append(store.status_text(slug, head))
        ops = make_patch(old, data, memo)
        head.seq += 1
        texts.append(store.patch_text(slug, head, ops))
        if not ops:
            store.save(slug, head, {})
        elif known:
            serialiser.update(data)
            store.save(slug, head, serialiser.changed, serialiser.removed)
        else:
            store.save(slug, head, serialiser.fragments(data), replace=True)
    _previous_cache[slug] = (head.epoch, head.seq, data)
    send_board_texts(slug, texts)
    return texts


def _status_changed(old: dict, new: dict) -> bool:
    return old.get("state") != new.get("state") or old.get("message") != new.get("message")


def server_version() -> str:
    return wallboard.__version__
