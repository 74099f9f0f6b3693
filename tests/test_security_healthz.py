"""/healthz reports the broker, the channel layer and the database, and keeps tenants private.

Found in an attack on the running stack: it said `ok` for 45 s while the private Redis was
down, and listed every tenant's display name to anyone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection

from wallboard.boards.models import Tenant, TenantHealth
from wallboard.devstack.embedded_redis import EmbeddedRedis
from wallboard.devstack.stack import BASE_DIR
from wallboard.settings import redis_settings

pytestmark = pytest.mark.django_db

TOKEN = "monitoring-token-0123456789abcdef"


@pytest.fixture
def own_redis(settings):
    """A Redis of this test's own, used as broker and channel layer, that the test may stop."""
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="wb-hz-")))
    for key, value in redis_settings(server.start()).items():
        setattr(settings, key, value)
    yield server
    server.stop()


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never answers, like a hung Redis."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def tenants():
    acme = Tenant.objects.create(name="Acme Secret Corp", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t1")
    Tenant.objects.create(name="Beta Hidden Ltd", base_url="https://vcc-eu2.8x8.com", tenant_name="beta", token="t2")
    TenantHealth.objects.create(tenant=acme, state="ok")


def test_it_answers_503_when_redis_goes_down(client, own_redis):
    assert client.get("/healthz").status_code == 200
    own_redis.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "down"
    assert body["components"] == {"database": "up", "broker": "down", "channel_layer": "down"}


def test_it_reports_the_broker_apart_from_the_channel_layer(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"] == {"database": "up", "broker": "down", "channel_layer": "up"}


def test_it_reports_a_redis_that_accepts_but_never_answers(client, settings, silent_port):
    url = f"redis://127.0.0.1:{silent_port}/0"
    settings.CHANNEL_LAYERS = {"default": {**settings.CHANNEL_LAYERS["default"], "CONFIG": {"hosts": [url]}}}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["channel_layer"] == "down"


def test_it_answers_503_when_the_database_is_down(client, tenants):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(refuse):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"]["database"] == "down"


def test_it_tells_a_staff_session_why_a_component_is_down(admin_client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    body = admin_client.get("/healthz").json()
    assert "onnect" in body["errors"]["broker"]
    assert set(body["errors"]) == {"broker"}


def test_it_shows_only_counts_without_credentials(client, tenants):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert b"Acme" not in response.content and b"Beta" not in response.content
    body = response.json()
    assert set(body) == {"status", "components", "tenant_counts"}
    assert body["tenant_counts"] == {"total": 2, "ok": 1, "failing": 0, "pending": 1, "disabled": 0}


def test_it_shows_tenants_to_a_staff_session(admin_client, tenants):
    body = admin_client.get("/healthz").json()
    assert {t["name"] for t in body["tenants"]} == {"Acme Secret Corp", "Beta Hidden Ltd"}
    assert body["components"]["broker"] == "up"


def test_it_hides_tenants_from_a_signed_in_supervisor(client, tenants):
    client.force_login(User.objects.create_user("alice", password="pw-alice-123"))
    assert b"Acme" not in client.get("/healthz").content


def test_it_shows_tenants_to_the_bearer_token(client, settings, tenants):
    settings.HEALTHZ_TOKEN = TOKEN
    response = client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert len(response.json()["tenants"]) == 2


def test_it_accepts_the_token_in_the_query_string(client, settings, tenants):
    settings.HEALTHZ_TOKEN = TOKEN
    assert len(client.get("/healthz", {"token": TOKEN}).json()["tenants"]) == 2


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Authorization": "Bearer wrong-token-0123456789abcdef"}, {}),
        ({}, {"token": TOKEN[:-1]}),
        ({"Authorization": f"Basic {TOKEN}"}, {}),
        # The header wins: a wrong header is not rescued by a right query string.
        ({"Authorization": "Bearer wrong"}, {"token": TOKEN}),
    ],
)
def test_it_refuses_a_wrong_token(client, settings, tenants, headers, query):
    settings.HEALTHZ_TOKEN = TOKEN
    response = client.get("/healthz", query, headers=headers)
    assert response.status_code == 200
    assert "tenants" not in response.json()


def test_it_admits_no_empty_token_when_none_is_configured(client, settings, tenants):
    settings.HEALTHZ_TOKEN = ""
    for headers, query in [({"Authorization": "Bearer "}, {}), ({}, {"token": ""})]:
        assert "tenants" not in client.get("/healthz", query, headers=headers).json()


def test_it_is_never_cached(client):
    assert "no-store" in client.get("/healthz")["Cache-Control"]


def test_it_refuses_a_guessable_monitoring_token():
    env = {**os.environ, "HEALTHZ_TOKEN": "letmein", "DJANGO_SETTINGS_MODULE": "wallboard.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "HEALTHZ_TOKEN must be at least 20 characters" in result.stderr
