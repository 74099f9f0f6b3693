"""Helpers for tests that post admin forms or look at what the database really stores."""

from __future__ import annotations

from django.db import connection


def tenant_post(**changes: str) -> dict[str, str]:
    """The admin tenant form's fields for a valid tenant "Acme", with `changes` applied."""
    data = {
        "name": "Acme",
        "base_url": "https://vcc-na4.8x8.com",
        "tenant_name": "acme",
        "token": "s3cr3t-data-request-token",
        "time_zone": "Europe/London",
        "response_format": "json",
        "poll_interval": "10",
        "schedule_refresh_interval": "300",
        "enabled": "on",
    }
    data.update(changes)
    return data


def raw_tenant_column(tenant_id: int, column: str) -> str:
    """What a tenant's column holds in the database (ciphertext for the secrets), not the model's view."""
    assert column in {"token", "api_key"}, column  # a name, never data, goes into the SQL
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM boards_tenant WHERE id = %s", [tenant_id])  # noqa: S608
        return cursor.fetchone()[0]
