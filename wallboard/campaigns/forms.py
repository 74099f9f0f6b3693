"""The supervisor's campaign forms: every one carries an idempotency key against double submits."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wallboard.campaigns.services import ACTIONS, CallbackTimeError, callback_time
from wallboard.vcc.campaigns import check_customer_id


def new_key() -> str:
    return secrets.token_hex(16)


class KeyedForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=40, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", False)  # several forms per page: no clashing element ids
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("key", new_key())


class ActionForm(KeyedForm):
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    confirm = forms.CharField(required=False, max_length=200)


class CustomerForm(KeyedForm):
    customer_id = forms.CharField(label=_("Customer id"), max_length=64, help_text=_("The CRM account number."))

    def clean_customer_id(self) -> str:
        try:
            return check_customer_id(self.cleaned_data["customer_id"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)[0].upper() + str(exc)[1:] + ".") from None


class CallbackForm(CustomerForm):
    """Customer id and a local date and time in the tenant's zone (both empty: no callback time)."""

    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["time"].help_text = f"Local time in {zone}."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, at = cleaned.get("date"), cleaned.get("time")
        cleaned["at"] = None
        if day is None and at is None:
            return cleaned
        if day is None or at is None:
            raise forms.ValidationError("Give both a date and a time for the callback, or neither.")
        try:
            cleaned["at"] = callback_time(self.zone, day, at)
        except CallbackTimeError as exc:
            raise forms.ValidationError(f"The callback time {exc}.") from None
        return cleaned
