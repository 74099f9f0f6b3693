"""Base classes for the admin pages of logs and audits, shared by the apps above boards."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """A log: nobody adds or edits its rows (viewing needs the view permission)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditAdmin(ReadOnlyAdmin):
    """An audit trail: read-only, and no row is ever deleted from the admin either."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
