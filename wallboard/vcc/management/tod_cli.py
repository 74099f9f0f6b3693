"""`manage.py vcc tod ...`: a ContactNow account's time-of-day policies from the command line.

    vcc tod policies|rules [--policy P] [--format json|xml] --base-url URL --token T
    vcc tod status POLICY --time-zone TZ [--at ISO-8601] --base-url URL --token T
    vcc tod create|update --policy P --rule N --days mon,tue --range 09:00-17:00[,..] --action A
                          [--year Y --month M --date D] [--format json|xml] --base-url URL --token T

No --tenant: ContactNow authenticates by the token alone, in the query string of
`<base-url>/database.php` (docs/schedules.md, "ContactNow time-of-day policies").
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import CommandParser

from wallboard.schedules import tod
from wallboard.vcc.contactnow import ContactNowClient
from wallboard.vcc.parse.tod import TodRule, parse_days, parse_ranges, rule_problems

TOKEN_HELP = "the ContactNow access token; better set it in the environment variable CONTACTNOW_TOKEN"
WHATS = ("policies", "rules", "status", "create", "update")


class TodFailure(Exception):
    """A failure already worded for the user."""


def add_parser(actions: Any) -> None:
    """The `tod` subcommand and its flags."""
    parser: CommandParser = actions.add_parser("tod", help="ContactNow time-of-day policies and rules")
    parser.add_argument("what", choices=WHATS, help="what to do")
    parser.add_argument("policy_id", nargs="?", help="status: the policy uid")
    parser.add_argument("--policy", help="rules: only this policy's; create/update: the policy uid")
    parser.add_argument("--time-zone", help="status: the account's time zone, e.g. Europe/London")
    parser.add_argument("--at", help="status: evaluate at this ISO-8601 instant (default now)")
    parser.add_argument("--rule", type=int, help="create/update: the rule number (higher matches first)")
    parser.add_argument("--days", default="", help="create/update: e.g. mon,tue,wed")
    parser.add_argument("--range", dest="ranges", default="", help="create/update: e.g. 09:00-12:00,13:00-17:00")
    parser.add_argument("--action", dest="tod_action", help="create/update: queue, voicemail, hangup or jump:<queue id>")
    for name in ("year", "month", "date"):
        parser.add_argument(f"--{name}", type=int, default=0, help=f"create/update: {name} (0 = any)")
    parser.add_argument("--base-url", help="the account's API host, e.g. https://api-106.dxi.eu")
    parser.add_argument("--token", help=TOKEN_HELP)
    parser.add_argument("--format", dest="fmt", choices=("json", "xml"), default="json", help="wire format (default json)")


def run(options: dict[str, Any]) -> Any:
    """The JSON-ready result of one `vcc tod` call; TodFailure, VccError or ValueError otherwise."""
    what = options["what"]
    rule = _rule(options) if what in ("create", "update") else None
    with _client(options) as client:
        if what == "policies":
            return [p.to_dict() for p in client.policies()]
        if what == "rules":
            return [r.to_dict() for r in client.rules(options.get("policy"))]
        if what == "status":
            return _status(client, options)
        assert rule is not None
        answer = client.create(rule) if what == "create" else client.update(rule)
        return {"success": answer.success, "key": answer.to_dict()["key"]}


def _client(options: dict[str, Any]) -> ContactNowClient:
    token = options.get("token") or os.environ.get("CONTACTNOW_TOKEN", "")
    if not options.get("base_url"):
        raise TodFailure("missing --base-url (e.g. https://api-106.dxi.eu)")
    if not token:
        raise TodFailure("missing token: set CONTACTNOW_TOKEN or pass --token")
    return ContactNowClient.from_settings(options["base_url"], token, fmt=options["fmt"])


def _status(client: ContactNowClient, options: dict[str, Any]) -> dict[str, Any]:
    policy_id = options.get("policy_id") or options.get("policy")
    if not policy_id:
        raise TodFailure("status needs a policy uid: vcc tod status 2164 --time-zone Europe/London")
    zone = options.get("time_zone") or ""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TodFailure(f"--time-zone {zone[:40]!r} is not a time zone name such as Europe/London") from None
    at = _instant(options.get("at"))
    found = [p for p in client.policies() if p.uid == policy_id]
    if not found:
        raise TodFailure(f"ContactNow has no policy {policy_id!r}")
    rules = client.rules(policy_id)
    return tod.evaluate(found[0].default, [r.to_dict() for r in rules], at, zone).to_dict()


def _instant(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise TodFailure(f"--at {text[:40]!r} is not an ISO-8601 instant") from None
    if at.tzinfo is None:
        raise TodFailure("--at needs a UTC offset, e.g. 2026-12-25T09:00:00+00:00")
    return at


def _rule(options: dict[str, Any]) -> TodRule:
    """The rule to send, checked first: nothing malformed reaches ContactNow."""
    missing = [flag for flag, key in (("--policy", "policy"), ("--rule", "rule"), ("--action", "tod_action")) if options.get(key) in (None, "")]
    if missing:
        raise TodFailure(f"{options['what']} needs {', '.join(missing)}")
    rule = TodRule(
        policy=str(options["policy"]),
        rule=options["rule"],
        year=options["year"],
        month=options["month"],
        date=options["date"],
        days=parse_days(options["days"]),
        ranges=parse_ranges(options["ranges"]),
        action=str(options["tod_action"]).strip().lower(),
    )
    problems = rule_problems(rule)
    if problems:
        raise TodFailure("; ".join(problems))
    return rule

