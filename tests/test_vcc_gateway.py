"""The statistics gateway end to end: client, `vcc fetch`, admin and poller, against the simulator.

The gateway is known to serve one queue by id only (../shared/api/NOTES.md): a gateway client
reads the queues it is told about one by one, and agents and schedules still use the classic
APIs with the token. Through it the records, the errors and the board are the classic ones, and
the API key never shows up in a log line, an error message or a page.
"""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from admin_helpers import raw_tenant_column
from admin_helpers import tenant_post as shared_tenant_post
from django.core.management import call_command
from vcc_server import vcc_server_fixture  # noqa: F401 - the fixture

from tests.pipeline_helpers import Clock
from wallboard.boards.models import Board, BoardQueue, QueueGroup, Tenant, TenantHealth
from wallboard.live import store
from wallboard.polling.clients import board_queue_ids
from wallboard.polling.cycle import poll_tenant
from wallboard.simulator.server import SimulatorServer
from wallboard.vcc import errors
from wallboard.vcc.client import VccClient

API_KEY = "s3cr3t-gateway-api-key"
GATEWAY = "/cc/v1/stats/rt/queue"

def tenant_post(**changes) -> dict:
    """The shared valid tenant form, with this file's defaults."""
    return shared_tenant_post(**{**dict(token="a-data-request-token", api="gateway", api_key=API_KEY, time_zone="UTC"), **changes})



@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(clock):
    server = SimulatorServer(port=0, agents=20, queues=5, seed=3, clock=clock, api_key=API_KEY)
    server.start()
    yield server
    server.stop()


def classic(sim, fmt: str = "json") -> VccClient:
    return VccClient(sim.base_url, "demo", "demo-token", fmt=fmt, read_timeout=2)


def gateway(sim, queue_ids=None, *, token: str | None = "demo-token", api_key: str = API_KEY, **kwargs) -> VccClient:
    kwargs.setdefault("read_timeout", 2)
    return VccClient(sim.base_url, "demo", token, api="gateway", api_key=api_key, queue_ids=queue_ids, **kwargs)


def settled(sim) -> None:
    """Wait until the simulator has no request of ours in flight (synchronisation, not timing)."""
    deadline = time.monotonic() + 10
    while sim.state()["in_flight"]["demo"]:
        assert time.monotonic() < deadline, "a request stayed in flight"
        time.sleep(0.01)


def all_queue_ids(sim) -> list[str]:
    return [q.queue_id for q in classic(sim).queues()]


# --- the client ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_reads_the_same_queue_records_through_the_gateway(sim, fmt):
    ids = all_queue_ids(sim)
    expected = classic(sim, fmt).queues()

    assert gateway(sim, ids).queues() == expected
    assert gateway(sim, ids).queue(ids[1]) == classic(sim, fmt).queue(ids[1])
    assert sim.state()["gateway_requests"] == len(ids) + 1


def test_it_reads_only_the_queues_it_is_told_about_in_that_order(sim):
    ids = all_queue_ids(sim)
    wanted = [ids[3], ids[0], ids[3]]
    asked = []

    def source():
        asked.append(True)
        return wanted

    client = gateway(sim, source)
    assert [q.queue_id for q in client.queues()] == [ids[3], ids[0]]
    assert [q.queue_id for q in client.queues()] == [ids[3], ids[0]]
    assert len(asked) == 2, "the ids are asked for at each call: boards change"
    assert sim.state()["requests"]["queues"] == 1  # only all_queue_ids' classic list


def test_it_reads_agents_and_schedules_with_the_token(sim):
    client = gateway(sim, [])
    assert client.agents() == classic(sim).agents()
    assert client.schedules() == classic(sim).schedules()
    assert client.queues() == []


def test_it_sends_the_api_key_to_the_gateway_only_and_the_token_to_the_classic_api_only(vcc_server):
    vcc_server.route(f"{GATEWAY}/115", b'{"queue": {"queue-id": 115, "queue-size": 2}}')
    vcc_server.route("/api/rtstats/stats/agents.json", b'{"agent": []}')
    client = VccClient(vcc_server.url, "acme", "the-token", api="gateway", api_key=API_KEY, queue_ids=["115"])

    assert client.queue("115").queue_size == 2
    client.agents()

    to_gateway, to_classic = vcc_server.requests
    assert to_gateway.path == f"{GATEWAY}/115"
    assert to_gateway.auth is None
    assert to_gateway.headers["X-8x8-Tenant"] == "acme" and to_gateway.headers["x-api-key"] == API_KEY
    assert to_classic.auth == ("acme", "the-token")
    assert API_KEY not in str(to_classic.headers)


def test_it_raises_unauthorised_for_a_wrong_api_key(sim, caplog):
    caplog.set_level(logging.DEBUG)
    client = gateway(sim, all_queue_ids(sim), api_key="not-the-key")

    with pytest.raises(errors.UnauthorisedError) as raised:
        client.queues()
    with pytest.raises(errors.UnauthorisedError):
        client.queue("201")

    assert raised.value.status == 403
    assert "API key" in str(raised.value)
    assert "not-the-key" not in str(raised.value) + caplog.text + repr(client)


@pytest.mark.parametrize(
    ("api_key", "words"),
    [
        ("kéy-s3cr3t", "printable ASCII"),
        ("s3cr3t\r\nX-Injected: 1", "printable ASCII"),
        ("s3cr3t\x00", "printable ASCII"),
        ("ключ-s3cr3t", "printable ASCII"),
        (" s3cr3t", "start or end with a space"),
        ("s3cr3t ", "start or end with a space"),
    ],
)
def test_it_refuses_an_api_key_8x8_cannot_accept_before_sending(vcc_server, api_key, words):
    vcc_server.route(f"{GATEWAY}/115", b'{"queue": {"queue-id": 115}}')
    client = VccClient(vcc_server.url, "acme", None, api="gateway", api_key=api_key, queue_ids=["115"])

    with pytest.raises(errors.UnauthorisedError) as raised:
        client.queues()

    assert words in str(raised.value) and "API key" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)
    assert vcc_server.requests == []


def test_it_refuses_a_tenant_name_8x8_cannot_accept_in_the_gateway_header(vcc_server):
    client = VccClient(vcc_server.url, "démo", None, api="gateway", api_key=API_KEY, queue_ids=["115"])
    with pytest.raises(errors.UnauthorisedError, match="tenant name"):
        client.queues()
    assert vcc_server.requests == []


def test_it_refuses_classic_calls_without_a_token(vcc_server):
    client = VccClient(vcc_server.url, "acme", None, api="gateway", api_key=API_KEY, queue_ids=[])

    with pytest.raises(errors.UnauthorisedError, match="no data request token"):
        client.agents()
    with pytest.raises(errors.UnauthorisedError):
        client.schedules()
    assert vcc_server.requests == []


def test_it_needs_queue_ids_and_an_api_key_for_the_gateway(sim):
    with pytest.raises(ValueError, match="no queue list"):
        gateway(sim, None).queues()
    with pytest.raises(ValueError, match="API key"):
        VccClient(sim.base_url, "demo", "demo-token", api="gateway")
    with pytest.raises(ValueError, match="api must be"):
        VccClient(sim.base_url, "demo", "demo-token", api="soap")


def test_it_leaves_out_a_queue_the_gateway_does_not_know(sim):
    ids = all_queue_ids(sim)
    assert [q.queue_id for q in gateway(sim, [ids[0], "999", ids[1]]).queues()] == ids[:2]
    with pytest.raises(errors.NotFoundError):
        gateway(sim, []).queue("999")


def test_it_reports_not_found_when_the_gateway_knows_none_of_the_queues(sim):
    with pytest.raises(errors.NotFoundError, match="none of the 2 queues"):
        gateway(sim, ["998", "999"]).queues()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "status", "code": 503}, errors.BusyError),
        ({"kind": "status", "code": 500}, errors.ServerError),
        ({"kind": "status", "code": 404}, errors.NotFoundError),
        ({"kind": "revoke"}, errors.UnauthorisedError),
        ({"kind": "malformed"}, errors.MalformedError),
        ({"kind": "truncated"}, errors.MalformedError),
        ({"kind": "oversized", "bytes": 200_000}, errors.TooLargeError),
    ],
)
def test_it_gives_the_same_typed_errors_as_the_classic_api(sim, fault, error):
    ids = all_queue_ids(sim)
    sim.faults.add(target="rtstats", count=1, **fault)
    with pytest.raises(errors.VccError) as from_classic:
        VccClient(sim.base_url, "demo", "demo-token", read_timeout=2, max_bytes=100_000).queue(ids[0])
    settled(sim)  # an abandoned oversized answer is still being written: the tenant is in flight
    sim.faults.add(target="rtstats", count=1, **fault)
    with pytest.raises(errors.VccError) as from_gateway:
        gateway(sim, ids[:1], max_bytes=100_000).queues()
    assert type(from_classic.value) is type(from_gateway.value) is error


def test_it_keeps_a_gateway_queue_list_within_the_time_of_one_call(sim):
    sim.latency_ms = 200
    client = gateway(sim, all_queue_ids(sim), connect_timeout=0.1, read_timeout=0.35)

    with pytest.raises(errors.TimedOutError):
        client.queues()


def test_it_accepts_a_pasted_gateway_base_url(sim):
    client = VccClient(sim.base_url + "/cc/v1/stats/rt", "demo", None, api="gateway", api_key=API_KEY)
    assert client.base_url == sim.base_url
    assert client.queue("201").queue_id == "201"


# --- vcc fetch -----------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("vcc", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def test_it_prints_the_same_json_through_the_gateway(sim):
    ids = all_queue_ids(sim)
    connect = ["--base-url", sim.base_url, "--tenant", "demo"]
    _, from_classic, _ = run("fetch", "queues", *connect, "--token", "demo-token")
    status, from_gateway, err = run(
        "fetch", "queues", *connect, "--api", "gateway", "--api-key", API_KEY, "--queue-ids", ",".join(ids)
    )

    assert (status, err) == (0, "")
    assert from_gateway == from_classic
    assert len(json.loads(from_gateway)) == len(ids)
    _, one_classic, _ = run("fetch", "queue", ids[2], *connect, "--token", "demo-token")
    _, one_gateway, _ = run("fetch", "queue", ids[2], *connect, "--api", "gateway", "--api-key", API_KEY)
    assert one_gateway == one_classic


def test_it_takes_the_api_key_from_the_environment(sim, monkeypatch):
    monkeypatch.setenv("VCC_API_KEY", API_KEY)
    status, out, _ = run("fetch", "queue", "201", "--base-url", sim.base_url, "--tenant", "demo", "--api", "gateway")
    assert status == 0 and json.loads(out)["queue_id"] == "201"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["fetch", "queue", "201", "--api", "gateway", "--api-key", "wrong-key"], "bad credentials"),
        (["fetch", "queue", "201", "--api", "gateway"], "missing API key"),
        (["fetch", "queues", "--api", "gateway", "--api-key", API_KEY], "--queue-ids"),
        (["fetch", "agents", "--api", "gateway", "--api-key", API_KEY], "still needs the Data Request Token"),
        (["fetch", "queue", "201", "--api", "gateway", "--api-key", API_KEY, "--format", "xml"], "JSON only"),
        (["fetch", "queue", "999", "--api", "gateway", "--api-key", API_KEY], "not found"),
        (["fetch", "queue", "201", "--api", "gateway", "--api-key", "kéy-" + API_KEY], "printable ASCII"),
    ],
)
def test_it_fails_in_one_line_without_the_api_key(sim, monkeypatch, args, words):
    monkeypatch.delenv("VCC_API_KEY", raising=False)
    monkeypatch.delenv("VCC_TOKEN", raising=False)
    status, out, err = run(*args, "--base-url", sim.base_url, "--tenant", "demo")

    assert (status, out) == (1, "")
    assert err.count("\n") <= 1 and words in err
    assert API_KEY not in err and "wrong-key" not in err and "Traceback" not in err


# --- admin ---------------------------------------------------------------------------------------






def test_it_stores_the_api_key_encrypted_and_never_shows_it(admin_client):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post())
    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant = Tenant.objects.get()
    assert (tenant.api, tenant.api_key) == ("gateway", API_KEY)
    assert raw_tenant_column(tenant.pk, "api_key").startswith("fernet:") and API_KEY not in raw_tenant_column(tenant.pk, "api_key")

    page = admin_client.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert 'name="api_key"' in page and API_KEY not in page and raw_tenant_column(tenant.pk, "api_key") not in page


def test_it_keeps_the_api_key_when_left_blank(admin_client):
    admin_client.post("/admin/boards/tenant/add/", tenant_post())
    tenant = Tenant.objects.get()
    admin_client.post(f"/admin/boards/tenant/{tenant.pk}/change/", tenant_post(api_key="", token="", name="Acme 2"))
    tenant.refresh_from_db()
    assert (tenant.name, tenant.api_key) == ("Acme 2", API_KEY)
    admin_client.post(f"/admin/boards/tenant/{tenant.pk}/change/", tenant_post(api_key="new-key", token=""))
    tenant.refresh_from_db()
    assert tenant.api_key == "new-key"


def test_it_requires_an_api_key_for_the_gateway_only(admin_client):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post(api_key=""))
    assert response.status_code == 200
    assert "needs the tenant" in str(response.context["adminform"].form.errors["api_key"])
    assert admin_client.post("/admin/boards/tenant/add/", tenant_post(api="classic", api_key="")).status_code == 302
    assert Tenant.objects.get().api == "classic"


@pytest.mark.parametrize("api_key", ["kéy-" + API_KEY, API_KEY + "\tx", "🔥" + API_KEY])
def test_it_rejects_an_api_key_8x8_cannot_accept_without_echoing_it(admin_client, api_key):
    response = admin_client.post("/admin/boards/tenant/add/", tenant_post(api_key=api_key))
    assert response.status_code == 200
    assert "printable ASCII" in str(response.context["adminform"].form.errors["api_key"])
    assert api_key not in response.content.decode()


def test_it_does_not_show_the_api_key_to_a_view_only_user(db, client, redis_client):
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_tenant"))
    client.force_login(viewer)
    tenant = Tenant.objects.create(
        name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t", api="gateway", api_key=API_KEY
    )

    body = client.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert API_KEY not in body and "Gateway (API key)" in body
    assert body.count("Stored encrypted; never shown.") == 2  # the token and the API key


# --- the poller ----------------------------------------------------------------------------------


def make_board(sim, slug: str, **tenant_fields) -> tuple[Tenant, Board]:
    """A tenant on the simulator with a board of three queues and a group of two of them."""
    ids = all_queue_ids(sim)
    tenant = Tenant.objects.create(
        name=f"Sim {slug}", base_url=sim.base_url, tenant_name="demo", token="demo-token", **tenant_fields
    )
    board = Board.objects.create(slug=slug, title="Operations", tenant=tenant)
    for position, queue_id in enumerate(ids[:3]):
        BoardQueue.objects.create(board=board, queue_id=queue_id, position=position)
    QueueGroup.objects.create(board=board, name="Pair", queue_ids=[ids[3], ids[0]])
    return tenant, board


def without_clock(agents: dict) -> dict:
    # status_since is the poll's wall-clock time minus time in status: the two polls differ by a second.
    return {agent_id: {k: v for k, v in entry.items() if k != "status_since"} for agent_id, entry in agents.items()}


@pytest.mark.django_db(transaction=True)
def test_it_polls_a_gateway_tenant_and_fills_its_board(sim, clock, redis_client):
    tenant, board = make_board(sim, "gateway-board", api="gateway", api_key=API_KEY)
    reference, reference_board = make_board(sim, "classic-board")
    ids = all_queue_ids(sim)
    assert board_queue_ids(tenant.pk)() == [ids[0], ids[1], ids[2], ids[3]]

    for _ in range(2):
        clock.advance(10)
        sim.reset_counters()
        assert poll_tenant(tenant.pk).outcome == "ok"
        state = sim.state()
        assert state["requests"]["queues"] == 0 and state["requests"]["agents"] == 1
        assert state["gateway_requests"] == 4
        assert poll_tenant(reference.pk).outcome == "ok"

        filled, expected = store.load(board.slug).data, store.load(reference_board.slug).data
        assert set(filled["queues"]) >= set(ids[:3]) and filled["agents"]
        assert filled["queues"] == expected["queues"]
        assert without_clock(filled["agents"]) == without_clock(expected["agents"])
    assert TenantHealth.objects.get(tenant=tenant).state == "ok"


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_api_key_out_of_logs_and_health(sim, redis_client, caplog):
    wrong = "wrong-" + API_KEY
    tenant, board = make_board(sim, "bad-key", api="gateway", api_key=wrong)
    caplog.set_level(logging.DEBUG)

    assert poll_tenant(tenant.pk).outcome == "unauthorised"

    health = TenantHealth.objects.get(tenant=tenant)
    assert "API key" in health.last_error_message
    texts = [caplog.text, health.message, health.last_error_message, store.load(board.slug).status_json]
    for text in texts:
        assert wrong not in text and API_KEY not in text
