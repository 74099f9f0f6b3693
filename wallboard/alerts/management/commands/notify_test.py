"""Send a test notification to an Apprise URL: `manage.py notify_test URL`.

Prints one line: `delivered to <scheme://host>` and exit status 0, or `error: <why>` on stderr
and exit status 1. The URL is a secret: neither line repeats more than its scheme and host.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wallboard.alerts.apprise_urls import redact
from wallboard.alerts.delivery import send

TITLE = "Wallboard test notification"
BODY = "If you can read this, the wallboard can send alerts here."


class Command(BaseCommand):
    help = "Send a test notification to an Apprise URL (json://, mailto://, slack://, msteams://, ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", metavar="URL", help="an Apprise URL; quote it for the shell")
        parser.add_argument("--timeout", type=float, default=None, help="seconds to wait (default ALERTS_SEND_TIMEOUT)")

    def handle(self, *args: Any, url: str, timeout: float | None, **options: Any) -> None:
        result = send(url, TITLE, BODY, "info", timeout=timeout)
        if not result.ok:
            self.stderr.write("error: " + " ".join(f"{redact(url)}: {result.detail}".split()))
            sys.exit(1)
        self.stdout.write(f"delivered to {redact(url)}")
