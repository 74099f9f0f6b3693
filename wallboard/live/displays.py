"""What an administrator does to displays (new URL, revoke, reload, switch), and telling their screens.

The database change comes first and is the guarantee (each socket re-checks its access every
few seconds); the live message through the channel layer only makes it instant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from wallboard.boards.models import Board, Display, DisplayBoard
from wallboard.live import publish

log = logging.getLogger(__name__)


def send_control(display: Display, action: str, **payload: Any) -> bool:
    """Reach a display's open pages live; False when the channel layer is down."""
    try:
        publish.send_display_control(display.pk, action, **payload)
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
