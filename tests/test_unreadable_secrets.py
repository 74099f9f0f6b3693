"""A stored secret that no configured key decrypts: the row still loads, every place says so.

SECRET_KEY or FIELD_ENCRYPTION_KEYS changed without rotate_tokens, or a database restored
elsewhere: the tenant shows "the stored token cannot be read with the current keys: enter it
again" in admin, /healthz and on its boards; the poller stops calling 8x8 for it (one log line,
no traceback); the form takes a new token; a command and a database check list such rows.
"""

from __future__ import annotations

import io
import logging
import pickle

import pytest
from admin_helpers import tenant_post as shared_tenant_post
from cryptography.fernet import Fernet
from django.core.checks import Warning as CheckWarning
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from tests.pipeline_helpers import Clock, make_board
from wallboard.boards import crypto
from wallboard.boards.crypto import UnreadableSecret
from wallboard.boards.models import Tenant, TenantHealth
from wallboard.live import store
from wallboard.ops import checks
from wallboard.polling.clients import UnreadableSecretError, client_for
from wallboard.polling.cycle import poll_tenant
from wallboard.polling.dispatch import claim_due_polls
from wallboard.polling.schedules import refresh_schedules
from wallboard.simulator.server import SimulatorServer

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SECRET = "s3cr3t-data-request-token"
MESSAGE = "the stored token cannot be read with the current keys: enter it again"



def tenant_post(**changes) -> dict:
    """The shared valid tenant form, with this file's defaults."""
    return shared_tenant_post(**{**dict(token=""), **changes})



def raw_column(tenant_id: int, column: str = "token") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM boards_tenant WHERE id = %s", [tenant_id])  # noqa: S608
        return cursor.fetchone()[0]


def lose_the_key(settings) -> None:
    """What a deploy without rotate_tokens does: the key that encrypted the rows is gone."""
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]


@pytest.fixture
def tenant(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token=SECRET)
    lose_the_key(settings)
    return tenant


# --- the field --------------------------------------------------------------------------------


def test_it_loads_a_row_no_key_decrypts(tenant):
    loaded = Tenant.objects.get(pk=tenant.pk)

    assert isinstance(loaded.token, UnreadableSecret)
    assert loaded.token  # a value is stored: never mistaken for none
    assert crypto.unreadable_fields(loaded) == ["token"]
    assert loaded.api_key == ""  # an empty secret is not unreadable


def test_it_never_shows_the_ciphertext_nor_equals_a_real_token(tenant):
    token = Tenant.objects.get(pk=tenant.pk).token
    stored = raw_column(tenant.pk)

    for text in (str(token), repr(token), f"{token}", token + ""):
        assert stored not in text and stored[len(crypto.PREFIX):] not in text
    assert token != str(token) and token != UnreadableSecret.PLACEHOLDER and token != ""
    assert str(token) != token
    assert token == Tenant.objects.get(pk=tenant.pk).token  # the same stored value
    assert pickle.loads(pickle.dumps(token)) == token


def test_it_writes_the_stored_value_back_unchanged_on_save(tenant, settings):
    before = raw_column(tenant.pk)
    loaded = Tenant.objects.get(pk=tenant.pk)
    loaded.poll_interval = 30
    loaded.save()

    assert raw_column(tenant.pk) == before
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]  # the old key is put back
    assert Tenant.objects.get(pk=tenant.pk).token == SECRET


# --- admin -----------------------------------------------------------------------------------


def test_it_shows_the_message_in_the_admin_list(admin_client, tenant):
    TenantHealth.objects.create(tenant=tenant, state="ok")

    response = admin_client.get("/admin/boards/tenant/")

    assert response.status_code == 200
    body = response.content.decode()
    assert f"Unreadable secret — {MESSAGE}" in body
    assert raw_column(tenant.pk) not in body


def test_it_keeps_the_change_page_usable_and_says_why(admin_client, tenant):
    response = admin_client.get(f"/admin/boards/tenant/{tenant.pk}/change/")

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [f"Acme: {MESSAGE}."]
    form = response.context["adminform"].form
    assert form.fields["token"].help_text == f"Not usable: {MESSAGE}."
    body = response.content.decode()
    assert raw_column(tenant.pk) not in body and UnreadableSecret.PLACEHOLDER not in body


def test_it_says_so_to_a_viewer_too(client, tenant, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="pw-123456", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_tenant"))
    client.force_login(viewer)

    response = client.get(f"/admin/boards/tenant/{tenant.pk}/change/")

    assert response.status_code == 200
    assert f"Not usable: {MESSAGE}." in response.content.decode()


def test_it_keeps_the_stored_value_when_the_form_leaves_the_token_blank(admin_client, tenant):
    before = raw_column(tenant.pk)

    response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/change/", tenant_post(poll_interval="30"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert raw_column(tenant.pk) == before  # the sentinel was not encrypted over it
    assert Tenant.objects.get(pk=tenant.pk).poll_interval == 30


def test_it_reads_again_once_the_token_is_typed_again(admin_client, tenant):
    response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/change/", tenant_post(token="typed-again-123"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Tenant.objects.get(pk=tenant.pk).token == "typed-again-123"
    assert MESSAGE not in admin_client.get("/admin/boards/tenant/").content.decode()


def test_it_answers_test_connection_in_words(admin_client, tenant, redis_client):
    response = admin_client.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/", follow=True)

    assert response.status_code == 200
    # The test's answer, then the change page's own warning.
    assert [str(m) for m in response.context["messages"]] == [f"Acme: connection failed: {MESSAGE}", f"Acme: {MESSAGE}."]


# --- the poller ------------------------------------------------------------------------------


@pytest.fixture
def sim(redis_client):
    server = SimulatorServer(port=0, agents=5, queues=3, seed=5, clock=Clock())
    server.start()
    yield server
    server.stop()


def test_it_stops_polling_with_one_log_line_and_no_call_to_8x8(db, sim, settings, caplog):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    tenant, board, _ = make_board(sim.base_url)
    assert poll_tenant(tenant.pk).outcome == "ok"
    lose_the_key(settings)
    sim.reset_counters()
    caplog.set_level(logging.DEBUG)

    outcomes = [poll_tenant(tenant.pk).outcome for _ in range(3)]

    assert outcomes == ["unreadable_secret"] * 3
    assert sum(sim.state()["requests"].values()) == 0  # nothing was sent to 8x8
    health = TenantHealth.objects.get(tenant=tenant)
    assert health.state == "unreadable_secret"
    assert MESSAGE in health.message
    changes = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(changes) == 1 and changes[0].levelno == logging.WARNING
    assert "unreadable_secret" in changes[0].getMessage() and MESSAGE in changes[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The boards say it, and the retry is slow, like bad credentials.
    assert store.load(board.slug).status["state"] == "unreadable_secret"
    assert tenant.pk not in [t for t, _ in claim_due_polls(horizon_seconds=30)]


def test_it_polls_again_once_the_token_is_typed_again(db, sim, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    tenant, board, _ = make_board(sim.base_url)
    lose_the_key(settings)
    assert poll_tenant(tenant.pk).outcome == "unreadable_secret"

    fixed = Tenant.objects.get(pk=tenant.pk)
    fixed.token = "demo-token"
    fixed.save()  # what the admin form does; the save makes the tenant due at once

    assert tenant.pk in [t for t, _ in claim_due_polls()]
    assert poll_tenant(tenant.pk).outcome == "ok"
    assert store.load(board.slug).status["state"] == "ok"


def test_it_skips_schedule_refreshes_without_a_line_each_time(db, sim, settings, caplog):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    tenant, _, _ = make_board(sim.base_url)
    lose_the_key(settings)
    sim.reset_counters()
    caplog.set_level(logging.INFO)

    assert refresh_schedules(tenant.pk) == "unreadable_secret"
    assert sum(sim.state()["requests"].values()) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_it_refuses_a_gateway_tenant_whose_api_key_is_unreadable(tenant, settings):
    # Only the API key is lost: stored under a key nobody has any more.
    Tenant.objects.filter(pk=tenant.pk).update(token="fine-token")
    lost = crypto.PREFIX + Fernet(Fernet.generate_key()).encrypt(b"gateway-key").decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE boards_tenant SET api_key = %s, api = 'gateway' WHERE id = %s", [lost, tenant.pk])
    loaded = Tenant.objects.get(pk=tenant.pk)

    with pytest.raises(UnreadableSecretError, match="the stored API key cannot be read with the current keys"):
        client_for(loaded)
    loaded.api = "classic"  # a classic tenant never sends the API key: it polls on
    assert client_for(loaded) is not None


# --- /healthz --------------------------------------------------------------------------------


def test_it_shows_the_state_in_healthz(admin_client, tenant, redis_client):
    TenantHealth.objects.create(tenant=tenant, state="ok")  # from before the key went

    body = admin_client.get("/healthz").json()

    assert body["tenants"][0]["state"] == "unreadable_secret"
    assert body["tenants"][0]["unreadable_secrets"] == ["token"]
    assert body["tenant_counts"]["failing"] == 1
    assert raw_column(tenant.pk) not in str(body)


# --- listing them ----------------------------------------------------------------------------


def test_it_lists_the_unreadable_rows_and_exits_1(tenant, settings):
    readable = Tenant.objects.create(name="Beta", base_url="https://vcc-na4.8x8.com", tenant_name="b", token="t")
    out = io.StringIO()

    with pytest.raises(SystemExit) as caught:
        call_command("unreadable_secrets", stdout=out, stderr=io.StringIO())

    assert caught.value.code == 1
    assert out.getvalue().splitlines() == [f"Tenant 'Acme' (id {tenant.pk}): token"]
    assert "Beta" not in out.getvalue() and readable.pk


def test_it_names_every_encrypted_field(tenant, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    Tenant.objects.filter(pk=tenant.pk).update(api_key="gateway-key")  # encrypted with the old key too
    lose_the_key(settings)
    out = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("unreadable_secrets", stdout=out, stderr=io.StringIO())

    assert out.getvalue().strip() == f"Tenant 'Acme' (id {tenant.pk}): token, api_key"
    assert {label for label, _, _ in crypto.encrypted_columns()} >= {"boards.Tenant.token", "boards.Tenant.api_key"}


def test_it_says_all_can_be_read_otherwise(tenant, settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = io.StringIO()

    call_command("unreadable_secrets", stdout=out)

    assert out.getvalue().strip() == "all stored secrets can be read"


def test_it_lists_them_in_the_database_check(tenant):
    found = checks.check_unreadable_secrets(None, databases=["default"])

    assert [(w.id, type(w)) for w in found] == [("wallboard.W001", CheckWarning)]
    assert f"Tenant 'Acme' (id {tenant.pk}): token" in found[0].msg
    assert checks.check_unreadable_secrets(None, databases=None) == []  # plain `check`: no query
    with pytest.raises(SystemCheckError, match="wallboard.W001"):
        call_command("check", databases=["default"], fail_level="WARNING", stdout=io.StringIO(), stderr=io.StringIO())


def test_it_still_refuses_to_rotate_and_says_where_to_look(tenant):
    with pytest.raises(CommandError, match="nothing was changed.*unreadable_secrets"):
        call_command("rotate_tokens", stdout=io.StringIO())
