"""`manage.py vcc campaign ...`: the Dynamic Campaigns calls from the command line.

    vcc campaign status CAMPAIGN_ID RUNNING|PAUSED|STOPPED|PURGED   (connection flags)
    vcc campaign add CAMPAIGN_ID CUSTOMER_ID[@ISO-8601] ...
    vcc campaign remove CAMPAIGN_ID CUSTOMER_ID

--token is the tenant's *action token* (better: the VCC_ACTION_TOKEN environment variable),
not the Data Request Token. `status` prints {"campaign_id", "status"}; `add` one result per
customer and exit status 2 when the call went through but some customers were refused;
`remove` prints {"campaign_id", "customer_id", "removed": true}. A write whose answer was
lost fails with "outcome unknown ... check the campaign in 8x8": it is never retried.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from wallboard.vcc.campaigns import STATUSES, CampaignClient, CustomerItem

ACTION_TOKEN_HELP = (
    "the tenant's action token (not the data request token); better set it in the environment variable "
    "VCC_ACTION_TOKEN, so it stays out of the process list and shell history"
)


class Partial(list[dict[str, Any]]):
    """Per-customer results where at least one customer was refused: exit status 2."""


class CampaignFailure(Exception):
    """A failure already worded for the user."""


def add_parser(actions: Any, connection_flags: Callable[[Any], None]) -> None:
    """Add `campaign` and its three sub-commands to the vcc command's sub-parsers."""
    campaign = actions.add_parser("campaign", help="set a dynamic campaign's state, add or remove customers")
    calls = campaign.add_subparsers(dest="campaign_action", metavar="{status,add,remove}")
    calls.required = True
    status = calls.add_parser("status", help="set a campaign's state")
    status.add_argument("campaign_id", help="the campaign id (Configuration Manager, Campaigns)")
    status.add_argument("status", choices=STATUSES, help="the new state")
    add = calls.add_parser("add", help="add customers, each with an optional callback time")
    add.add_argument("campaign_id", help="the campaign id")
    add.add_argument(
        "customers", nargs="+", metavar="CUSTOMER_ID[@ISO-8601]",
        help="CRM account number, optionally @ a callback time with its zone, e.g. 1000001@2026-12-02T10:00:00+01:00",
    )
    remove = calls.add_parser("remove", help="remove a customer record that was not yet offered")
    remove.add_argument("campaign_id", help="the campaign id")
    remove.add_argument("customer_id", help="the CRM account number")
    for parser in (status, add, remove):
        connection_flags(parser)
        # The connection flags' --token help speaks of the data request token: say what it is here.
        for action in parser._actions:
            if "--token" in action.option_strings:
                action.help = ACTION_TOKEN_HELP


def run(options: dict[str, Any]) -> Any:
    """Carry out one campaign call; the result to print (a Partial when some items failed)."""
    token = options.get("token") or os.environ.get("VCC_ACTION_TOKEN", "")
    if not options.get("base_url"):
        raise CampaignFailure("missing --base-url (e.g. https://vcc-na4.8x8.com)")
    if not options.get("tenant"):
        raise CampaignFailure("missing --tenant")
    if not token:
        raise CampaignFailure("missing action token: set VCC_ACTION_TOKEN or pass --token")
    action = options["campaign_action"]
    items = [parse_customer(text) for text in options["customers"]] if action == "add" else []
    with CampaignClient.from_settings(options["base_url"], options["tenant"], token) as client:
        if action == "status":
            return client.set_status(options["campaign_id"], options["status"]).to_dict()
        if action == "remove":
            client.remove_customer(options["campaign_id"], options["customer_id"])
            return {"campaign_id": options["campaign_id"], "customer_id": options["customer_id"], "removed": True}
        results = [r.to_dict() for r in client.add_customers(options["campaign_id"], items)]
    if any(not 200 <= r["http_status"] < 300 for r in results):
        return Partial(results)
    return results


def parse_customer(text: str) -> CustomerItem:
    """CUSTOMER_ID or CUSTOMER_ID@ISO-8601 (the time must say its zone: Z or an offset)."""
    customer, sep, when = text.partition("@")
    if not sep:
        return CustomerItem(customer.strip())
    try:
        moment = datetime.fromisoformat(when.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CampaignFailure(f"{when!r} is not an ISO-8601 time, e.g. 2026-12-02T10:00:00+01:00") from None
    if moment.tzinfo is None:
        raise CampaignFailure(f"{when!r} has no time zone: end it with Z (UTC) or an offset such as +01:00")
    return CustomerItem(customer.strip(), moment)
