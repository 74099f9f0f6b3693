"""The admin's write-only secrets (tokens, API keys, client secrets): the form field and the status shown instead."""

from __future__ import annotations

from django import forms
from django.db import models
from django.utils.translation import gettext
from django_stubs_ext import StrOrPromise

from wallboard.boards.crypto import unreadable_fields, unreadable_message


def secret_field(label: StrOrPromise, help_text: StrOrPromise) -> forms.CharField:
    """A secret that is never rendered back into the page; the form's clean_* keeps the stored one when blank.

    render_value=False and autocomplete=new-password: the value is neither in the HTML nor
    offered by the browser's password manager to the next administrator.
    """
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


def secret_status(obj: models.Model, field: str, *, optional: bool = False) -> str:
    """What the admin shows in place of a stored secret: never the value, only whether it is usable.

    `optional`: the field may be empty, and then says so ("None stored.").
    """
    if field in unreadable_fields(obj):
        return gettext("Not usable: %(problem)s.") % {"problem": unreadable_message([field])}
    if optional and not getattr(obj, field):
        return gettext("None stored.")
    return gettext("Stored encrypted; never shown.")
