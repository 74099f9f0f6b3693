"""The supervisor's announcement form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wallboard.alerts.models import Announcement
from wallboard.boards.models import Board

DEFAULT_LENGTH = timedelta(hours=1)
LONGEST = timedelta(days=31)


class AnnouncementForm(forms.Form):
    boards = forms.ModelMultipleChoiceField(queryset=Board.objects.none(), widget=forms.CheckboxSelectMultiple)
    message = forms.CharField(max_length=280, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 280}),
                              help_text=_("Plain text, up to 280 characters."))
    severity = forms.ChoiceField(choices=Announcement.SEVERITIES, initial="info")
    starts = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    ends = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args: Any, boards: QuerySet[Board], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["boards"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = boards
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["starts"].initial = now
        self.fields["ends"].initial = now + DEFAULT_LENGTH

    def clean_message(self) -> str:
        message = " ".join(str(self.cleaned_data["message"]).split())
        if not message:
            raise forms.ValidationError("Write a message.")
        return message

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts"), data.get("ends")
        if starts and ends:
            if ends <= starts:
                self.add_error("ends", "The end must be after the start.")
            elif ends <= timezone.now():
                self.add_error("ends", "The end is already past.")
            elif ends - starts > LONGEST:
                self.add_error("ends", "An announcement may last 31 days at most.")
        return data
