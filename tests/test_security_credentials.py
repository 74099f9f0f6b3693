"""Credentials 8x8 cannot accept are refused, and no credential ever reaches a log or a page.

HTTP basic auth carries the tenant name and token; requests encodes them as Latin-1 and dies
on anything else with an error that quotes the token. Admin refuses such values, the client
refuses them before requests sees them, and every failure text is built by us.
"""

from __future__ import annotations

import logging

import pytest
import requests
from admin_helpers import tenant_post as shared_tenant_post
from vcc_server import vcc_server_fixture  # noqa: F401 - the fixture

from wallboard.boards.models import Tenant, TenantHealth
from wallboard.polling import clients
from wallboard.polling.cycle import poll_tenant
from wallboard.polling.schedules import refresh_schedules
from wallboard.vcc import errors
from wallboard.vcc.client import VccClient

STATS = "/api/rtstats/stats"
BAD_TOKEN = "tök漢🔥-s3cret"
BAD_TENANT = "démo漢"
GOOD_TOKEN = "s3cret-token-value"



def tenant_post(**changes) -> dict:
    """The shared valid tenant form, with this file's defaults."""
    return shared_tenant_post(**{**dict(token=GOOD_TOKEN), **changes})



# --- the client's edge -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenant", "token"),
    [
        ("acme", BAD_TOKEN),
        (BAD_TENANT, GOOD_TOKEN),
        ("acme", "café-token"),  # Latin-1 would encode, but 8x8 could not agree on the bytes
        ("ac:me", GOOD_TOKEN),
        ("acme", "token\r\nX-Injected: 1"),
        ("acme", "tok\x00en"),
        ("ac\tme", GOOD_TOKEN),
    ],
)
def test_it_refuses_credentials_8x8_cannot_accept_before_sending(vcc_server, tenant, token):
    vcc_server.route(f"{STATS}/agents.json", b'{"agent": []}')
    client = VccClient(vcc_server.url, tenant, token)

    with pytest.raises(errors.UnauthorisedError, match="characters 8x8 cannot accept") as caught:
        client.agents()

    assert vcc_server.requests == []
    assert token not in str(caught.value) and tenant not in str(caught.value)
    assert caught.value.__context__ is None  # refused before anything could fail on the value


def test_it_accepts_printable_ascii_credentials(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b'{"agent": []}')
    token = "Ab9_-.~!$%&'()*+,;=@[]^`{|}"

    assert VccClient(vcc_server.url, "acme corp-01", token).agents() == []
    assert vcc_server.requests[0].auth == ("acme corp-01", token)


@pytest.mark.parametrize(
    "raised",
    [
        RuntimeError(f"boom with Authorization: Basic acme:{GOOD_TOKEN}"),
        UnicodeEncodeError("latin-1", GOOD_TOKEN, 0, 1, "ordinal not in range(256)"),
        requests.exceptions.ProxyError(f"Cannot connect to proxy http://proxy:3128 as acme {GOOD_TOKEN}"),
        requests.exceptions.ConnectionError(f"failed: {GOOD_TOKEN}"),
    ],
)
def test_it_never_lets_a_library_exception_text_out(vcc_server, monkeypatch, raised):
    client = VccClient(vcc_server.url, "acme", GOOD_TOKEN)

    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(client.session, "request", fail)  # every verb goes through request (vcc/http.py)

    with pytest.raises(errors.VccError) as caught:
        client.agents()

    assert GOOD_TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --- admin -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenant_name", BAD_TENANT),
        ("tenant_name", "ac:me"),
        ("tenant_name", "acme\r\nX"),
        ("token", BAD_TOKEN),
        ("token", "tok\x07en"),
    ],
)
def test_it_rejects_such_credentials_in_the_tenant_form(admin_client, field, value):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post(**{field: value}))

    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert field in form_errors
    words = " ".join(form_errors[field])
    assert "printable ASCII" in words or "must not contain ':'" in words
    assert not Tenant.objects.exists()
    if field == "token":
        assert value not in response.content.decode()


def test_it_validates_the_model_fields_too(db):
    tenant = Tenant(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name=BAD_TENANT, token=BAD_TOKEN)

    with pytest.raises(Exception) as caught:
        tenant.full_clean()

    assert set(caught.value.message_dict) >= {"tenant_name", "token"}
    assert BAD_TOKEN not in str(caught.value)


def test_it_answers_test_connection_for_a_stored_bad_token_in_words(admin_client, redis_client):
    # Saved before validation existed (or straight into the database): still no 500.
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token=BAD_TOKEN)

    response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/", follow=True)

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Acme: connection failed: bad credentials: the tenant name or token contains characters 8x8 cannot "
        "accept (printable ASCII only (letters, digits, punctuation and spaces; no accented letters, other "
        "scripts, emoji, tabs or line breaks), because 8x8 takes them as HTTP basic auth, which cannot carry "
        "anything else reliably)"
    ]
    assert BAD_TOKEN not in response.content.decode()


# --- the poller --------------------------------------------------------------------------------


def test_it_marks_a_tenant_with_a_bad_token_unauthorised_and_logs_no_token(db, redis_client, caplog):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token=BAD_TOKEN)
    caplog.set_level(logging.DEBUG)

    result = poll_tenant(tenant.pk)

    health = TenantHealth.objects.get(tenant=tenant)
    assert result.outcome == "unauthorised"
    assert health.state == "unauthorised"  # not "pending" for ever
    for text in (caplog.text, health.message, health.last_error_message):
        assert BAD_TOKEN not in text and "UnicodeEncodeError" not in text


class ExplodingClient:
    """A client whose call fails with a library error that quotes the token."""

    def agents(self):
        raise UnicodeEncodeError("latin-1", f"acme:{BAD_TOKEN}", 6, 7, "ordinal not in range(256)")

    queues = schedules = agents


def test_it_logs_only_the_class_of_an_unexpected_poll_failure(db, redis_client, caplog, monkeypatch):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="x")
    monkeypatch.setattr(clients, "client_for", lambda tenant: ExplodingClient())
    caplog.set_level(logging.DEBUG)

    result = poll_tenant(tenant.pk)

    health = TenantHealth.objects.get(tenant=tenant)
    assert result.outcome == "error"
    assert health.state == "degraded"
    assert "UnicodeEncodeError" in caplog.text and "UnicodeEncodeError" in health.message
    for text in (caplog.text, health.message, health.last_error_message):
        assert BAD_TOKEN not in text


def test_it_logs_only_the_class_of_an_unexpected_schedule_refresh_failure(db, redis_client, caplog, monkeypatch):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="x")
    monkeypatch.setattr(clients, "client_for", lambda tenant: ExplodingClient())
    caplog.set_level(logging.DEBUG)

    assert refresh_schedules(tenant.pk) == "error"
    assert "UnicodeEncodeError" in caplog.text
    assert BAD_TOKEN not in caplog.text
