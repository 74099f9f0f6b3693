"""What the admin actions do, as plain functions: admin.py only checks, asks and reports."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from wallboard.boards.crypto import DecryptionError
from wallboard.boards.models import Board, BoardQueue, Display, DisplayBoard, Tenant

log = logging.getLogger(__name__)


def test_tenant_connection(tenant: Tenant) -> tuple[bool, str]:
    """Call agents, queues and schedules once; fill the catalogue and say what was found.

    On success the catalogue is refreshed right away, so board forms offer the tenant's
    queues without waiting for the first poll.
    """
    from wallboard.polling.catalogue import catalogue_from_records, update_catalogue
    from wallboard.vcc.errors import VccError

    try:
        client = tenant.client()
        agents, queues, schedules = client.agents(), client.queues(), client.schedules()
    except VccError as exc:
        return False, f"{tenant}: connection failed: {exc}"
    except DecryptionError as exc:
        return False, f"{tenant}: the stored token cannot be read ({exc}); enter the token again."
    update_catalogue(
        tenant.pk,
        **catalogue_from_records(agents, queues),
        schedules=[{"id": s.id, "name": s.name or s.id} for s in schedules],
        as_of=timezone.now().isoformat(),
    )
    return True, f"{tenant}: connected. Found {len(agents)} agents, {len(queues)} queues and {len(schedules)} schedules."


def send_control(display: Display, action: str, **payload) -> bool:
    """Reach a display's open pages live; False when the channel layer is down."""
    from wallboard.live.publish import send_display_control

    try:
        send_display_control(display.pk, action, **payload)
    except Exception:
        log.warning("could not send %s to display %r (id %s)", action, display.name, display.pk, exc_info=True)
        return False
    return True


def issue_new_urls(displays: Iterable[Display]) -> list[tuple[Display, str]]:
    """Give each display a new token (re-enabling a revoked one) and drop screens on the old one.

    Only the hash is stored, so the returned tokens must be shown now or never.
    """
    issued = []
    with transaction.atomic():
        for display in displays:
            token = display.issue_token()
            display.revoked = None
            display.save(update_fields=["token_hash", "revoked"])
            issued.append((display, token))
    for display, _ in issued:
        send_control(display, "revoke")  # screens on the old URL drop off now
    return issued


def revoke_displays(displays: list[Display]) -> list[Display]:
    """Revoke the displays and disconnect their screens; return those not reached live.

    The unreached ones still stop within one poll cycle: the revocation is in the database.
    """
    Display.objects.filter(pk__in=[d.pk for d in displays], revoked__isnull=True).update(revoked=timezone.now())
    return [d for d in displays if not send_control(d, "revoke")]


def switch_displays(displays: list[Display], board: Board, seconds: int) -> list[Display]:
    """Make the board each display's only one and tell the screens; return those not reached live."""
    with transaction.atomic():
        for display in displays:
            display.rotation.all().delete()
            DisplayBoard.objects.create(display=display, board=board, seconds=seconds)
    return [d for d in displays if not send_control(d, "switch", url="/kiosk/")]


def rows_with_missing_schedules(board: Board, known_schedules: dict[str, str]) -> list[BoardQueue]:
    """The board's queues mapped to a schedule 8x8 no longer lists.

    An empty catalogue means "not read yet", not "no schedules", so it finds nothing then.
    """
    if not known_schedules or not board.pk:
        return []
    rows = board.queues.exclude(schedule_id="").order_by("position", "pk")
    return [row for row in rows if row.schedule_id not in known_schedules]
