"""Test a tenant's connection on an administrator's request: one call to each API, the catalogue filled."""

from __future__ import annotations

from django.utils import timezone

from wallboard.boards.crypto import DecryptionError
from wallboard.boards.models import Tenant
from wallboard.polling import clients
from wallboard.polling.analytics_source import source_label
from wallboard.polling.catalogue import catalogue_from_records, update_catalogue
from wallboard.vcc.errors import VccError


def test_tenant_connection(tenant: Tenant) -> tuple[bool, str]:
    """Call agents, queues and schedules once; fill the catalogue and say what was found.

    On success the catalogue is refreshed right away, so board forms offer the tenant's
    queues without waiting for the first poll.
    """
    try:
        client = clients.client_for(tenant)
        agents, queues, schedules = client.agents(), client.queues(), client.schedules()
    except VccError as exc:
        return False, f"{tenant}: connection failed: {exc}"
    except DecryptionError as exc:
        return False, f"{tenant}: the stored token cannot be read ({exc}); enter the token again."
    update_catalogue(
        tenant.pk,
        **catalogue_from_records(agents, queues),
        schedules=[{"id": s.id, "name": s.name or s.id} for s in schedules],
        as_of=timezone.now().isoformat(),
    )
    via = f" ({source_label(tenant)})" if tenant.source == "analytics" else ""
    return True, f"{tenant}: connected{via}. Found {len(agents)} agents, {len(queues)} queues and {len(schedules)} schedules."
