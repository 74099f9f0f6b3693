"""Create (or refresh) the demo tenant, board, display and admin login against a simulator."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from wallboard.boards.models import Board, BoardQueue, Display, DisplayBoard, QueueGroup, Tenant, Threshold
from wallboard.devstack.embedded_redis import private_dir
from wallboard.polling.clients import client_for
from wallboard.vcc.errors import VccError

PASSWORD_FILE = settings.BASE_DIR / ".run" / "admin-password"


def _read_password() -> str:
    try:
        return PASSWORD_FILE.read_text().strip()
    except OSError:
        return ""


def _write_password(password: str) -> None:
    """Write the password readable by its owner only, from the first byte on."""
    private_dir(PASSWORD_FILE.parent)
    fd = os.open(PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    os.chmod(PASSWORD_FILE, 0o600)  # a file left by an older version may have been wider


class Command(BaseCommand):
    help = "Create the demo tenant and board pointing at a running simulator, and print how to open them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8088", help="the simulator's URL")
        parser.add_argument("--web-url", default="http://127.0.0.1:8000", help="where the web UI is served")
        parser.add_argument("--time-zone", default="UTC", help="the demo contact center's time zone")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = self._tenant(options["base_url"], options["time_zone"])
        board = self._board(tenant)
        password = self._admin()
        token = self._display(board)
        web = options["web_url"].rstrip("/")
        self.stdout.write(f"demo board {web}/d/{token}  (kiosk URL for a TV)")
        self.stdout.write(f"supervisor {web}/boards/{board.slug}/")
        self.stdout.write(f"admin      {web}/admin/  user admin, password {password}")

    def _tenant(self, base_url: str, time_zone: str) -> Tenant:
        tenant, _ = Tenant.objects.update_or_create(
            name="Demo (simulator)",
            defaults={"base_url": base_url, "tenant_name": "demo", "token": "demo-token", "time_zone": time_zone},
        )
        return tenant

    @transaction.atomic
    def _board(self, tenant: Tenant) -> Board:
        board, created = Board.objects.get_or_create(slug="demo", defaults={"title": "Demo contact center", "tenant": tenant})
        if not created and board.queues.exists():
            return board
        try:
            client = client_for(tenant)
            queues = client.queues()
            schedules = client.schedules()
        except VccError as exc:
            self.stderr.write(f"could not read the simulator's queues ({exc}); the demo board starts empty")
            return board
        schedule_ids = [s.id for s in schedules]
        for position, queue in enumerate(queues):
            schedule_id = schedule_ids[position % len(schedule_ids)] if schedule_ids else ""
            BoardQueue.objects.get_or_create(
                board=board, queue_id=queue.queue_id, defaults={"position": position, "schedule_id": schedule_id}
            )
        phone = [q.queue_id for q in queues if q.media_type == "phone"]
        if len(phone) > 1:
            QueueGroup.objects.get_or_create(board=board, name="All phone queues", defaults={"queue_ids": phone})
        Threshold.objects.get_or_create(board=board, metric="queue_size", queue_id="", defaults={"warn": 3, "alert": 6})
        Threshold.objects.get_or_create(
            board=board, metric="longest_wait_time", queue_id="", defaults={"warn": 60, "alert": 180}
        )
        Threshold.objects.get_or_create(
            board=board, metric="sla_activity", queue_id="", defaults={"direction": "below", "warn": 80, "alert": 60}
        )
        return board

    def _admin(self) -> str:
        """The admin password that works for *this* database, reset when the saved one does not.

        Every stack (make run, benches, stack tests) may use its own database from the same
        checkout, so the saved file can hold another database's password: check it, never trust it.
        """
        User = get_user_model()
        user = User.objects.filter(username="admin").first()
        saved = _read_password()
        if user is not None and saved and user.is_active and user.is_staff and user.check_password(saved):
            return saved
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User(username="admin")
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        _write_password(password)
        return password

    def _display(self, board: Board) -> str:
        display = Display.objects.filter(name="Demo TV").first() or Display(name="Demo TV")
        token = display.issue_token()
        display.revoked = None
        display.save()
        DisplayBoard.objects.get_or_create(display=display, board=board)
        return token
