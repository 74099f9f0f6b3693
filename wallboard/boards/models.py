"""Tenants, boards and displays: everything an administrator configures."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wallboard.boards.crypto import EncryptedTextField
from wallboard.boards.validators import validate_tenant_name, validate_token
from wallboard.vcc.analytics import REFRESH_SECONDS as ANALYTICS_REFRESH_SECONDS
from wallboard.vcc.analytics import (
    REGIONS,
    base_urls,
    client_id_problem,
    client_secret_problem,
    tenant_info_problem,
)
from wallboard.vcc.client import api_key_problem, validate_base_url
from wallboard.vcc.contactnow import token_problem as contactnow_token_problem
from wallboard.vcc.contactnow import validate_contactnow_url

# Queue metrics a board may show or put a threshold on (names of the normalised queue records).
QUEUE_METRICS = [
    ("queue_size", "Waiting"),
    ("longest_wait_time", "Longest wait (s)"),
    ("sla_activity", "SLA %"),
    ("day_sla_activity", "SLA % today"),
    ("thirty_min_sla_activity", "SLA % last 30 min"),
    ("agent_count_wait_transact", "Agents available"),
    ("agent_count_busy", "Agents busy"),
    ("agent_count_on_break", "Agents on break"),
    ("agent_count_work_offline", "Agents offline"),
    ("agent_count_post_process", "Agents in wrap-up"),
    ("agent_count_logged_out", "Agents logged out"),
    ("number_in_offered", "Offered"),
    ("number_in_progress", "In progress"),
    ("day_queued", "Queued today"),
    ("day_accepted", "Accepted today"),
    ("day_abandoned", "Abandoned today"),
    ("day_avg_wait_time", "Avg wait today (s)"),
    ("thirty_min_queued", "Queued 30 min"),
    ("thirty_min_accepted", "Accepted 30 min"),
    ("thirty_min_abandoned", "Abandoned 30 min"),
    ("thirty_min_avg_wait_time", "Avg wait 30 min (s)"),
    ("thirty_min_longest_wait_time", "Longest wait 30 min (s)"),
]
METRIC_NAMES = [name for name, _ in QUEUE_METRICS]
# Thresholds also work on the agent performance tiles (wallboard.boards.agent_stats).
AGENT_TILE_METRICS = [
    ("occupancy", "Occupancy % (agent group)"),
    ("agent_accepted", "Leaderboard: accepted today"),
    ("agent_aht", "Leaderboard: avg handling time (s)"),
    ("day_avg_duration", "Day totals: avg handling time (s)"),
]
THRESHOLD_METRICS = QUEUE_METRICS + AGENT_TILE_METRICS
OCCUPANCY_HELP = _(
    "Occupancy % = (handling time + wrap-up time) ÷ (logged-in time − break time) × 100, summed over "
    "the group's agents since the start of the day (8x8's day-processing-time, day-wrap-up-time, "
    "day-login-time and day-break-time); empty when no time is left after breaks."
)
DEFAULT_QUEUE_METRICS = [
    "queue_size",
    "longest_wait_time",
    "sla_activity",
    "agent_count_wait_transact",
    "agent_count_busy",
    "agent_count_on_break",
    "day_accepted",
    "day_abandoned",
]

slug_validator = RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lower-case letters, digits and hyphens.")


def validate_time_zone(value: str) -> None:
    """Reject names the zone database does not know."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"“{value}” is not a known time zone; use an IANA name such as Europe/London.") from None


def validate_metrics(value: object) -> None:
    """A board's metric list must name known queue metrics."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Metrics must be a list of metric names.")
    unknown = [item for item in value if item not in METRIC_NAMES]
    if unknown:
        raise ValidationError(f"Unknown metrics: {', '.join(unknown)}.")


def default_metrics() -> list[str]:
    return list(DEFAULT_QUEUE_METRICS)


def validate_api_key(value: str) -> None:
    """The gateway's API key travels in an HTTP header: printable ASCII, no space at either end.

    As for the token, the message names the rule only: the value is a secret.
    """
    problem = api_key_problem(value or "")
    if problem:
        raise ValidationError(problem[0].upper() + problem[1:] + ".", code="invalid_api_key")


def _problem_validator(problem_of: Callable[[str], str | None], code: str) -> Callable[[str], None]:
    """A model field validator from one of vcc's "why not" functions (the message names the rule only)."""

    def validate(value: str) -> None:
        problem = problem_of(value or "") if value else None
        if problem:
            raise ValidationError(problem[0].upper() + problem[1:] + ".", code=code)

    return validate


def validate_analytics_client_id(value: str) -> None:
    _problem_validator(client_id_problem, "invalid_client_id")(value)


def validate_analytics_client_secret(value: str) -> None:
    _problem_validator(client_secret_problem, "invalid_client_secret")(value)


def validate_analytics_tenant_info(value: str) -> None:
    _problem_validator(tenant_info_problem, "invalid_tenant_info")(value)


class Tenant(models.Model):
    """An 8x8 Contact Center tenant whose statistics we poll."""

    FORMATS = [("json", "JSON"), ("xml", "XML")]
    APIS = [("classic", "Classic (Data Request Token)"), ("gateway", "Gateway (API key)")]

    name = models.CharField(_("display name"), max_length=100, unique=True)
    base_url = models.CharField(
        "platform URL",
        max_length=200,
        help_text=_("The platform you log in to, e.g. https://vcc-na4.8x8.com (https only; loopback hosts may use http)."),
    )
    tenant_name = models.CharField(
        "8x8 tenant name", max_length=100, validators=[validate_tenant_name],
        help_text=_("Used as the user name in API calls."),
    )
    token = EncryptedTextField(
        "data request token", validators=[validate_token], help_text=_("Stored encrypted; never shown again.")
    )
    api = models.CharField(
        "statistics API", max_length=8, choices=APIS, default="classic",
        help_text=_("The gateway reads each queue on this tenant's boards by id with the API key; agents and "
        "schedules still use the data request token (the gateway is known to serve queues only)."),
    )
    api_key = EncryptedTextField(
        "API key", blank=True, default="", validators=[validate_api_key],
        help_text=_("For the statistics gateway. Stored encrypted; never shown again."),
    )
    action_token = EncryptedTextField(
        "action token", blank=True, default="", validators=[validate_token],
        help_text=_("For campaign control (docs/campaigns.md): 8x8's CC action token, not the data request "
        "token. Stored encrypted; never shown again."),
    )
    # Issue 17: where agents and queues come from. Schedules always come from the Tenant
    # Schedule API (platform URL, tenant name and token above); v5 has none.
    SOURCES = [("statistics", "Real Time Statistics API"), ("analytics", "Analytics for Contact Center API (v5)")]
    source = models.CharField(
        "statistics source", max_length=10, choices=SOURCES, default="statistics",
        help_text=_("Analytics refreshes every 5 s instead of 10 and adds agent reason codes and SLA details; "
        "it needs an API key and secret from 8x8 Admin Console (docs/admin.md)."),
    )
    analytics_client_id = models.CharField(
        "Analytics API key", max_length=200, blank=True, default="", validators=[validate_analytics_client_id],
        help_text=_("The key (OAuth2 client id) of an Admin Console app that includes Analytics for Contact Center."),
    )
    analytics_client_secret = EncryptedTextField(
        "Analytics API secret", blank=True, default="", validators=[validate_analytics_client_secret],
        help_text=_("Stored encrypted; never shown again."),
    )
    analytics_region = models.CharField(
        "Analytics region", max_length=2, choices=[(r, r.upper()) for r in REGIONS], default="us",
        help_text=_("Where the Contact Center tenant lives: US, EU, AU (Asia-Pacific) or CA."),
    )
    analytics_tenant_info = models.CharField(
        "tenant info (X-Tenant-Info)", max_length=100, blank=True, default="",
        validators=[validate_analytics_tenant_info],
        help_text=_("Only for a multi-tenant account: the tenant id 8x8 gave you."),
    )
    analytics_base_url = models.CharField(
        "Analytics base URL", max_length=200, blank=True, default="",
        help_text=_("Leave empty for https://api.8x8.com (a loopback simulator may use http)."),
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    response_format = models.CharField(max_length=4, choices=FORMATS, default="json")
    poll_interval = models.PositiveIntegerField(
        "poll interval (s)", default=10, validators=[MinValueValidator(5), MaxValueValidator(300)],
        help_text=_("8x8 refreshes its statistics every 10 s (the Analytics API every 5 s: an Analytics "
        "tenant left at 10 is set to 5); polling faster gains nothing."),
    )
    schedule_refresh_interval = models.PositiveIntegerField(
        "schedule refresh (s)", default=300, validators=[MinValueValidator(60), MaxValueValidator(86400)]
    )
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.base_url:
            try:
                self.base_url = validate_base_url(self.base_url)
            except Exception as exc:  # the client raises its own error type with a user message
                raise ValidationError({"base_url": str(exc)}) from None
        if self.api == "gateway" and not self.api_key:
            raise ValidationError({"api_key": "The statistics gateway needs the tenant's API key."})
        self._clean_analytics()

    def _clean_analytics(self) -> None:
        """An Analytics tenant needs its key and secret; left at the statistics API's 10 s it polls every 5 s."""
        if self.analytics_base_url:
            try:
                base_urls(self.analytics_region, self.analytics_base_url)
            except Exception as exc:  # the client's own error types carry a user message
                raise ValidationError({"analytics_base_url": str(exc)}) from None
        if self.source != "analytics":
            return
        missing = {
            name: "The Analytics API needs this." for name in ("analytics_client_id", "analytics_client_secret")
            if not getattr(self, name)
        }
        if missing:
            raise ValidationError(missing)
        if self.poll_interval == 10:
            self.poll_interval = ANALYTICS_REFRESH_SECONDS



class TenantHealth(models.Model):
    """How polling a tenant is going; written by the poller, read by admin and /healthz."""

    STATES = [
        ("pending", "Pending"),
        ("ok", "OK"),
        ("degraded", "Degraded"),
        ("busy", "Busy (503)"),
        ("unauthorised", "Unauthorised"),
        ("unreachable", "Unreachable"),
        ("malformed", "Malformed answers"),
        ("unreadable_secret", "Unreadable secret"),  # a stored token or key no configured key decrypts
        ("disabled", "Disabled"),
    ]

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="health")
    state = models.CharField(max_length=20, choices=STATES, default="pending")
    since = models.DateTimeField(default=timezone.now)
    message = models.CharField(max_length=300, blank=True)
    last_poll = models.DateTimeField(null=True, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    last_error = models.DateTimeField(null=True, blank=True)
    last_error_kind = models.CharField(max_length=30, blank=True)
    last_error_message = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    schedules_refreshed = models.DateTimeField(null=True, blank=True)
    schedule_disagreements = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant}: {self.state}"


class Board(models.Model):
    """A wallboard: which queues, groups and agents of one tenant to show, and how."""

    THEMES = [("dark", "Dark"), ("light", "Light")]

    slug = models.SlugField(unique=True, validators=[slug_validator])
    title = models.CharField(max_length=100)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="boards")
    theme = models.CharField(max_length=5, choices=THEMES, default="dark")
    queue_metrics = models.JSONField(default=default_metrics, validators=[validate_metrics])
    show_agents = models.BooleanField("show agent panel", default=True)
    hide_logged_out = models.BooleanField("hide logged-out agents", default=True)
    mute_when_closed = models.BooleanField("mute alerts while closed", default=True)
    page_seconds = models.PositiveIntegerField(
        "seconds per agent page", default=12, validators=[MinValueValidator(3), MaxValueValidator(300)]
    )
    # Agent performance tiles (issue 20; wallboard.boards.agent_stats, docs/admin.md).
    # Fixed here rather than read from settings.LANGUAGES, so a migration never follows a setting.
    LANGUAGES = [("", "As the screen's browser asks"), ("en", "English"), ("de", "Deutsch"), ("fr", "Français"),
                 ("es", "Español")]
    PALETTES = [("default", "Standard"), ("cb", "Colour-blind safe")]
    language = models.CharField(
        _("language on TVs"), max_length=8, choices=LANGUAGES, blank=True, default="",
        help_text=_("The language of the screens showing this board. A display link's ?lang= wins; supervisors "
        "see their browser's language."),
    )
    palette = models.CharField(
        _("colour palette"), max_length=8, choices=PALETTES, default="default",
        help_text=_("Colour-blind safe: blue/orange instead of green/red, on the TVs and supervisor views of "
        "this board (a display link's ?palette= wins; a supervisor may switch it in the browser)."),
    )
    LEADERBOARDS = [("off", "Off"), ("accepted", "By accepted today"), ("aht", "By average handling time")]
    leaderboard = models.CharField(
        max_length=8, choices=LEADERBOARDS, default="off",
        help_text=_("Top agents of the board's agent groups (all agents when it has none). By average handling "
        "time: shortest first, only agents with at least the minimum count accepted today."),
    )
    leaderboard_size = models.PositiveSmallIntegerField(
        "leaderboard size", default=5, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    leaderboard_min_count = models.PositiveIntegerField(
        "minimum accepted for average handling time", default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("So that one short call does not win the leaderboard."),
    )
    show_occupancy = models.BooleanField(_("show occupancy per agent group"), default=False, help_text=OCCUPANCY_HELP)
    show_day_totals = models.BooleanField(
        "show day totals per queue", default=False,
        # xgettext:no-python-format ("% since" is a per cent sign, not a placeholder)
        help_text=_("Queued, accepted, abandoned, average wait and handling time and SLA % since the start of the day."),
    )
    viewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="visible_boards")
    viewer_groups = models.ManyToManyField(Group, blank=True, related_name="visible_boards")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class BoardQueue(models.Model):
    """A queue shown on a board, with the schedule that says when it is open."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="queues")
    queue_id = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True, help_text=_("Shown instead of the 8x8 queue name."))
    schedule_id = models.CharField(max_length=64, blank=True, help_text=_("The 8x8 schedule this queue follows."))
    # Or a ContactNow time-of-day policy (docs/schedules.md), never both.
    contactnow_account = models.ForeignKey(
        "ContactNowAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="queues",
        verbose_name=_("ContactNow account"), help_text=_("Instead of an 8x8 schedule: the account of the policy below."),
    )
    tod_policy = models.CharField(
        _("ContactNow policy"), max_length=32, blank=True, help_text=_("The time-of-day policy uid this queue follows.")
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["board", "queue_id"], name="unique_queue_per_board")]

    def __str__(self) -> str:
        return self.label or self.queue_id

    def clean(self) -> None:
        if self.schedule_id and (self.contactnow_account_id or self.tod_policy):
            raise ValidationError("Choose an 8x8 schedule or a ContactNow policy, not both.")
        if bool(self.contactnow_account_id) != bool(self.tod_policy):
            raise ValidationError("A ContactNow policy needs both its account and its policy uid.")


class QueueGroup(models.Model):
    """Several queues shown as one tile: totals, the longest wait, SLA weighted by volume."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="queue_groups")
    name = models.CharField(max_length=100)
    queue_ids = models.JSONField(default=list, help_text=_("Ids of the queues to aggregate."))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.queue_ids, list) or not self.queue_ids or not all(isinstance(q, str) for q in self.queue_ids):
            raise ValidationError({"queue_ids": "Choose at least one queue."})


class BoardAgentGroup(models.Model):
    """An agent group whose agents a board shows (no groups: all agents)."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="agent_groups")
    group_id = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    # 8x8's statistics do not say which queues an agent answers; the group is how it is set up.
    queue_ids = models.JSONField(
        default=list, blank=True,
        help_text=_("The queues this group's agents answer (optional): supervisors can then filter agents by queue."),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board", "group_id"], name="unique_agent_group_per_board")]

    def __str__(self) -> str:
        return self.name or self.group_id


class Threshold(models.Model):
    """When a metric turns a tile amber (warn) or red (alert)."""

    DIRECTIONS = [("above", "Alert when above"), ("below", "Alert when below")]

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="thresholds")
    metric = models.CharField(max_length=40, choices=THRESHOLD_METRICS)
    queue_id = models.CharField(
        max_length=64, blank=True, help_text=_("Leave empty for every queue and group on the board. For occupancy: "
        "an agent group id, or empty for every group. Leaderboard thresholds are board-wide (empty)."),
    )
    direction = models.CharField(max_length=5, choices=DIRECTIONS, default="above")
    warn = models.FloatField()
    alert = models.FloatField()

    class Meta:
        ordering = ["metric", "queue_id"]
        constraints = [
            models.UniqueConstraint(fields=["board", "metric", "queue_id"], name="unique_threshold_per_metric_queue")
        ]

    def __str__(self) -> str:
        target = self.queue_id or "all queues"
        return f"{self.metric} ({target})"

    def clean(self) -> None:
        # full_clean() calls clean() even when a level failed its own field check, so either may
        # still be missing here although the column is NOT NULL.
        if cast("float | None", self.warn) is None or cast("float | None", self.alert) is None:
            return
        self._clean_agent_tile_metric()
        if self.direction == "above" and self.warn >= self.alert:
            raise ValidationError("With “alert when above”, the warn level must be below the alert level.")
        if self.direction == "below" and self.warn <= self.alert:
            raise ValidationError("With “alert when below”, the warn level must be above the alert level.")

    def _clean_agent_tile_metric(self) -> None:
        """Occupancy is a percentage; leaderboard rows belong to no queue, so theirs are board-wide."""
        if self.metric == "occupancy" and not (0 <= self.warn <= 100 and 0 <= self.alert <= 100):
            raise ValidationError("Occupancy is a percentage: warn and alert must be between 0 and 100.")
        if self.metric in ("agent_accepted", "agent_aht") and self.queue_id:
            raise ValidationError({"queue_id": "Leaderboard thresholds apply to the whole board: leave this empty."})
        if self.metric in ("agent_accepted", "agent_aht", "day_avg_duration") and min(self.warn, self.alert) < 0:
            raise ValidationError("Counts and times cannot be negative.")


def hash_token(token: str) -> str:
    """Display tokens are stored hashed: a database leak must not let anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()


class Display(models.Model):
    """A TV: shows one board, or a rotation, using a token instead of a login."""

    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True, help_text=_("Leave empty for no expiry."))
    revoked = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)
    user_agent = models.CharField(max_length=300, blank=True, editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def issue_token(self) -> str:
        """Give this display a new token (the old one stops working) and return it once."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        return token

    @property
    def is_active(self) -> bool:
        if self.revoked is not None:
            return False
        return self.expires is None or self.expires > timezone.now()

    def board_slugs(self) -> list[str]:
        return [item.board.slug for item in self.rotation.select_related("board")]


class DisplayBoard(models.Model):
    """One board in a display's rotation (a single row: no rotation)."""

    display = models.ForeignKey(Display, on_delete=models.CASCADE, related_name="rotation")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="display_slots")
    seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(5)])
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.board} for {self.seconds} s"


def validate_contactnow_token(value: str) -> None:
    """A ContactNow token travels in a URL: printable ASCII without spaces (the rule, never the value)."""
    problem = contactnow_token_problem(value or "")
    if problem:
        raise ValidationError(problem[0].upper() + problem[1:] + ".", code="invalid_token")


class ContactNowAccount(models.Model):
    """A ContactNow account whose time-of-day policies boards can follow and admin can edit."""

    FORMATS = [("json", "JSON"), ("xml", "XML")]

    name = models.CharField(_("display name"), max_length=100, unique=True)
    base_url = models.CharField(
        _("API URL"), max_length=200,
        help_text=_("The account's API host, e.g. https://api-106.dxi.eu (https only; loopback hosts may use http)."),
    )
    token = EncryptedTextField(
        _("access token"), validators=[validate_contactnow_token],
        help_text=_("Stored encrypted; never shown again. Tokens expire and are bound to the address that asked "
        "for them: issue it from this server's address."),
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone],
        help_text=_("The zone the account's policies are written in."),
    )
    response_format = models.CharField(max_length=4, choices=FORMATS, default="json")
    refresh_interval = models.PositiveIntegerField(
        _("policy refresh (s)"), default=300, validators=[MinValueValidator(60), MaxValueValidator(86400)]
    )
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("ContactNow account")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.base_url:
            try:
                self.base_url = validate_contactnow_url(self.base_url)
            except Exception as exc:  # the client's own error type, with a user message
                raise ValidationError({"base_url": str(exc)}) from None


class TodAudit(models.Model):
    """One change to a ContactNow rule made from admin: who, when, before, after, the API's answer."""

    account = models.ForeignKey(ContactNowAccount, on_delete=models.SET_NULL, null=True, related_name="audits")
    account_name = models.CharField(max_length=100)
    policy = models.CharField(max_length=32)
    rule = models.IntegerField()
    operation = models.CharField(max_length=8)  # create or update
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    username = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField()
    success = models.BooleanField()
    answer = models.JSONField(help_text=_("The API's answer, or the error."))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("ContactNow hours change")

    def __str__(self) -> str:
        return f"{self.operation} rule {self.rule} of policy {self.policy} by {self.username}"
