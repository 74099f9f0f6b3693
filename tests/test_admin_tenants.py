"""Tenant admin: write-only encrypted token, platform choice, test connection, health columns."""

from __future__ import annotations

import io

import pytest
from admin_helpers import raw_tenant_column
from admin_helpers import tenant_post as shared_tenant_post
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.utils import timezone

from wallboard.boards import crypto
from wallboard.boards.models import Tenant, TenantHealth
from wallboard.polling import clients
from wallboard.polling.catalogue import get_catalogue
from wallboard.vcc.errors import UnauthorisedError
from wallboard.vcc.records import Agent, Queue, Schedule

SECRET = "s3cr3t-data-request-token"





def tenant_post(**changes) -> dict:
    """The shared valid tenant form, with this file's defaults."""
    return shared_tenant_post(**{**dict(token=SECRET), **changes})



@pytest.fixture
def tenant(db):
    return Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token=SECRET)


def test_it_creates_a_tenant_with_an_encrypted_token(admin_client):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post())
    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant = Tenant.objects.get()
    assert tenant.token == SECRET
    stored = raw_tenant_column(tenant.pk, "token")
    assert stored.startswith("fernet:")
    assert SECRET not in stored


def test_it_requires_a_token_on_create(admin_client):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post(token=""))
    assert response.status_code == 200
    assert "Enter the tenant" in str(response.context["adminform"].form.errors["token"])
    assert not Tenant.objects.exists()


def test_it_never_shows_the_token_again(admin_client, tenant):
    body = admin_client.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert SECRET not in body
    assert 'type="password"' in body
    assert raw_tenant_column(tenant.pk, "token") not in body


def test_it_keeps_the_token_when_left_blank(admin_client, tenant):
    response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/change/", tenant_post(token="", tenant_name="acme2"))
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.token, tenant.tenant_name) == (SECRET, "acme2")


def test_it_replaces_the_token_when_given(admin_client, tenant):
    admin_client.post(f"/admin/boards/tenant/{tenant.pk}/change/", tenant_post(token="new-token"))
    tenant.refresh_from_db()
    assert tenant.token == "new-token"


def test_it_offers_the_documented_platforms_and_accepts_others(admin_client):
    body = admin_client.get("/admin/boards/tenant/add/").content.decode()
    for url in ["https://na1.mycontactual.com", "https://na4.mycontactual.com", "https://vcc-na7.8x8.com",
                "https://vcc-na4.8x8.com", "https://vcc-eu2.8x8.com", "https://www.mycontactual.ca",
                "https://www.mycontactual.co.uk"]:
        assert f'<option value="{url}">' in body
    assert 'list="vcc-platforms"' in body
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post(base_url="https://cc.custom-host.example"))
    assert response.status_code == 302


def test_it_rejects_a_plain_http_platform(admin_client):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post(base_url="http://vcc-na4.8x8.com"))
    assert response.status_code == 200
    assert "base_url" in response.context["adminform"].form.errors


class FakeClient:
    def __init__(self, error: Exception | None = None):
        self.error = error

    def agents(self):
        if self.error:
            raise self.error
        return [Agent(agent_id="a1", group_id="101"), Agent(agent_id="a2", group_id="102"), Agent(agent_id="a3")]

    def queues(self):
        return [Queue(queue_id="115", queue_name="Support", media_type="phone"), Queue(queue_id="116", queue_name="Sales")]

    def schedules(self):
        return [Schedule(id="7", name="Office hours")]


def test_it_tests_the_connection_and_fills_the_catalogue(admin_client, tenant, monkeypatch, redis_client):
    monkeypatch.setattr(clients, "client_for", lambda tenant: FakeClient())
    response = admin_client.post(
        "/admin/boards/tenant/", {"action": "test_connection", "_selected_action": [tenant.pk]}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Acme: connected. Found 3 agents, 2 queues and 1 schedules."]
    catalogue = get_catalogue(tenant.pk)
    assert [q["id"] for q in catalogue["queues"]] == ["116", "115"]
    assert [g["id"] for g in catalogue["agent_groups"]] == ["101", "102"]
    assert catalogue["schedules"] == [{"id": "7", "name": "Office hours"}]
    assert catalogue["as_of"]


def test_it_reports_a_failed_connection_in_words(admin_client, tenant, monkeypatch, redis_client):
    monkeypatch.setattr(clients, "client_for", lambda tenant: FakeClient(UnauthorisedError("HTTP 401")))
    response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/", follow=True)
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages == [("error", "Acme: connection failed: bad credentials: HTTP 401")]
    assert get_catalogue(tenant.pk)["queues"] == []


def test_it_offers_a_test_connection_button(admin_client, tenant):
    body = admin_client.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert f"/admin/boards/tenant/{tenant.pk}/test-connection/" in body
    assert admin_client.get(f"/admin/boards/tenant/{tenant.pk}/test-connection/").status_code == 403


def test_it_shows_polling_health_in_the_list(admin_client, tenant):
    TenantHealth.objects.create(tenant=tenant, state="degraded", last_success=timezone.now(), latency_ms=231)
    body = admin_client.get("/admin/boards/tenant/").content.decode()
    assert "Degraded" in body
    assert "231 ms" in body


def test_it_rotates_tokens_to_the_newest_key(tenant, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    tenant.token = SECRET
    tenant.save()
    before = raw_tenant_column(tenant.pk, "token")
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("rotate_tokens", stdout=out)
    assert "re-encrypted 1 stored secret" in out.getvalue()
    after = raw_tenant_column(tenant.pk, "token")
    assert after != before and after.startswith("fernet:")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can go now
    assert Tenant.objects.get().token == SECRET
    assert Fernet(new_key.encode()).decrypt(after[len(crypto.PREFIX):].encode()).decode() == SECRET


def test_it_rotates_api_keys_too(tenant, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    tenant.token, tenant.api_key = SECRET, "gateway-key-123"
    tenant.save()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("rotate_tokens", stdout=out)
    assert "re-encrypted 2 stored secret" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # both readable without the old key
    reloaded = Tenant.objects.get()
    assert (reloaded.token, reloaded.api_key) == (SECRET, "gateway-key-123")


def test_it_refuses_to_rotate_what_no_key_decrypts(tenant, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    before = raw_tenant_column(tenant.pk, "token")
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("rotate_tokens", stdout=io.StringIO())
    assert raw_tenant_column(tenant.pk, "token") == before


def test_it_tests_a_real_connection_against_the_simulator(admin_client, redis_client, db):
    from wallboard.simulator.server import SimulatorServer

    with SimulatorServer(port=0, agents=7, queues=3) as sim:
        tenant = Tenant.objects.create(name="Sim", base_url=sim.base_url, tenant_name="demo", token="demo-token")
        response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/", follow=True)
        ok = [str(m) for m in response.context["messages"]]
        Tenant.objects.filter(pk=tenant.pk).update(tenant_name="nobody")
        response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/", follow=True)
        bad = [str(m) for m in response.context["messages"]]
    assert ok[0].startswith("Sim: connected. Found 7 agents, 3 queues and ")
    assert len(get_catalogue(tenant.pk)["queues"]) == 3
    assert bad[0].startswith("Sim: connection failed: bad credentials")
    assert "demo-token" not in bad[0]
