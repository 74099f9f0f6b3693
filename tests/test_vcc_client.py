"""VccClient against a real local HTTP server: URLs, auth, every failure, caps and timeouts."""

from __future__ import annotations

import gzip
import json
import threading
import time

import pytest
from vcc_server import fixture_bytes, vcc_server_fixture  # noqa: F401 - the fixture

from wallboard.vcc import errors
from wallboard.vcc.client import VccClient, validate_base_url

STATS = "/api/rtstats/stats"
PROV = "/api/provisioning"
TOKEN = "s3cret-token-value"


def client_for(server, fmt="json", **kwargs) -> VccClient:
    return VccClient(server.url, "acme", TOKEN, fmt=fmt, **kwargs)


# --- success -----------------------------------------------------------------------------------


def test_it_fetches_agents_as_json_with_basic_auth(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", json.dumps({"agent": [{"agent-id": "ag1", "agent-status": 2}]}))

    agents = client_for(vcc_server).agents()

    assert [(a.agent_id, a.agent_status) for a in agents] == [("ag1", 2)]
    assert vcc_server.requests[0].auth == ("acme", TOKEN)


def test_it_fetches_the_vendor_samples_as_xml(vcc_server):
    vcc_server.route(f"{STATS}/agents", fixture_bytes("vendor-agents.xml"), headers={"Content-Type": "application/xml"})
    vcc_server.route(f"{STATS}/queues", fixture_bytes("vendor-queues.xml"))
    client = client_for(vcc_server, fmt="xml")

    assert [a.agent_id for a in client.agents()] == ["ag1", "clee"]
    assert [q.queue_id for q in client.queues()] == ["115", "111"]
    assert vcc_server.requests[0].headers["Accept"] == "application/xml"


def test_it_fetches_one_agent_and_one_queue(vcc_server):
    vcc_server.route(f"{STATS}/agent/jdoe.json", b'{"agent": {"agent-id": "jdoe", "agent-name": "J Doe"}}')
    vcc_server.route(f"{STATS}/queue/105.json", b'{"queue": {"queue-id": 105, "queue-size": 3}}')
    client = client_for(vcc_server)

    assert client.agent("jdoe").agent_name == "J Doe"
    queue = client.queue("105")
    assert (queue.queue_id, queue.queue_size) == ("105", 3)


def test_it_fetches_schedules(vcc_server):
    vcc_server.route(
        f"{PROV}/schedules.json", b'{"schedules": {"schedule": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}}'
    )
    vcc_server.route(f"{PROV}/schedules/122", fixture_bytes("schedule-122.xml"))
    client = client_for(vcc_server)

    assert [s.id for s in client.schedules()] == ["1", "2"]
    assert client_for(vcc_server, fmt="xml").schedule("122").name == "Support hours"


def test_it_fetches_a_schedule_by_a_name_with_spaces(vcc_server):
    vcc_server.route(
        f"{PROV}/schedulesbyname/Default%20Schedule.json",
        b'{"schedules": {"schedule": {"id": 7, "name": "Default Schedule"}}}',
    )

    schedule = client_for(vcc_server).schedule_by_name("Default Schedule")

    assert (schedule.id, schedule.name) == ("7", "Default Schedule")


def test_it_passes_utctime_and_offset_to_status_and_nextstatus(vcc_server):
    vcc_server.route(f"{PROV}/schedules/5/status.json", b'{"schedule-status": {"status": "CLOSED"}}')
    vcc_server.route(
        f"{PROV}/schedules/5/nextstatus.json",
        b'{"schedule-next-status": {"status": 0, "next-status": -1, "next-change-utctime": 1360825200000}}',
    )
    client = client_for(vcc_server)

    assert client.schedule_status("5", utctime_ms=1360821949898, offset_s=600).to_dict() == {
        "status": -1,
        "label": "CLOSED",
    }
    assert client.schedule_next("5").next_change.isoformat() == "2013-02-14T07:00:00+00:00"
    assert vcc_server.requests[0].query == "utctime=1360821949898&offset=600"
    assert vcc_server.requests[1].query == ""


def test_it_accepts_a_gzipped_answer(vcc_server):
    vcc_server.route(
        f"{STATS}/queues.json", gzip.compress(b'{"queue": [{"queue-id": 1}]}'), headers={"Content-Encoding": "gzip"}
    )

    assert client_for(vcc_server).queues()[0].queue_id == "1"


def test_it_takes_the_api_base_as_well_as_the_platform_root(vcc_server):
    vcc_server.route(f"{STATS}/queues.json", b'{"queue": []}')

    client = VccClient(vcc_server.url + "/api/rtstats/stats/", "acme", TOKEN)

    assert client.base_url == vcc_server.url
    assert client.queues() == []


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, errors.UnauthorisedError, "bad credentials"),
        (403, errors.UnauthorisedError, "bad credentials"),
        (404, errors.NotFoundError, "not found"),
        (503, errors.BusyError, "busy"),
        (500, errors.ServerError, "server error"),
        (502, errors.ServerError, "server error"),
        (400, errors.BadRequestError, "bad request"),
        (302, errors.BadRequestError, "redirect"),
    ],
)
def test_it_maps_each_http_status_to_a_typed_error(vcc_server, status, error, words):
    vcc_server.route(f"{STATS}/agents.json", b"nope", status=status, headers={"Location": "https://login.example.com/"})

    with pytest.raises(error) as caught:
        client_for(vcc_server).agents()

    assert caught.value.status == status
    assert words in str(caught.value)
    assert len(vcc_server.requests) == 1  # no retries inside a poll cycle, no redirect followed


def test_it_gives_each_error_a_kind():
    assert {cls.kind for cls in errors.KINDS.values()} >= {
        "unauthorised", "not_found", "busy", "server_error", "timeout", "unreachable", "malformed", "unsafe", "too_large", "bad_request",
    }  # fmt: skip


def test_it_times_out_on_a_server_that_never_answers(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", hang=True)
    client = client_for(vcc_server, read_timeout=0.3)

    started = time.monotonic()
    with pytest.raises(errors.TimedOutError) as caught:
        client.agents()

    assert time.monotonic() - started < 3
    assert caught.value.kind == "timeout"
    assert "timed out" in str(caught.value)


def test_it_times_out_on_a_body_that_stalls(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b'{"agent": [', stall=True)
    client = client_for(vcc_server, read_timeout=0.3)

    with pytest.raises(errors.TimedOutError):
        client.agents()


def test_it_stops_a_body_that_never_ends(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", stream_forever=True)
    client = client_for(vcc_server, max_bytes=200_000)

    with pytest.raises(errors.TooLargeError):
        client.agents()


def test_it_refuses_an_announced_body_over_the_cap(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b"{" + b" " * 5000 + b"}")

    with pytest.raises(errors.TooLargeError):
        client_for(vcc_server, max_bytes=4096).agents()


def test_it_counts_the_cap_after_decompression(vcc_server):
    bomb = gzip.compress(b'{"agent": [' + b" " * 5_000_000 + b"]}")
    vcc_server.route(f"{STATS}/agents.json", bomb, headers={"Content-Encoding": "gzip"})

    with pytest.raises(errors.TooLargeError):
        client_for(vcc_server, max_bytes=1_000_000).agents()


def test_it_reports_an_unreachable_server(vcc_server):
    url = vcc_server.url
    vcc_server.stop()

    with pytest.raises(errors.UnreachableError):
        VccClient(url, "acme", TOKEN, connect_timeout=0.5).agents()


def test_it_reports_a_malformed_answer_with_its_url(vcc_server):
    vcc_server.route(f"{STATS}/queues.json", b"<html>maintenance</html>")

    with pytest.raises(errors.MalformedError) as caught:
        client_for(vcc_server).queues()

    assert caught.value.url.endswith("/queues.json")


def test_it_refuses_an_xml_bomb_from_the_server(vcc_server):
    from test_vcc_parse import BOMB, XXE

    vcc_server.route(f"{STATS}/agents", BOMB)
    vcc_server.route(f"{STATS}/queues", XXE)
    client = client_for(vcc_server, fmt="xml")

    with pytest.raises(errors.UnsafeError):
        client.agents()
    with pytest.raises(errors.UnsafeError):
        client.queues()


def test_it_finds_no_agent_in_an_empty_answer(vcc_server):
    vcc_server.route(f"{STATS}/agent/ghost.json", b'{"agent": []}')

    with pytest.raises(errors.NotFoundError):
        client_for(vcc_server).agent("ghost")


# --- one request in flight per tenant ------------------------------------------------------------


def test_it_never_has_two_requests_in_flight_for_a_tenant(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b'{"agent": []}', delay=0.2)
    vcc_server.route(f"{STATS}/queues.json", b'{"queue": []}', delay=0.2)
    first, second = client_for(vcc_server), client_for(vcc_server)  # two clients, one tenant
    calls = [first.agents, first.queues, second.agents, second.queues]
    threads = [threading.Thread(target=call) for call in calls]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(vcc_server.requests) == 4
    assert vcc_server.max_in_flight == 1


def test_it_lets_different_tenants_run_in_parallel(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b'{"agent": []}', delay=0.3)
    clients = [VccClient(vcc_server.url, f"tenant{i}", TOKEN) for i in range(2)]
    threads = [threading.Thread(target=c.agents) for c in clients]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert vcc_server.max_in_flight == 2


# --- base URLs and the token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://vcc-na4.8x8.com", "https://vcc-na4.8x8.com"),
        ("https://VCC-NA4.8x8.com/", "https://vcc-na4.8x8.com"),
        ("https://na1.mycontactual.com/api/rtstats/stats", "https://na1.mycontactual.com"),
        ("https://vcc-na4.8x8.com/api/provisioning/", "https://vcc-na4.8x8.com"),
        ("http://127.0.0.1:8088", "http://127.0.0.1:8088"),
        ("http://127.1.2.3:8088/", "http://127.1.2.3:8088"),
        ("http://localhost:8088", "http://localhost:8088"),
        ("http://[::1]:8088", "http://[::1]:8088"),
    ],
)
def test_it_normalises_base_urls(given, root):
    assert validate_base_url(given) == root


@pytest.mark.parametrize(
    "url", ["http://vcc-na4.8x8.com", "http://10.0.0.5:8088", "http://128.0.0.1", "http://localhost.example.com"]
)
def test_it_refuses_plain_http_to_other_hosts(url):
    with pytest.raises(errors.UnsafeError, match="https"):
        validate_base_url(url)
    with pytest.raises(errors.UnsafeError):
        VccClient(url, "acme", TOKEN)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "vcc-na4.8x8.com",
        "ftp://vcc-na4.8x8.com",
        "https://",
        "https://u:p@vcc-na4.8x8.com",
        "https://x.com/?a=1",
        "https://x.com:port",
    ],
)
def test_it_refuses_what_is_not_a_base_url(url):
    with pytest.raises(ValueError):
        validate_base_url(url)


def test_it_never_shows_the_token(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b"denied", status=403)
    client = client_for(vcc_server)

    with pytest.raises(errors.VccError) as caught:
        client.agents()

    assert TOKEN not in repr(client)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    assert TOKEN not in (caught.value.url or "")
