"""GET /healthz answers JSON with each tenant's polling state."""

import pytest

from wallboard.boards.models import Tenant, TenantHealth

pytestmark = pytest.mark.django_db


def test_it_answers_json_without_tenants(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["tenants"] == []


def test_it_reports_each_tenant_state(client):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="secret")
    Tenant.objects.create(name="Beta", base_url="https://vcc-eu2.8x8.com", tenant_name="beta", token="secret2")
    TenantHealth.objects.create(tenant=tenant, state="unauthorised", consecutive_failures=3, last_error_kind="unauthorised")
    body = client.get("/healthz").json()
    by_name = {t["name"]: t for t in body["tenants"]}
    assert by_name["Acme"]["state"] == "unauthorised"
    assert by_name["Acme"]["consecutive_failures"] == 3
    assert by_name["Beta"]["state"] == "pending"


def test_it_never_shows_tokens(client):
    Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="s3cr3t-token")
    assert b"s3cr3t-token" not in client.get("/healthz").content


def test_it_surfaces_schedule_disagreements(client):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    TenantHealth.objects.create(
        tenant=tenant, state="ok", schedule_disagreements={"122": {"local_status": 0, "api_status": -1, "source": "api"}}
    )
    body = client.get("/healthz").json()
    assert body["tenants"][0]["schedule_disagreements"]["122"]["api_status"] == -1
