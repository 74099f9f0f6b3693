"""`{% may_control_campaigns board_slug as can %}`: whether the user may control a board's campaigns."""

from __future__ import annotations

from typing import Any

from django import template

from wallboard.boards.models import Board
from wallboard.campaigns.selectors import campaigns_on, may_control

register = template.Library()


@register.simple_tag(takes_context=True)
def may_control_campaigns(context: dict[str, Any], board_slug: str) -> bool:
    """True when the board shows campaigns and the signed-in user may control them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return False
    board = Board.objects.filter(slug=board_slug).first()
    return board is not None and may_control(user, board) and campaigns_on(board).exists()
