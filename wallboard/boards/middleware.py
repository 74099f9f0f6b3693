"""A display's language from its address (`?lang=de`), for TVs whose browser says nothing useful."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import translation
from django.utils.deprecation import MiddlewareMixin


def query_language(request: HttpRequest) -> str | None:
    """The supported language named by `?lang=` (de, de-CH → de), or None."""
    wanted = request.GET.get("lang", "")[:16]
    if not wanted:
        return None
    try:
        return translation.get_supported_language_variant(wanted)
    except LookupError:
        return None


class QueryLanguageMiddleware(MiddlewareMixin):
    """Activate `?lang=` after LocaleMiddleware has picked the browser's language.

    A TV's own browser (or a casting stick) often sends Accept-Language: en whatever the room
    speaks, so each display link can name its language; supervisors keep their browser's.
    MiddlewareMixin keeps it usable in the async (uvicorn) chain without a thread hop.
    """

    def process_request(self, request: HttpRequest) -> None:
        lang = query_language(request)
        if lang is not None:
            translation.activate(lang)
            request.LANGUAGE_CODE = lang  # as LocaleMiddleware does: templates and views read it
