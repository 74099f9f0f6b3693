"""`vcc fetch agents|queues|queue --source analytics`: the Analytics real-time API (v5) from the command line.

    vcc fetch agents|queues|queue [ID] --source analytics --client-id ID --client-secret S
              [--region us|eu|au|ca] [--tenant-info T] [--base-url URL]

Prints the same normalised records as the statistics API (plus v5-only fields in snake_case).
The secret is better given in VCC_CLIENT_SECRET, out of the process list and shell history.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from wallboard.vcc.analytics import ALL_AGENT_METRICS, DEFAULT_BASE_URL, REGIONS, AnalyticsClient

KINDS = ("agents", "queues", "queue")
SECRET_HELP = (
    "the Analytics API key's secret (with --source analytics); better set it in the environment "
    "variable VCC_CLIENT_SECRET"
)


class AnalyticsFailure(ValueError):
    """A failure already worded for the user (a ValueError: the command prints those as one line)."""


def add_flags(fetch: argparse.ArgumentParser) -> None:
    """The flags `vcc fetch` takes for the Analytics source."""
    fetch.add_argument(
        "--source", choices=("statistics", "analytics"), default="statistics",
        help="statistics: the Real Time Statistics API (default); analytics: the Analytics real-time API v5",
    )
    fetch.add_argument("--client-id", help="the Analytics API key (the OAuth2 client id), with --source analytics")
    fetch.add_argument("--client-secret", help=SECRET_HELP)
    fetch.add_argument("--region", choices=tuple(REGIONS), default="us", help="where the tenant lives (default us)")
    fetch.add_argument("--tenant-info", default="", help="X-Tenant-Info: the tenant id of a multi-tenant account")


def wants_analytics(options: dict[str, Any]) -> bool:
    return options.get("action") == "fetch" and options.get("source") == "analytics"


def run(options: dict[str, Any]) -> Any:
    """Fetch and return the records as plain JSON data."""
    kind = options["kind"]
    if kind not in KINDS:
        raise AnalyticsFailure(f"the Analytics API serves {', '.join(KINDS)}; {kind} needs the statistics source")
    client_id = options.get("client_id") or ""
    secret = options.get("client_secret") or os.environ.get("VCC_CLIENT_SECRET", "")
    if not client_id:
        raise AnalyticsFailure("missing --client-id (the Analytics API key)")
    if not secret:
        raise AnalyticsFailure("missing client secret: set VCC_CLIENT_SECRET or pass --client-secret")
    if kind == "queue" and not options.get("id"):
        raise AnalyticsFailure("queue needs an id")
    client = AnalyticsClient.from_settings(
        client_id, secret, region=options["region"], tenant_info=options.get("tenant_info") or "",
        base_url=options.get("base_url") or DEFAULT_BASE_URL,
    )
    with client:
        if kind == "agents":
            return [agent.to_dict() for agent in client.agents(ALL_AGENT_METRICS)]
        if kind == "queues":
            return [queue.to_dict() for queue in client.queues()]
        return client.queue(options["id"]).to_dict()
