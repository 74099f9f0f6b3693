"""Admin for ContactNow: accounts (with a Test action), the hours editor, and the audit of edits.

Thin: reading, previewing and saving rules is wallboard.polling.tod's business. Every page
here needs the change permission on accounts, because each one calls ContactNow with the
account's token. The token itself is never rendered (write-only form field).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wallboard.boards.admin_base import AuditAdmin
from wallboard.boards.models import ContactNowAccount, TodAudit
from wallboard.boards.secret_fields import secret_status
from wallboard.boards.tod_forms import ContactNowAccountForm, RuleForm, initial_for
from wallboard.polling import tod as services
from wallboard.vcc.errors import VccError

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups  # the stubs' name for what get_fields returns

log = logging.getLogger(__name__)
CHANGE = ("change",)


@admin.register(ContactNowAccount)
class ContactNowAccountAdmin(admin.ModelAdmin[ContactNowAccount]):
    form = ContactNowAccountForm
    list_display = ["name", "base_url", "time_zone", "enabled", "hours_link"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    actions = ["test_account"]
    readonly_fields = ["token_status"]
    fields = ["name", "base_url", "token", "time_zone", "response_format", "refresh_interval", "enabled"]

    def get_fields(self, request: HttpRequest, obj: ContactNowAccount | None = None) -> _FieldGroups:
        """A viewer without the change permission sees a placeholder, never the decrypted token."""
        if obj is None or self.has_change_permission(request, obj):
            return list(self.fields)
        return ["token_status" if f == "token" else f for f in self.fields]

    @admin.display(description=_("access token"))
    def token_status(self, account: ContactNowAccount) -> str:
        return secret_status(account, "token")

    @admin.display(description=_("hours"))
    def hours_link(self, account: ContactNowAccount) -> str:
        return format_html('<a href="{}">Edit hours</a>', reverse("admin:boards_contactnowaccount_hours", args=[account.pk]))

    @admin.action(description=_("Test (read policies and rules)"), permissions=CHANGE)
    def test_account(self, request: HttpRequest, queryset: Any) -> None:
        for account in queryset:
            try:
                message, level = f"{account}: {services.test_account(account)}", messages.SUCCESS
            except VccError as exc:
                message, level = f"{account}: {exc}", messages.ERROR
            log.info("admin %s: %s tested: %s", request.user, services.account_label(account), message)
            self.message_user(request, message, level)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/hours/", wrap(self.policies_view), name="boards_contactnowaccount_hours"),
            path("<int:pk>/hours/<str:policy>/", wrap(self.editor_view), name="boards_contactnowaccount_policy"),
        ] + super().get_urls()

    def _account(self, request: HttpRequest, pk: int) -> ContactNowAccount:
        if not self.has_change_permission(request):
            raise PermissionDenied
        account = get_object_or_404(ContactNowAccount, pk=pk)
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        return account

    def _context(self, request: HttpRequest, account: ContactNowAccount, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "account": account, **extra}

    def policies_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The account's policies, each with a link to its editor."""
        account = self._account(request, pk)
        policies, error = [], None
        try:
            with services.client_for(account) as client:
                policies = client.policies()
        except VccError as exc:
            error = str(exc)
        context = self._context(request, account, policies=policies, error=error,
                                followed=services.followed_policies(account), title=f"Hours: {account}")
        return TemplateResponse(request, "admin/boards/contactnowaccount/policies.html", context)

    def editor_view(self, request: HttpRequest, pk: int, policy: str) -> HttpResponse:
        """A policy's rules as a week grid and a 14-day preview; add or change one rule."""
        account = self._account(request, pk)
        try:
            view = services.load_policy(account, policy)
        except (VccError, LookupError) as exc:
            context = self._context(request, account, error=str(exc), title=f"Hours: {account}")
            return TemplateResponse(request, "admin/boards/contactnowaccount/hours.html", context)
        rules = sorted(view.rules, key=lambda r: -r.rule)
        proposed = None
        if request.method == "POST":
            form = RuleForm(request.POST, policy=policy)
            if form.is_valid():
                rule = form.cleaned_data["tod_rule"]
                if "save" in request.POST:
                    return self._save(request, account, policy, rule)
                proposed = services.with_rule(view.rules, rule)
        else:
            form = RuleForm(initial=self._initial(request, view.rules), policy=policy)
        default = view.policy.default
        context = self._context(
            request, account, title=f"Hours: {view.policy.description or policy}", policy=view.policy,
            rules=rules, form=form, week=services.week_grid(default, view.rules),
            preview=services.preview_rows(account, default, view.rules),
            proposed=services.preview_rows(account, default, proposed) if proposed is not None else None,
            audits=TodAudit.objects.filter(account=account, policy=policy)[:10],
        )
        return TemplateResponse(request, "admin/boards/contactnowaccount/hours.html", context)

    @staticmethod
    def _initial(request: HttpRequest, rules: list[Any]) -> dict[str, Any]:
        wanted = request.GET.get("rule", "")
        for rule in rules:
            if str(rule.rule) == wanted:
                return initial_for(rule)
        return {"rule": max((r.rule for r in rules), default=0) + 1, "days": ["mon", "tue", "wed", "thu", "fri"]}

    def _save(self, request: HttpRequest, account: ContactNowAccount, policy: str, rule: Any) -> HttpResponse:
        try:
            audit = services.save_rule(account, rule, request.user)
        except services.EditRefused as exc:
            self.message_user(request, f"Not sent: {exc}", messages.ERROR)
        except VccError as exc:
            self.message_user(request, f"Nothing changed: {exc}", messages.ERROR)
        else:
            if audit is None:
                self.message_user(request, f"Rule {rule.rule} already says exactly this: nothing sent.", messages.INFO)
            elif audit.success:
                self.message_user(request, f"Rule {rule.rule}: {audit.operation}d in ContactNow.", messages.SUCCESS)
            else:
                self.message_user(request, f"Rule {rule.rule}: ContactNow refused the {audit.operation}: "
                                  f"{audit.answer.get('error')}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:boards_contactnowaccount_policy", args=[account.pk, policy]))


@admin.register(TodAudit)
class TodAuditAdmin(AuditAdmin):
    """Read-only: who changed which rule, when, from what to what, and what ContactNow answered."""

    list_display = ["at", "username", "account_name", "policy", "rule", "operation", "success"]
    list_filter = ["success", "operation"]
    search_fields = ["username", "account_name", "policy"]
    readonly_fields = ["at", "username", "account_name", "policy", "rule", "operation", "before", "after", "success", "answer"]
    fields = list(readonly_fields)
