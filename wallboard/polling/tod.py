"""ContactNow time-of-day policies: refresh them, evaluate them for boards, test and edit them.

A refresh (every account's `refresh_interval`) reads the account's policies and every rule
into Redis; each poll cycle then evaluates the policies its boards' queues follow, locally,
exactly as 8x8 schedules are (wallboard.polling.schedules). The hours editor in admin acts
through save_rule(): read first, update a rule number that exists, create one that does not
(create does not deduplicate), audit every change.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from time import time as epoch
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from wallboard.boards.crypto import unreadable_fields, unreadable_message
from wallboard.boards.models import BoardQueue, ContactNowAccount, TodAudit
from wallboard.boards.selectors import TOD_PREFIX
from wallboard.live.redis import get_redis
from wallboard.polling import due as due_sets
from wallboard.polling.catalogue import get_catalogue
from wallboard.polling.clients import UnreadableSecretError
from wallboard.polling.dispatch import RECONCILE_SECONDS
from wallboard.polling.keys import contactnow_reconcile_key
from wallboard.schedules import tod
from wallboard.vcc.contactnow import ContactNowClient, TodPolicy, TodRule, as_rule
from wallboard.vcc.errors import VccError
from wallboard.vcc.parse.tod import rule_problems

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from wallboard.boards.state import Schedule

log = logging.getLogger(__name__)

PREVIEW_DAYS = 14
# A failed policy refresh is tried again after this long, whatever the account's interval.
RETRY_SECONDS = 60
# The interval of an account the due set has no interval for (the model's default).
DEFAULT_REFRESH = 300
STATE_LABEL = {"open": "OPEN", "closed": "CLOSED", "redirect": "REDIRECTED"}


def policies_key(account_id: int) -> str:
    """The account's policies and rules of the last refresh (JSON)."""
    return f"wb:contactnow:{account_id}:policies"


# Clients ------------------------------------------------------------------------------------


def client_for(account: ContactNowAccount) -> ContactNowClient:
    """A client for the account; UnreadableSecretError when no key decrypts its token."""
    unreadable = [name for name in unreadable_fields(account) if name == "token"]
    if unreadable:
        raise UnreadableSecretError(unreadable_message(unreadable))
    return ContactNowClient.from_settings(account.base_url, account.token, fmt=account.response_format)


def account_label(account: ContactNowAccount) -> str:
    return f"ContactNow account {account.name!r} (id {account.pk})"


def test_account(account: ContactNowAccount) -> str:
    """One line for the admin's Test action: what was found, or raise VccError with why not."""
    with client_for(account) as client:
        policies = client.policies()
        rules = client.rules()
    return f"{len(policies)} time-of-day policies and {len(rules)} rules found."


# Refresh ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What the last refresh stored for an account."""

    policies: dict[str, dict[str, Any]]  # uid -> {"uid", "description", "default"}
    rules: dict[str, list[dict[str, Any]]]  # uid -> [rule to_dict()]
    fetched: str


def claim_due_refreshes() -> list[int]:
    """The enabled accounts some board queue follows whose refresh is due now.

    From the ContactNow due set (wallboard.polling.due), claimed atomically and moved one
    refresh interval on: a tick reads only the accounts that are due, not every account (one
    database query and one Redis command per account, every second, before). The set follows
    the database through a rebuild, once a minute and whenever Redis lost it: an account
    enabled, disabled or (un)followed is picked up within a minute.
    """
    now = epoch()
    client = get_redis()
    claimed = due_sets.claim(due_sets.CONTACTNOW, now, now, DEFAULT_REFRESH)
    if claimed is None:  # never built, or Redis lost it: rebuild from the database
        client.set(contactnow_reconcile_key(), "1", ex=RECONCILE_SECONDS)
        rebuild_due_set(now)
        claimed = due_sets.claim(due_sets.CONTACTNOW, now, now, DEFAULT_REFRESH) or []
    elif client.set(contactnow_reconcile_key(), "1", nx=True, ex=RECONCILE_SECONDS):
        rebuild_due_set(now)
    return [account_id for account_id, _, _ in claimed]


def rebuild_due_set(now: float | None = None) -> None:
    """Make the ContactNow due set hold exactly the followed enabled accounts, keeping their times."""
    # Members first, then the database (as dispatch.rebuild_due_sets): an account followed in
    # between is in the database read, so it is never taken for a stale member.
    members = due_sets.members(due_sets.CONTACTNOW)
    accounts = ContactNowAccount.objects.filter(enabled=True, queues__isnull=False).distinct()
    wanted = dict(accounts.values_list("pk", "refresh_interval"))
    due_sets.rebuild_one(due_sets.CONTACTNOW, wanted, members, epoch() if now is None else now)


def refresh_now(account_id: int) -> None:
    """Make a followed account due at the next tick (its rules were just changed)."""
    due_sets.move(due_sets.CONTACTNOW, account_id, epoch())


def refresh_account(account_id: int) -> str:
    """Read the account's policies and rules into Redis; keep the last good copy on failure."""
    account = ContactNowAccount.objects.filter(pk=account_id, enabled=True).first()
    if account is None:
        return "disabled"
    try:
        with client_for(account) as client:
            policies = client.policies()
            rules = client.rules()
    except VccError as exc:
        log.warning("%s: policy refresh failed: %s", account_label(account), exc)
        # Again in a minute, not at the account's (longer) interval, nor at every tick.
        due_sets.put(due_sets.CONTACTNOW, account.pk, epoch() + RETRY_SECONDS)
        return exc.kind
    store(account.pk, policies, rules)
    return "ok"


def store(account_id: int, policies: list[TodPolicy], rules: list[TodRule]) -> None:
    by_policy: dict[str, list[dict[str, Any]]] = {p.uid: [] for p in policies}
    for rule in rules:
        by_policy.setdefault(rule.policy, []).append(rule.to_dict())
    data = {
        "policies": {p.uid: p.to_dict() | {"uid": p.uid} for p in policies},
        "rules": by_policy,
        "fetched": timezone.now().isoformat(),
    }
    get_redis().set(policies_key(account_id), json.dumps(data, separators=(",", ":")))


def stored(account_id: int) -> Stored | None:
    raw = get_redis().get(policies_key(account_id))
    if not raw:
        return None
    data = json.loads(raw)
    return Stored(data["policies"], data["rules"], data["fetched"])


# Evaluation for boards ----------------------------------------------------------------------


def is_tod_id(schedule_id: str) -> bool:
    return schedule_id.startswith(TOD_PREFIX)


def _split(schedule_id: str) -> tuple[int, str] | None:
    try:
        account, policy = schedule_id[len(TOD_PREFIX):].split(":", 1)
        return int(account), policy
    except ValueError:
        return None


def tod_states(tenant_id: int, schedule_ids: set[str], at: datetime) -> dict[str, Schedule]:
    """The badge of each ContactNow policy a board follows (only those whose data is stored)."""
    zones = dict(ContactNowAccount.objects.filter(enabled=True).values_list("pk", "time_zone"))
    names = {q["id"]: q["name"] for q in get_catalogue(tenant_id).get("queues", [])}
    cache: dict[int, Stored | None] = {}
    states: dict[str, Schedule] = {}
    for sid in schedule_ids:
        parts = _split(sid)
        if parts is None or parts[0] not in zones:
            continue
        account_id, uid = parts
        if account_id not in cache:
            cache[account_id] = stored(account_id)
        data = cache[account_id]
        if data is None or uid not in data.policies:
            continue
        policy = data.policies[uid]
        state = tod.evaluate(policy["default"], data.rules.get(uid, []), at, zones[account_id])
        states[sid] = badge(state, policy.get("description") or uid, names)
    return states


def badge(state: tod.TodState, name: str, queue_names: dict[str, str]) -> Schedule:
    """A policy's state in the shape of an 8x8 schedule's badge (docs/protocol.md)."""
    label = STATE_LABEL[state.state]
    if state.target is not None:
        label = f"Redirected to {queue_names.get(state.target) or 'queue ' + state.target}"
    return {
        "status": None,
        "label": label,
        "state": state.state,
        "name": name,
        "next_change": state.next_change.isoformat() if state.next_change else None,
        "next_state": state.next_state,
        "exception": None,
        "source": "contactnow",
    }


def known_tod_ids(schedule_ids: set[str]) -> set[str]:
    """The followed policies that are known to exist, or not known yet (never shown as missing).

    A policy is missing only when its account's last refresh did not list it.
    """
    known = set()
    for sid in schedule_ids:
        parts = _split(sid)
        data = stored(parts[0]) if parts else None
        if parts is None or data is None or parts[1] in data.policies:
            known.add(sid)
    return known


# The hours editor ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyView:
    """A policy fresh from ContactNow, for the editor."""

    policy: TodPolicy
    rules: list[TodRule]


def load_policy(account: ContactNowAccount, uid: str) -> PolicyView:
    """The policy and its rules, read now (never from the board's cached copy)."""
    with client_for(account) as client:
        found = [p for p in client.policies() if p.uid == uid]
        if not found:
            raise LookupError(f"ContactNow has no policy {uid!r} on this account")
        return PolicyView(found[0], client.rules(uid))


def preview(account: ContactNowAccount, default: str, rules: list[TodRule], start: datetime | None = None) -> list[dict[str, Any]]:
    """The next 14 days' bands, in the account's zone, as JSON-ready dicts."""
    start = start or timezone.now()
    end = start + timedelta(days=PREVIEW_DAYS)
    found = tod.bands(default, [r.to_dict() for r in rules], start, end, account.time_zone)
    return [
        {"start": b.start.isoformat(), "end": b.end.isoformat(), "action": b.action, "state": b.state, "rule": b.rule}
        for b in found
    ]


def with_rule(rules: list[TodRule], rule: TodRule) -> list[TodRule]:
    """The rules as they would be after saving rule (its number's records replaced)."""
    return [r for r in rules if r.rule != rule.rule] + [rule]


class EditRefused(Exception):
    """The change was not sent: its problems, in words for the form."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def save_rule(account: ContactNowAccount, rule: TodRule, user: AbstractBaseUser | AnonymousUser) -> TodAudit | None:
    """Send one rule: update its number if it exists, else create it; audit it. None: nothing to do.

    The rules are read first, every time: create does not deduplicate, so a rule number
    that exists (perhaps added in ContactNow's own console since the page was loaded) is
    always updated, never created again.
    """
    problems = rule_problems(rule)
    if problems:
        raise EditRefused(problems)
    with client_for(account) as client:
        existing = [r for r in client.rules(rule.policy) if r.rule == rule.rule]
        if existing and all(r.same_content(rule) for r in existing):
            return None
        operation = "update" if existing else "create"
        try:
            answer = client.update(rule) if existing else client.create(rule)
            result: dict[str, Any] = answer.to_dict()
            success = True
        except VccError as exc:
            result, success = {"error": str(exc), "kind": exc.kind}, False
    audit = TodAudit.objects.create(
        account=account,
        account_name=account.name,
        policy=rule.policy,
        rule=rule.rule,
        operation=operation,
        user_id=getattr(user, "pk", None),
        username=getattr(user, "get_username", lambda: "")() or "",
        before=[r.to_dict() for r in existing] or None,
        after=rule.to_dict(),
        success=success,
        answer=result,
    )
    log.info("%s: %s rule %s of policy %s by %s: %s", account_label(account), operation, rule.rule,
             rule.policy, audit.username, "ok" if success else result["error"])
    if success:
        refresh_now(account.pk)  # boards see the change at the next tick
    return audit


def rule_from_form(policy: str, data: dict[str, Any]) -> TodRule:
    """A rule from the editor's cleaned data (days list, ranges list of pairs)."""
    return as_rule({**data, "policy": policy})


def followed_policies(account: ContactNowAccount) -> set[str]:
    """The policy uids some board queue follows on this account."""
    rows = BoardQueue.objects.filter(Q(contactnow_account=account) & ~Q(tod_policy=""))
    return set(rows.values_list("tod_policy", flat=True))



# Grids for the editor --------------------------------------------------------------------------

_REFERENCE_MONDAY = datetime(2001, 1, 1, tzinfo=UTC)  # a Monday, in a zone without DST


def week_grid(default: str, rules: list[TodRule]) -> list[dict[str, Any]]:
    """The every-week rules (no date) as one row per day, Monday first, bands in minutes."""
    weekly = [r.to_dict() for r in rules if not (r.year or r.month or r.date)]
    found = tod.bands(default, weekly, _REFERENCE_MONDAY, _REFERENCE_MONDAY + timedelta(days=7), "UTC")
    rows = _day_rows(found, UTC, _REFERENCE_MONDAY.date(), 7)
    for row in rows:
        row["label"] = row["day"].strftime("%A")
    return rows


def preview_rows(account: ContactNowAccount, default: str, rules: list[TodRule], start: datetime | None = None) -> list[dict[str, Any]]:
    """The next 14 local days of the account, one row per day, bands in local minutes."""
    zone = ZoneInfo(account.time_zone)
    first = (start or timezone.now()).astimezone(zone).date()
    begin = datetime.combine(first, time(0), zone)
    end = datetime.combine(first + timedelta(days=PREVIEW_DAYS), time(0), zone)
    found = tod.bands(default, [r.to_dict() for r in rules], begin, end, account.time_zone)
    rows = _day_rows(found, zone, first, PREVIEW_DAYS)
    for row in rows:
        row["label"] = row["day"].strftime("%a %d %b")
    return rows


def _day_rows(found: list[tod.Band], zone: tzinfo, first: date, days: int) -> list[dict[str, Any]]:
    """Bands cut at local midnights: {"day", "bands": [{"x", "width", "state", "action", "rule", "title"}]}."""
    rows: list[dict[str, Any]] = [{"day": first + timedelta(days=i), "bands": []} for i in range(days)]
    for band in found:
        start, end = band.start.astimezone(zone), band.end.astimezone(zone)
        day = start.date()
        while day <= end.date() and (day - first).days < days:
            lo = 0 if day != start.date() else start.hour * 60 + start.minute
            hi = 1440 if day != end.date() else end.hour * 60 + end.minute
            if hi > lo and (day - first).days >= 0:
                rows[(day - first).days]["bands"].append({
                    "x": lo, "width": hi - lo, "state": band.state, "action": band.action, "rule": band.rule,
                    "title": f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d} {band.action}"
                    + (f" (rule {band.rule})" if band.rule is not None else " (default)"),
                })
            day += timedelta(days=1)
    return rows
