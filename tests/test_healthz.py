"""GET /healthz answers JSON with the components' state, and each tenant's polling state to staff.

Until the security issue, these tests read tenant names without logging in; now anonymous
callers get counts only (tests/test_security_healthz.py), so the per-tenant tests here sign in
as staff or send the monitoring token on purpose.
"""

import pytest

from wallboard.boards.models import Tenant, TenantHealth

pytestmark = pytest.mark.django_db

TOKEN = "monitoring-token-0123456789abcdef"


@pytest.fixture
def monitor(client, settings):
    """A client that sends the monitoring token, as a monitoring system does."""
    settings.HEALTHZ_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def test_it_answers_json_without_tenants(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"] == {"database": "up", "broker": "up", "channel_layer": "up"}
    assert body["tenant_counts"]["total"] == 0


def test_it_counts_tenants_by_state(client):
    ok = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t1")
    failing = Tenant.objects.create(name="Beta", base_url="https://vcc-eu2.8x8.com", tenant_name="beta", token="t2")
    Tenant.objects.create(name="Gamma", base_url="https://vcc-eu2.8x8.com", tenant_name="gamma", token="t3")
    Tenant.objects.create(name="Delta", base_url="https://vcc-eu2.8x8.com", tenant_name="delta", token="t4", enabled=False)
    TenantHealth.objects.create(tenant=ok, state="ok")
    TenantHealth.objects.create(tenant=failing, state="unauthorised")
    counts = client.get("/healthz").json()["tenant_counts"]
    assert counts == {"total": 4, "ok": 1, "failing": 1, "pending": 1, "disabled": 1}


def test_it_reports_each_tenant_state_to_staff(admin_client):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="secret")
    Tenant.objects.create(name="Beta", base_url="https://vcc-eu2.8x8.com", tenant_name="beta", token="secret2")
    TenantHealth.objects.create(tenant=tenant, state="unauthorised", consecutive_failures=3, last_error_kind="unauthorised")
    body = admin_client.get("/healthz").json()
    by_name = {t["name"]: t for t in body["tenants"]}
    assert by_name["Acme"]["state"] == "unauthorised"
    assert by_name["Acme"]["consecutive_failures"] == 3
    assert by_name["Beta"]["state"] == "pending"


def test_it_reports_each_tenant_state_to_the_monitoring_token(monitor):
    Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="secret")
    body = monitor.get("/healthz").json()
    assert [t["name"] for t in body["tenants"]] == ["Acme"]
    assert body["version"]


def test_it_never_shows_tokens(monitor):
    Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="s3cr3t-token")
    content = monitor.get("/healthz").content
    assert b"Acme" in content
    assert b"s3cr3t-token" not in content


def test_it_surfaces_schedule_disagreements(admin_client):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    TenantHealth.objects.create(
        tenant=tenant, state="ok", schedule_disagreements={"122": {"local_status": 0, "api_status": -1, "source": "api"}}
    )
    body = admin_client.get("/healthz").json()
    assert body["tenants"][0]["schedule_disagreements"]["122"]["api_status"] == -1
