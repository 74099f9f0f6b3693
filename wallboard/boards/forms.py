"""Admin forms: they do the validation, so bad configuration never reaches the poller."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.db.models import Model
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from wallboard.boards.crypto import unreadable_fields, unreadable_message
from wallboard.boards.models import (
    METRIC_NAMES,
    QUEUE_METRICS,
    Board,
    BoardAgentGroup,
    BoardQueue,
    Display,
    QueueGroup,
    Tenant,
    Threshold,
)
from wallboard.boards.secret_fields import secret_field

# The documented 8x8 Contact Center platforms (see ../shared/api/*.txt); any other https host may be typed.
PLATFORMS = [
    "https://vcc-na4.8x8.com",
    "https://vcc-na7.8x8.com",
    "https://vcc-eu2.8x8.com",
    "https://na1.mycontactual.com",
    "https://na2.mycontactual.com",
    "https://na3.mycontactual.com",
    "https://na4.mycontactual.com",
    "https://www.mycontactual.ca",
    "https://www.mycontactual.co.uk",
]
NO_CATALOGUE_HELP = "Test the connection or wait for the first poll to get choices."
_Row = TypeVar("_Row", bound=Model)  # the model of one inline row


class DatalistInput(forms.TextInput):
    """A text input that suggests values (the browser shows them as a drop-down) but accepts any."""

    def __init__(self, options: list[str], list_id: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({**(attrs or {}), "list": list_id, "size": 40, "autocomplete": "off"})
        self.options = options
        self.list_id = list_id

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        field = super().render(name, value, attrs, renderer)
        items = format_html_join("", '<option value="{}">', ((option,) for option in self.options))
        return format_html('{}<datalist id="{}">{}</datalist>', field, self.list_id, items)


class TenantForm(forms.ModelForm[Tenant]):
    """A tenant; the token and API key are write-only: never rendered, blank on edit keeps the stored one."""

    base_url = forms.CharField(
        label=_("Platform URL"),
        max_length=200,
        widget=DatalistInput(PLATFORMS, "vcc-platforms"),
        help_text=_("Pick your platform (the host you log in to) or type its https:// URL."),
    )
    token = secret_field(
        _("Data request token"),
        _("Stored encrypted and never shown again. Leave empty to keep the current token."),
    )
    api = forms.ChoiceField(
        label=_("Statistics API"),
        choices=Tenant.APIS,
        required=False,  # a form posted without it (a script, an older page) keeps what is stored
        widget=forms.RadioSelect,
        help_text=Tenant._meta.get_field("api").help_text,
    )
    api_key = secret_field(
        _("API key"),
        _("For the statistics gateway. Stored encrypted and never shown again. "
        "Leave empty to keep the current key."),
    )

    action_token = secret_field(
        _("Action token"),
        _("For campaign control (8x8's CC action token, not the data request token). Stored encrypted "
        "and never shown again. Leave empty to keep the current token."),
    )

    # The Analytics (v5) source, issue 17: the secret is write-only like the token.
    source = forms.ChoiceField(
        label=_("Statistics source"),
        choices=Tenant.SOURCES,
        required=False,  # a form posted without it keeps what is stored
        widget=forms.RadioSelect,
        help_text=Tenant._meta.get_field("source").help_text,
    )
    analytics_region = forms.ChoiceField(
        label=_("Analytics region"),
        choices=Tenant._meta.get_field("analytics_region").choices or (),
        required=False,  # as `source`: a form posted without it keeps what is stored
        help_text=Tenant._meta.get_field("analytics_region").help_text,
    )
    analytics_client_secret = secret_field(
        _("Analytics API secret"),
        _("Stored encrypted and never shown again. Leave empty to keep the current secret."),
    )

    class Meta:
        model = Tenant
        fields = [
            "name",
            "base_url",
            "tenant_name",
            "token",
            "api",
            "api_key",
            "action_token",
            "source",
            "analytics_client_id",
            "analytics_client_secret",
            "analytics_region",
            "analytics_tenant_info",
            "analytics_base_url",
            "time_zone",
            "response_format",
            "poll_interval",
            "schedule_refresh_interval",
            "enabled",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A secret stored under a key that is gone: the field says so where the new one is typed.
        for name in unreadable_fields(self.instance):
            if name in self.fields:
                self.fields[name].help_text = _("Not usable: %(problem)s.") % {"problem": unreadable_message([name])}

    def clean_token(self) -> str:
        token: str = self.cleaned_data.get("token", "")
        if token:
            return token
        if self.instance.pk:
            # Possibly an UnreadableSecret: saving writes its ciphertext back unchanged, so the
            # rest of the tenant can be edited, and putting the old key back still recovers it.
            stored: str = self.instance.token
            return stored
        raise forms.ValidationError("Enter the tenant's data request token (from 8x8 Configuration Manager).")

    def clean_api(self) -> str:
        return self.cleaned_data.get("api") or self.instance.api or "classic"

    def clean_action_token(self) -> str:
        # Blank keeps the stored token (campaign control is optional: none stored is fine).
        return self.cleaned_data.get("action_token", "") or self.instance.action_token or ""

    def clean_api_key(self) -> str:
        # Blank keeps the stored key; the model refuses a gateway tenant without one.
        return self.cleaned_data.get("api_key", "") or self.instance.api_key or ""

    def clean_source(self) -> str:
        return self.cleaned_data.get("source") or self.instance.source or "statistics"

    def clean_analytics_region(self) -> str:
        return self.cleaned_data.get("analytics_region") or self.instance.analytics_region or "us"

    def clean_analytics_client_secret(self) -> str:
        # Blank keeps the stored secret; the model refuses an Analytics tenant without one.
        return self.cleaned_data.get("analytics_client_secret", "") or self.instance.analytics_client_secret or ""


# Option labels longer than this are cut with an ellipsis: 8x8 names are untrusted and a
# 10,000-character queue name must not stretch every select of the board form off the screen.
LABEL_MAX = 80
# The tooltip that carries the full name is capped too: each inline row repeats every option,
# so uncapped titles would multiply a hostile name into megabytes of admin page.
TITLE_MAX = 1000
MISSING_UPSTREAM = "{} (not seen upstream lately)"
MISSING_SCHEDULE = "{} (schedule missing in 8x8)"


def shorten(text: str, limit: int = LABEL_MAX) -> str:
    """Collapse whitespace and cut to `limit` characters, ending in "…" when cut."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Catalogue:
    """A tenant's queues, agent groups and schedules as choices, plus ids already saved.

    The dicts map id to its full label; widgets shorten labels for display.
    """

    def __init__(self, data: dict[str, Any] | None, tenant_name: str = "") -> None:
        data = data or {}
        self.queues = {q["id"]: _queue_label(q) for q in data.get("queues") or []}
        self.agent_groups = {g["id"]: g.get("name") or g["id"] for g in data.get("agent_groups") or []}
        self.schedules = {s["id"]: s.get("name") or s["id"] for s in data.get("schedules") or []}
        self.tenant_name = tenant_name
        self.saved_queues: set[str] = set()
        self.saved_groups: set[str] = set()
        self.saved_schedules: set[str] = set()


def _queue_label(queue: dict[str, Any]) -> str:
    media = f", {queue['media_type']}" if queue.get("media_type") else ""
    return f"{queue.get('name') or queue['id']} ({queue['id']}{media})"


def option_label(label: str) -> str:
    """A label short enough for a select; the "(id, media)" tail of a queue label survives the cut.

    The tail tells apart queues whose long names start alike, so the name is cut, not the tail.
    """
    label = " ".join(str(label).split())
    if len(label) <= LABEL_MAX:
        return label
    name, sep, tail = label.rpartition(" (")
    if not sep or not tail.endswith(")") or len(tail) > LABEL_MAX // 2:
        return shorten(label)
    tail = f" ({tail}"
    return shorten(name, LABEL_MAX - len(tail)) + tail


class TitledSelectMixin(forms.Select):
    """Options show a shortened label; a cut one keeps the full name as its tooltip (title)."""

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        full = " ".join(str(label).split())
        short = option_label(full)
        option = super().create_option(name, value, short, selected, index, subindex, attrs)
        if short != full:
            option["attrs"]["title"] = shorten(full, TITLE_MAX)
        return option


class TitledSelect(TitledSelectMixin, forms.Select):
    pass


class TitledSelectMultiple(TitledSelectMixin, forms.SelectMultiple):
    pass


def _choices(
    known: dict[str, str], saved: set[str], blank: str | None, missing: str = MISSING_UPSTREAM
) -> list[tuple[str, str]]:
    """Known ids first, then saved ids no longer seen upstream (so old rows stay valid)."""
    choices = [("", blank)] if blank is not None else []
    choices += sorted(known.items(), key=lambda item: item[1].lower())
    choices += [(i, missing.format(i)) for i in sorted(saved - known.keys())]
    return choices


def _invalid(kind: str, catalogue: Catalogue) -> str:
    owner = f"tenant “{shorten(catalogue.tenant_name)}”" if catalogue.tenant_name else "this board's tenant"
    return f"%(value)s is not one of the {kind} of {owner} (as last seen upstream)."


def id_field(
    known: dict[str, str],
    saved: set[str],
    kind: str,
    catalogue: Catalogue,
    *,
    required: bool,
    blank: str,
    missing: str = MISSING_UPSTREAM,
) -> forms.CharField | forms.ChoiceField:
    """A choice of known ids, or a plain text input while the catalogue is empty."""
    if not known:
        return forms.CharField(max_length=64, required=required, help_text=NO_CATALOGUE_HELP)
    return forms.ChoiceField(
        choices=_choices(known, saved, blank, missing),
        required=required,
        widget=TitledSelect,
        error_messages={"invalid_choice": _invalid(kind, catalogue)},
    )


class CatalogueFormMixin:
    """Takes the board's tenant catalogue and turns id fields into choices."""

    def __init__(self, *args: Any, catalogue: Catalogue | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue or Catalogue(None)
        self.use_catalogue(self.catalogue)

    def use_catalogue(self, catalogue: Catalogue) -> None:
        raise NotImplementedError


class BoardQueueForm(CatalogueFormMixin, forms.ModelForm[BoardQueue]):
    class Meta:
        model = BoardQueue
        fields = ["queue_id", "label", "schedule_id", "contactnow_account", "tod_policy", "position"]

    def use_catalogue(self, catalogue: Catalogue) -> None:
        self.fields["queue_id"] = id_field(
            catalogue.queues, catalogue.saved_queues, "queues", catalogue, required=True, blank="Choose a queue"
        )
        self.fields["queue_id"].label = _("Queue")
        self.fields["schedule_id"] = id_field(
            catalogue.schedules, catalogue.saved_schedules, "schedules", catalogue,
            required=False, blank="No schedule", missing=MISSING_SCHEDULE,
        )
        self.fields["schedule_id"].label = _("Schedule")
        if catalogue.schedules:
            self.fields["schedule_id"].help_text = _("The 8x8 schedule that says when this queue is open.")


class QueueIdsField(forms.MultipleChoiceField):
    """Queue ids for a group: a multi-select from the catalogue."""

    def __init__(self, catalogue: Catalogue, **kwargs: Any) -> None:
        super().__init__(
            choices=_choices(catalogue.queues, catalogue.saved_queues, None),
            widget=TitledSelectMultiple(attrs={"size": 6}),
            error_messages={
                "invalid_choice": _invalid("queues", catalogue),
                "required": "Choose at least one queue for the group.",
            },
            **kwargs,
        )


class QueueIdsText(forms.Field):
    """Queue ids for a group typed as a comma-separated list (no catalogue yet).

    A plain Field, not a CharField: its value is a list, never the text typed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            help_text="Comma-separated queue ids. " + NO_CATALOGUE_HELP,
            error_messages={"required": "Choose at least one queue for the group."},
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = "" if value in self.empty_values else str(value)
        return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]

    def validate(self, value: Any) -> None:
        if not value and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class QueueGroupForm(CatalogueFormMixin, forms.ModelForm[QueueGroup]):
    class Meta:
        model = QueueGroup
        fields = ["name", "queue_ids", "position"]

    def use_catalogue(self, catalogue: Catalogue) -> None:
        field: forms.Field = QueueIdsField(catalogue) if catalogue.queues else QueueIdsText()
        field.label = "Queues"
        self.fields["queue_ids"] = field

    def clean_queue_ids(self) -> list[str]:
        ids = list(dict.fromkeys(self.cleaned_data.get("queue_ids") or []))
        if not ids:
            raise forms.ValidationError("Choose at least one queue for the group.")
        return ids


class BoardAgentGroupForm(CatalogueFormMixin, forms.ModelForm[BoardAgentGroup]):
    class Meta:
        model = BoardAgentGroup
        fields = ["group_id", "name", "queue_ids"]

    def use_catalogue(self, catalogue: Catalogue) -> None:
        self.fields["group_id"] = id_field(
            catalogue.agent_groups, catalogue.saved_groups, "agent groups", catalogue,
            required=True, blank="Choose an agent group",
        )
        self.fields["group_id"].label = "Agent group"
        queues: forms.Field = (
            QueueIdsField(catalogue, required=False) if catalogue.queues else QueueIdsText(required=False)
        )
        queues.label = "Queues it answers"
        queues.help_text = BoardAgentGroup._meta.get_field("queue_ids").help_text + (
            "" if catalogue.queues else " " + queues.help_text
        )
        self.fields["queue_ids"] = queues

    def clean_queue_ids(self) -> list[str]:
        return list(dict.fromkeys(self.cleaned_data.get("queue_ids") or []))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        group_id = cleaned.get("group_id")
        if group_id and not cleaned.get("name") and group_id in self.catalogue.agent_groups:
            # The default name comes from 8x8, so it is cut to fit the column, not refused as too long.
            limit = BoardAgentGroup._meta.get_field("name").max_length
            assert limit is not None  # a CharField's
            cleaned["name"] = shorten(self.catalogue.agent_groups[group_id], limit)
        return cleaned


class ThresholdForm(CatalogueFormMixin, forms.ModelForm[Threshold]):
    class Meta:
        model = Threshold
        fields = ["metric", "queue_id", "direction", "warn", "alert"]

    def use_catalogue(self, catalogue: Catalogue) -> None:
        # Occupancy thresholds name an agent group (agent performance tiles, agent_stats).
        targets = {**{g: f"Agent group: {name}" for g, name in catalogue.agent_groups.items()}, **catalogue.queues}
        self.fields["queue_id"] = id_field(
            targets, catalogue.saved_queues, "queues", catalogue, required=False, blank="Every queue and group"
        )
        self.fields["queue_id"].label = _("Queue")
        if not catalogue.queues:
            self.fields["queue_id"].help_text = "Leave empty for every queue and group. " + NO_CATALOGUE_HELP


class UniqueRowsFormSet(BaseInlineFormSet[_Row, Board, forms.ModelForm[_Row]]):
    """An inline formset that names the duplicate in words instead of Django's generic message."""

    row_key_fields: tuple[str, ...] = ()
    duplicate_message = "This row appears twice."

    def clean(self) -> None:
        super().clean()
        seen: set[tuple[Any, ...]] = set()
        for form in self.forms:
            # A row marked for deletion: what BaseFormSet._should_delete_form reads.
            deleted = form.cleaned_data.get(DELETION_FIELD_NAME, False)
            if not form.has_changed() and not form.instance.pk or deleted:
                continue
            key = tuple(form.cleaned_data.get(name) for name in self.row_key_fields)
            if None in key:
                continue
            if key in seen:
                form.add_error(None, self.duplicate_message.format(*key))
                continue
            seen.add(key)

    def validate_unique(self) -> None:
        # clean() above reports duplicates with a clearer message than the generic check would.
        return None


class BoardQueueFormSet(UniqueRowsFormSet[BoardQueue]):
    row_key_fields = ("queue_id",)
    duplicate_message = "Queue {} is already on this board."


class BoardAgentGroupFormSet(UniqueRowsFormSet[BoardAgentGroup]):
    row_key_fields = ("group_id",)
    duplicate_message = "Agent group {} is already on this board."


class ThresholdFormSet(UniqueRowsFormSet[Threshold]):
    row_key_fields = ("metric", "queue_id")
    duplicate_message = "There is already a threshold for {} on queue “{}”."


class BoardForm(forms.ModelForm[Board]):
    """A board; metrics are chosen from the known queue metrics (order as listed)."""

    queue_metrics = forms.MultipleChoiceField(
        label=_("Queue metrics"),
        choices=QUEUE_METRICS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one metric to show on the queue tiles.",
            "invalid_choice": "%(value)s is not a known queue metric.",
        },
    )

    class Meta:
        model = Board
        fields = [
            "slug",
            "title",
            "tenant",
            "theme",
            "queue_metrics",
            "show_agents",
            "hide_logged_out",
            "mute_when_closed",
            "page_seconds",
            "language",
            "palette",
            "leaderboard",
            "leaderboard_size",
            "leaderboard_min_count",
            "show_occupancy",
            "show_day_totals",
            "viewers",
            "viewer_groups",
        ]

    # Agent performance tiles and the palette: a form posted without them (an older page, a script)
    # keeps what is stored.
    KEPT_WHEN_EMPTY = ("leaderboard", "leaderboard_size", "leaderboard_min_count", "palette")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.KEPT_WHEN_EMPTY:
            if name in self.fields:
                self.fields[name].required = False

    def _kept(self, name: str) -> Any:
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value in (None, "") else value

    def clean_palette(self) -> str:
        palette: str = self._kept("palette")
        return palette

    def clean_leaderboard(self) -> str:
        leaderboard: str = self._kept("leaderboard")
        return leaderboard

    def clean_leaderboard_size(self) -> int:
        size: int = self._kept("leaderboard_size")
        return size

    def clean_leaderboard_min_count(self) -> int:
        min_count: int = self._kept("leaderboard_min_count")
        return min_count

    def clean_queue_metrics(self) -> list[str]:
        chosen = set(self.cleaned_data.get("queue_metrics") or [])
        return [name for name in METRIC_NAMES if name in chosen]


class SwitchBoardForm(forms.Form):
    """The board a display should show from now on (replaces its rotation)."""

    board = forms.ModelChoiceField(queryset=Board.objects.order_by("title"), empty_label=None)
    seconds = forms.IntegerField(initial=60, min_value=5, widget=forms.HiddenInput, required=False)


class DisplayForm(forms.ModelForm[Display]):
    class Meta:
        model = Display
        fields = ["name", "expires"]
