"""Tenant admin for the Analytics (v5) source: the choice, its write-only secret, Test connection."""

from __future__ import annotations

import pytest
from admin_helpers import tenant_post
from django.db import connection

from wallboard.boards.models import Tenant
from wallboard.polling.catalogue import get_catalogue
from wallboard.simulator.server import SimulatorServer

SECRET = "v5-s3cr3t-from-admin-console"


def analytics_post(**changes: str) -> dict[str, str]:
    return tenant_post(**{**dict(source="analytics", analytics_client_id="app-key-123",
                                 analytics_client_secret=SECRET, analytics_region="eu"), **changes})


def raw_secret(tenant_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT analytics_client_secret FROM boards_tenant WHERE id = %s", [tenant_id])
        return cursor.fetchone()[0]


def test_it_creates_an_analytics_tenant_with_an_encrypted_secret(admin_client):
    response = admin_client.post("/admin/boards/tenant/add/", analytics_post())
    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant = Tenant.objects.get()
    assert (tenant.source, tenant.analytics_client_id, tenant.analytics_region) == ("analytics", "app-key-123", "eu")
    assert tenant.analytics_client_secret == SECRET
    assert raw_secret(tenant.pk).startswith("fernet:") and SECRET not in raw_secret(tenant.pk)
    assert tenant.poll_interval == 5, "the statistics API's 10 s becomes the Analytics API's 5 s"


def test_it_keeps_a_chosen_poll_interval(admin_client):
    admin_client.post("/admin/boards/tenant/add/", analytics_post(poll_interval="30"))
    assert Tenant.objects.get().poll_interval == 30


def test_it_never_shows_the_secret_again_and_keeps_it_when_left_blank(admin_client):
    admin_client.post("/admin/boards/tenant/add/", analytics_post())
    tenant = Tenant.objects.get()
    page = admin_client.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert "Statistics source" in page and 'name="analytics_client_secret"' in page
    assert SECRET not in page and raw_secret(tenant.pk) not in page
    response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/change/",
                                 analytics_post(token="", analytics_client_secret="", analytics_region="ca"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant.refresh_from_db()
    assert (tenant.analytics_client_secret, tenant.analytics_region) == (SECRET, "ca")


@pytest.mark.parametrize("changes, field", [
    ({"analytics_client_secret": ""}, "analytics_client_secret"),
    ({"analytics_client_id": ""}, "analytics_client_id"),
    ({"analytics_client_id": "a:b"}, "analytics_client_id"),
    ({"analytics_tenant_info": "naïve"}, "analytics_tenant_info"),
    ({"analytics_base_url": "http://api.example.com"}, "analytics_base_url"),
])
def test_it_refuses_an_unusable_analytics_setting(admin_client, changes, field):
    response = admin_client.post("/admin/boards/tenant/add/", analytics_post(**changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors
    assert SECRET not in str(errors)
    assert not Tenant.objects.exists()


def test_a_statistics_tenant_needs_no_analytics_settings(admin_client):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post())
    assert response.status_code == 302
    assert (Tenant.objects.get().source, Tenant.objects.get().poll_interval) == ("statistics", 10)


def test_it_tests_the_connection_of_each_source(admin_client, redis_client, db):
    with SimulatorServer(port=0, agents=7, queues=3) as sim:
        sim.analytics.client_secret = SECRET
        statistics = Tenant.objects.create(name="Stats", base_url=sim.base_url, tenant_name="demo", token="demo-token")
        analytics = Tenant.objects.create(
            name="V5", base_url=sim.base_url, tenant_name="demo", token="demo-token", source="analytics",
            analytics_client_id="demo-client", analytics_client_secret=SECRET, analytics_base_url=sim.base_url,
        )
        messages = {}
        for tenant in (statistics, analytics):
            response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/", follow=True)
            messages[tenant.name] = [str(m) for m in response.context["messages"]]
        assert sim.analytics.state()["tokens_issued"] == 1
        analytics.analytics_client_secret = "not-the-secret"  # typed wrong in admin
        analytics.save()
        response = admin_client.post(f"/admin/boards/tenant/{analytics.pk}/test-connection/", follow=True)
        bad = [str(m) for m in response.context["messages"]]
    assert messages["Stats"][0].startswith("Stats: connected. Found 7 agents, 3 queues and ")
    assert messages["V5"][0].startswith("V5: connected (Analytics API, region US). Found 7 agents, 3 queues and ")
    assert {q["id"] for q in get_catalogue(analytics.pk)["queues"]} == {"201", "202", "203"}
    assert bad[0].startswith("V5: connection failed: bad credentials")
    assert SECRET not in bad[0]


def test_the_list_action_tests_an_analytics_tenant_too(admin_client, redis_client, db):
    with SimulatorServer(port=0, agents=4, queues=2) as sim:
        tenant = Tenant.objects.create(
            name="V5", base_url=sim.base_url, tenant_name="demo", token="demo-token", source="analytics",
            analytics_client_id="demo-client", analytics_client_secret="demo-secret", analytics_base_url=sim.base_url,
        )
        response = admin_client.post("/admin/boards/tenant/", {"action": "test_connection", "_selected_action": [tenant.pk]},
                                     follow=True)
    assert [str(m) for m in response.context["messages"]][0].startswith("V5: connected (Analytics API")
