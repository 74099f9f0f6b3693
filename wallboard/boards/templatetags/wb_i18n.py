"""The active language's script strings, put into the page as JSON (CSP-safe, no extra request)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JavaScriptCatalog

register = template.Library()


def js_catalog(lang: str) -> dict[str, object]:
    """Django's djangojs catalogue of `lang` from our locale/ only (not the admin's strings)."""
    view = JavaScriptCatalog()
    view.translation = DjangoTranslation(lang, domain="djangojs", localedirs=[str(p) for p in settings.LOCALE_PATHS])
    return view.get_context_data()


@register.simple_tag
def wallboard_js_catalog() -> SafeString:
    """<script type="application/json" id="wb-i18n"> for static/wallboard/js/i18n.js."""
    lang = get_language() or settings.LANGUAGE_CODE
    # Plural rules are left out: they are JS expressions, and the CSP forbids eval.
    return json_script({"lang": lang, "catalog": js_catalog(lang)["catalog"]}, "wb-i18n")
