"""`{% may_announce board_slug as can %}`: whether the signed-in user may announce on a board."""

from __future__ import annotations

from typing import Any

from django import template

from wallboard.alerts.announcements import boards_user_may_announce

register = template.Library()


@register.simple_tag(takes_context=True)
def may_announce(context: dict[str, Any], board_slug: str) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user is not None and boards_user_may_announce(user).filter(slug=board_slug).exists()
