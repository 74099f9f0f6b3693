"""`manage.py vcc`: ask a tenant's 8x8 platform something from the command line.

    vcc fetch KIND [ID] --base-url URL --tenant T --token K [--format xml|json]
                        [--utctime MS] [--offset S]
                        [--api classic|gateway] [--api-key K] [--queue-ids ID,ID,...]
    vcc fetch agents|queues --source analytics --client-id ID --client-secret S
                        [--region us|eu|au|ca] [--tenant-info T] [--base-url URL]
    vcc status SCHEDULE_ID [--local] [--utctime MS] [--tenant-tz ZONE] (same connection flags)
    vcc tod policies|rules|status|create|update ... --base-url URL --token T  (ContactNow: tod_cli.py)

Prints the normalised result as JSON on stdout. Any failure is exit status 1 and one line on
stderr, in words (bad credentials, not found, busy, timed out, ...), never a traceback.

With `--api gateway` queues come through the statistics gateway with the API key; it is known
to serve one queue by id only, so `queues` reads the queues named by --queue-ids, and the other
kinds still use the classic APIs and the token.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from wallboard.vcc.client import VccClient
from wallboard.vcc.errors import VccError
from wallboard.vcc.management import analytics_cli, campaign_cli, tod_cli
from wallboard.vcc.management.attachments_cli import attachments_parser, run_attachments
from wallboard.vcc.records import iso_utc, status_label

KINDS = (
    "agents",
    "agent",
    "queues",
    "queue",
    "schedules",
    "schedule",
    "schedule-by-name",
    "schedule-status",
    "schedule-next",
)
NEEDS_ID = {"agent", "queue", "schedule", "schedule-by-name", "schedule-status", "schedule-next"}
TOKEN_HELP = "the tenant's Data Request Token; better set it in the environment variable VCC_TOKEN, so it stays out of the process list and shell history"
API_KEY_HELP = "the tenant's API key for the statistics gateway (with --api gateway); better set it in the environment variable VCC_API_KEY"
GATEWAY_KINDS = {"queue", "queues"}  # what the gateway is known to serve


class Failure(Exception):
    """A failure already worded for the user."""


class Command(BaseCommand):
    help = "Fetch from a tenant's 8x8 Real Time Statistics and Tenant Schedule APIs and print normalised JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="{fetch,status,campaign,attachments,tod}")
        actions.required = True
        fetch = actions.add_parser("fetch", help="fetch one kind of record and print it as JSON")
        fetch.add_argument("kind", choices=KINDS, help="what to fetch")
        fetch.add_argument("id", nargs="?", help="agent id, queue id, schedule id or schedule name (spaces allowed)")
        self._connection_flags(fetch)
        fetch.add_argument(
            "--format",
            dest="fmt",
            choices=("json", "xml"),
            default="json",
            help="wire format to request (default json)",
        )
        fetch.add_argument(
            "--utctime", type=int, help="schedule-status/next: evaluate at this epoch time in milliseconds"
        )
        fetch.add_argument("--offset", type=int, help="schedule-status/next: add this many seconds")
        fetch.add_argument(
            "--api",
            choices=("classic", "gateway"),
            default="classic",
            help="queue/queues: read through the classic statistics API (token) or the statistics gateway (API key)",
        )
        fetch.add_argument("--api-key", help=API_KEY_HELP)
        fetch.add_argument(
            "--queue-ids",
            help="queues with --api gateway: the comma-separated queue ids to read (the gateway has no queue list)",
        )
        analytics_cli.add_flags(fetch)  # --source analytics (vcc/management/analytics_cli.py)

        status = actions.add_parser("status", help="print a schedule's state: status, label, next_change")
        status.add_argument("schedule_id", help="the schedule id")
        status.add_argument(
            "--local", action="store_true", help="compute from the schedule definition, not the /nextstatus endpoint"
        )
        status.add_argument("--utctime", type=int, help="evaluate at this epoch time in milliseconds (default now)")
        status.add_argument(
            "--tenant-tz",
            default=None,
            help="time zone when the schedule has no usable one (default settings.TIME_ZONE)",
        )
        self._connection_flags(status)
        campaign_cli.add_parser(actions, self._connection_flags)
        attachments_parser(actions, self._connection_flags)
        tod_cli.add_parser(actions)
        status.add_argument(
            "--format",
            dest="fmt",
            choices=("json", "xml"),
            default="json",
            help="wire format to request (default json)",
        )

    @staticmethod
    def _connection_flags(parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url", help="platform root, e.g. https://vcc-na4.8x8.com (http only for loopback hosts)"
        )
        parser.add_argument("--tenant", help="tenant name (the basic auth user)")
        parser.add_argument("--token", help=TOKEN_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = self._run(options)
        except (Failure, campaign_cli.CampaignFailure, tod_cli.TodFailure, VccError, ValueError) as exc:
            self._fail(str(exc))
        except Exception as exc:  # the one-line promise holds even for our own bugs
            # The class only: a library's message may quote a header or URL with the token.
            self._fail(f"unexpected failure ({type(exc).__name__}); nothing was fetched")
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        if isinstance(result, campaign_cli.Partial):
            sys.exit(2)  # the call went through, some customers were refused

    def _fail(self, message: str) -> None:
        self.stderr.write("error: " + " ".join(message.split()))
        sys.exit(1)

    def _run(self, options: dict[str, Any]) -> Any:
        if options["action"] == "campaign":
            return campaign_cli.run(options)
        if options["action"] == "attachments":
            return run_attachments(options, self.stdout, self.stderr)
        if options["action"] == "tod":
            return tod_cli.run(options)
        if analytics_cli.wants_analytics(options):
            return analytics_cli.run(options)
        client = self._client(options)
        with client:
            if options["action"] == "fetch":
                return _plain(self._fetch(client, options))
            return self._status(client, options)

    def _client(self, options: dict[str, Any]) -> VccClient:
        token = options.get("token") or os.environ.get("VCC_TOKEN", "")
        if not options.get("base_url"):
            raise Failure("missing --base-url (e.g. https://vcc-na4.8x8.com)")
        if not options.get("tenant"):
            raise Failure("missing --tenant")
        if options.get("api", "classic") == "gateway":
            return self._gateway_client(options, token)
        if not token:
            raise Failure("missing token: set VCC_TOKEN or pass --token")
        return VccClient.from_settings(options["base_url"], options["tenant"], token, fmt=options["fmt"])

    def _gateway_client(self, options: dict[str, Any], token: str) -> VccClient:
        """A client whose queues come through the gateway; the rest still needs the token."""
        kind = options["kind"]
        api_key = options.get("api_key") or os.environ.get("VCC_API_KEY", "")
        if not api_key:
            raise Failure("missing API key: set VCC_API_KEY or pass --api-key")
        if kind not in GATEWAY_KINDS and not token:
            raise Failure(
                f"missing token: the statistics gateway serves queues only, so {kind} still needs the "
                "Data Request Token; set VCC_TOKEN or pass --token"
            )
        if kind in GATEWAY_KINDS and options["fmt"] != "json":
            raise Failure("the statistics gateway answers JSON only; leave out --format xml")
        queue_ids = _queue_ids(options.get("queue_ids"))
        if kind == "queues" and not queue_ids:
            raise Failure("the statistics gateway has no queue list: name the queues with --queue-ids 201,202")
        return VccClient.from_settings(
            options["base_url"], options["tenant"], token or None, fmt=options["fmt"],
            api="gateway", api_key=api_key, queue_ids=queue_ids,
        )

    def _fetch(self, client: VccClient, options: dict[str, Any]) -> Any:
        kind = options["kind"]
        ident: str = options.get("id") or ""  # only read below for a kind in NEEDS_ID
        if kind in NEEDS_ID and not ident:
            raise Failure(f"{kind} needs an id (or a name for schedule-by-name)")
        when = {"utctime_ms": options.get("utctime"), "offset_s": options.get("offset")}
        calls: dict[str, Callable[[], object]] = {
            "agents": lambda: client.agents(),
            "agent": lambda: client.agent(ident),
            "queues": lambda: client.queues(),
            "queue": lambda: client.queue(ident),
            "schedules": lambda: client.schedules(),
            "schedule": lambda: client.schedule(ident),
            "schedule-by-name": lambda: client.schedule_by_name(ident),
            "schedule-status": lambda: client.schedule_status(ident, **when),
            "schedule-next": lambda: client.schedule_next(ident, **when),
        }
        return calls[kind]()

    def _status(self, client: VccClient, options: dict[str, Any]) -> dict[str, Any]:
        schedule_id, utctime = options["schedule_id"], options.get("utctime")
        if not options["local"]:
            answer = client.schedule_next(schedule_id, utctime_ms=utctime)
            return {"status": answer.status, "label": answer.label, "next_change": iso_utc(answer.next_change)}
        try:
            from wallboard.schedules.engine import evaluate
        except ImportError:
            raise Failure(
                "local schedule evaluation is not available (wallboard.schedules.engine is missing)"
            ) from None
        schedule = client.schedule(schedule_id)
        at = datetime.fromtimestamp(utctime / 1000, tz=UTC) if utctime is not None else datetime.now(UTC)
        state = evaluate(schedule, at, options.get("tenant_tz") or settings.TIME_ZONE)
        label = getattr(state, "label", None) or status_label(state.status)
        return {"status": state.status, "label": label, "next_change": iso_utc(state.next_change)}


def _queue_ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _plain(result: Any) -> Any:
    if isinstance(result, list):
        return [item.to_dict() for item in result]
    return result.to_dict()

