"""Create a display for a board and print its kiosk URL (the token is shown only this once)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from wallboard.boards.models import Board, Display, DisplayBoard


def default_base_url() -> str:
    """WALLBOARD_BASE_URL if set, else the local server `make run` starts (PORT respected)."""
    configured = getattr(settings, "WALLBOARD_BASE_URL", "") or os.environ.get("WALLBOARD_BASE_URL", "")
    return configured or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"


class Command(BaseCommand):
    help = "Create a display (a TV) for BOARD_SLUG and print the URL to open on it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("board_slug", metavar="BOARD_SLUG")
        parser.add_argument("--name", help="what to call the display in admin (default: “<board title> TV”)")
        parser.add_argument(
            "--base-url", default=None,
            help="where the web UI is served (default: WALLBOARD_BASE_URL, else http://127.0.0.1:$PORT, PORT 8000)",
        )

    def handle(self, *args: Any, board_slug: str, name: str | None, base_url: str | None, **options: Any) -> None:
        board = Board.objects.filter(slug=board_slug).first()
        if board is None:
            known = ", ".join(Board.objects.values_list("slug", flat=True)[:20]) or "none yet"
            raise CommandError(f"no board with slug “{board_slug}” (known: {known})")
        base = (base_url or default_base_url()).rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise CommandError("--base-url must start with http:// or https://")
        with transaction.atomic():
            display = Display(name=name or f"{board.title} TV")
            token = display.issue_token()
            display.save()
            DisplayBoard.objects.create(display=display, board=board)
        self.stdout.write(base + reverse("boards:display", args=[token]))
