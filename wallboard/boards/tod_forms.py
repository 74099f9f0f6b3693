"""Admin forms for ContactNow: the account (write-only token) and one rule of the hours editor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wallboard.boards.crypto import unreadable_fields, unreadable_message
from wallboard.boards.models import ContactNowAccount
from wallboard.boards.secret_fields import secret_field
from wallboard.vcc.parse.tod import DAY_NAMES, TodRule, parse_ranges, rule_problems

DAY_LABELS = [(d, d.capitalize()) for d in DAY_NAMES]
ACTIONS = [
    ("queue", "Open: calls queue"),
    ("voicemail", "Closed: voicemail"),
    ("hangup", "Closed: hang up"),
    ("jump", "Redirect to another queue"),
]


class ContactNowAccountForm(forms.ModelForm[ContactNowAccount]):
    """An account; the token is write-only: never rendered, blank on edit keeps the stored one."""

    token = secret_field(
        _("Access token"),
        _("Stored encrypted and never shown again. Leave empty to keep the current token. Tokens "
        "expire and are bound to the address that asked for them: issue it from this server's address."),
    )

    class Meta:
        model = ContactNowAccount
        fields = ["name", "base_url", "token", "time_zone", "response_format", "refresh_interval", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "token" in unreadable_fields(self.instance):
            self.fields["token"].help_text = _("Not usable: %(problem)s.") % {"problem": unreadable_message(["token"])}

    def clean_token(self) -> str:
        token = self.cleaned_data.get("token", "")
        if token:
            return str(token)
        if self.instance.pk:
            stored: str = self.instance.token
            return stored
        raise forms.ValidationError("Enter the account's ContactNow access token.")


class RuleForm(forms.Form):
    """One rule of a policy, checked before anything is sent to ContactNow."""

    rule = forms.IntegerField(
        label=_("Rule number"), min_value=1, max_value=9999,
        help_text=_("Higher numbers are matched first. An existing number is updated, never created twice."),
    )
    days = forms.MultipleChoiceField(label=_("Days"), choices=DAY_LABELS, widget=forms.CheckboxSelectMultiple)
    ranges = forms.CharField(
        label=_("Times"), max_length=200, initial="09:00-17:00",
        help_text=_("24-hour ranges, comma-separated: 09:00-12:00,13:00-17:30. 00:00-24:00 is the whole day; "
        "22:00-06:00 runs past midnight into the next day."),
    )
    action = forms.ChoiceField(label=_("Then"), choices=ACTIONS)
    jump_queue = forms.CharField(label=_("Redirect to queue id"), max_length=20, required=False)
    on_date = forms.DateField(
        label=_("Only on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For a one-day rule such as a holiday (e.g. closed on 2026-12-25). Empty: every week."),
    )
    every_year = forms.BooleanField(label=_("Every year on that day"), required=False)

    def __init__(self, *args: Any, policy: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy

    def clean_ranges(self) -> tuple[tuple[str, str], ...]:
        try:
            return parse_ranges(self.cleaned_data["ranges"])
        except ValueError as exc:
            raise forms.ValidationError(f"{exc}; write ranges as 09:00-17:00,18:00-20:00.") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        action = data["action"]
        if action == "jump":
            target = (data.get("jump_queue") or "").strip()
            if not target.isdigit():
                raise forms.ValidationError("A redirect needs the id (digits) of the queue to send calls to.")
            action = f"jump:{target}"
        day = data.get("on_date")
        rule = TodRule(
            policy=self.policy,
            rule=data["rule"],
            year=day.year if day and not data.get("every_year") else 0,
            month=day.month if day else 0,
            date=day.day if day else 0,
            days=tuple(d for d in DAY_NAMES if d in data["days"]),
            ranges=data["ranges"],
            action=action,
        )
        problems = rule_problems(rule)
        if problems:
            raise forms.ValidationError(problems)
        data["tod_rule"] = rule
        return data


def initial_for(rule: TodRule) -> dict[str, Any]:
    """The form's initial data to change an existing rule."""
    jump = rule.action.startswith("jump:")
    initial: dict[str, Any] = {
        "rule": rule.rule,
        "days": list(rule.days),
        "ranges": ",".join(f"{a}-{b}" for a, b in rule.ranges),
        "action": "jump" if jump else rule.action,
        "jump_queue": rule.action[5:] if jump else "",
    }
    if rule.month and rule.date:
        # 2000 stands for "every year" (a leap year: 29 February fits).
        initial["on_date"] = f"{rule.year or 2000:04d}-{rule.month:02d}-{rule.date:02d}"
        initial["every_year"] = not rule.year
    return initial
