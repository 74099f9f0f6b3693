"""The Dynamic Campaigns client and `vcc campaign` against the simulator over real HTTP."""

from __future__ import annotations

import io
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management import call_command

from wallboard.simulator.server import SimulatorServer
from wallboard.vcc import campaigns as vc
from wallboard.vcc.errors import ServerError, TimedOutError, UnreachableError, UnsafeError, VccError

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TOKEN = "demo-action-token"


@pytest.fixture(scope="module")
def sim():
    server = SimulatorServer(port=0, agents=30, queues=8, seed=2, clock=lambda: NOON.timestamp())
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.campaigns.reset()
    sim.campaigns.configure("101", status="RUNNING")
    yield
    sim.campaigns.clear_faults()


@pytest.fixture
def client(sim):
    with vc.CampaignClient(sim.base_url, "demo", TOKEN, connect_timeout=2, read_timeout=1, max_bytes=100_000) as c:
        yield c


def campaign(sim, campaign_id="101"):
    return sim.campaigns.state()["campaigns"][campaign_id]


def requests_seen(sim) -> int:
    return sim.campaigns.state()["requests"]


# --- the three calls -------------------------------------------------------------------------------


def test_it_sets_a_campaign_state(sim, client):
    assert client.set_status("101", "PAUSED").to_dict() == {"campaign_id": "101", "status": "PAUSED"}
    assert campaign(sim)["status"] == "PAUSED"


def test_it_adds_customers_with_one_result_each(sim, client):
    at = NOON + timedelta(hours=2)
    results = client.add_customers("101", [vc.CustomerItem("1000001"), vc.CustomerItem("1000002", at)])

    assert [r.to_dict() for r in results] == [
        {"customer_id": "1000001", "schedule_date_time": None, "http_status": 200, "message": "added"},
        {"customer_id": "1000002", "schedule_date_time": "2026-12-02T14:00:00.000Z", "http_status": 200, "message": "added"},
    ]
    assert campaign(sim)["customers"]["1000002"] == "scheduled"


@pytest.mark.parametrize(
    ("item", "status", "words"),
    [
        (vc.CustomerItem("1000901"), 400, "Duplicate customer"),
        (vc.CustomerItem("42"), 404, "has not been found"),
        (vc.CustomerItem("1000003", NOON - timedelta(minutes=1)), 400, "in the past"),
        (vc.CustomerItem("1000003", NOON + timedelta(days=7, hours=1)), 400, "within 7 days"),
        (vc.CustomerItem("1000003", NOON + timedelta(hours=10)), 400, "outside the campaign schedule"),
    ],
)
def test_it_shows_each_refused_customer_with_the_vendors_message(client, item, status, words):
    results = client.add_customers("101", [vc.CustomerItem("1000004"), item])

    assert results[0].ok
    assert (results[1].ok, results[1].http_status) == (False, status)
    assert words in results[1].message


def test_it_passes_a_badly_formatted_time_through_and_reports_it(sim):
    answer = requests.post(
        f"{sim.base_url}/api/tstats/campaigns/101/customers",
        json=[{"customer-id": 1000005, "schedule-date-time": "2026-12-02T 09:00:00.000Z"}],
        auth=("demo", TOKEN),
        timeout=5,
    )
    result = vc.parse_customer_results(answer.content)[0]
    assert (answer.status_code, result.http_status) == (207, 400)
    assert "ISO 8601" in result.message


def test_it_removes_a_customer(sim, client):
    client.add_customers("101", [vc.CustomerItem("1000006")])
    client.remove_customer("101", "1000006")
    assert "1000006" not in campaign(sim)["customers"]


@pytest.mark.parametrize("customer", ["1000900", "1000901"])
def test_it_refuses_to_remove_an_offered_or_completed_record(client, customer):
    with pytest.raises(vc.RejectedError, match="not available for deletion"):
        client.remove_customer("101", customer)


def test_it_reports_a_customer_not_in_the_campaign(client):
    with pytest.raises(vc.CustomerNotFoundError, match="not in the campaign"):
        client.remove_customer("101", "1000555")


def test_it_probes_a_campaign_without_changing_it(sim, client):
    before = campaign(sim)
    assert "exists" in client.probe("101")
    assert campaign(sim) == before


# --- typed failures --------------------------------------------------------------------------------


def test_it_reports_a_wrong_action_token(sim):
    with vc.CampaignClient(sim.base_url, "demo", "demo-token") as c, pytest.raises(vc.WrongActionTokenError) as caught:
        c.set_status("101", "PAUSED")
    assert caught.value.kind == "unauthorised"
    assert "action token" in str(caught.value) and "demo-token" not in str(caught.value)
    assert campaign(sim)["status"] == "RUNNING"


def test_it_reports_a_campaign_that_does_not_exist(client):
    with pytest.raises(vc.CampaignNotFoundError, match="campaign 999 does not exist"):
        client.set_status("999", "PAUSED")
    with pytest.raises(vc.CampaignNotFoundError):
        client.remove_customer("999", "1000001")


@pytest.mark.parametrize("call", ["status", "add", "remove"])
def test_it_reports_a_campaign_that_is_not_dynamic(client, call):
    with pytest.raises(vc.NotDynamicError) as caught:
        if call == "status":
            client.set_status("103", "PAUSED")
        elif call == "add":
            client.add_customers("103", [vc.CustomerItem("1000001")])
        else:
            client.remove_customer("103", "1000001")
    assert caught.value.kind == "not_dynamic"


@pytest.mark.parametrize(
    ("campaign_id", "status", "words"),
    [("101", "PURGED", "Invalid state transition"), ("104", "RUNNING", "not enabled")],
)
def test_it_repeats_the_vendors_400_message(client, campaign_id, status, words):
    with pytest.raises(vc.RejectedError, match=words) as caught:
        client.set_status(campaign_id, status)
    assert caught.value.status == 400


def test_it_refuses_adds_to_a_stopped_or_new_campaign(sim, client):
    with pytest.raises(vc.RejectedError, match="has not started"):
        client.add_customers("102", [vc.CustomerItem("1000001")])
    client.set_status("101", "STOPPED")
    with pytest.raises(vc.RejectedError, match="No additional customers"):
        client.add_customers("101", [vc.CustomerItem("1000001")])


@pytest.mark.parametrize("code", [500, 502])
def test_it_reports_a_server_error_and_does_not_retry(sim, client, code):
    sim.campaigns.add_fault("status", code=code, count=1)
    before = requests_seen(sim)
    with pytest.raises(ServerError, match=f"HTTP {code}"):
        client.set_status("101", "PAUSED")
    assert requests_seen(sim) == before + 1
    assert campaign(sim)["status"] == "RUNNING"


@pytest.mark.parametrize("mode", ["hang", "lost"])
def test_it_says_unknown_when_the_answer_to_a_write_is_lost(sim, client, mode):
    sim.campaigns.add_fault(mode, count=1, max_seconds=5)
    before = requests_seen(sim)
    with pytest.raises(vc.OutcomeUnknownError, match="check the campaign in 8x8") as caught:
        client.set_status("101", "PAUSED")
    assert caught.value.kind == "unknown"
    assert requests_seen(sim) == before + 1  # never retried
    assert campaign(sim)["status"] == "PAUSED"  # it did happen: only the answer was lost


@pytest.mark.parametrize("mode", ["malformed", "oversized"])
def test_it_says_unknown_when_the_per_customer_answer_cannot_be_read(sim, client, mode):
    sim.campaigns.add_fault(mode, count=1, bytes=500_000)
    with pytest.raises(vc.OutcomeUnknownError, match="per-customer answer"):
        client.add_customers("101", [vc.CustomerItem("1000007")])
    assert "1000007" in campaign(sim)["customers"]


def test_it_says_nothing_was_sent_when_no_connection_could_be_made():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with vc.CampaignClient(f"http://127.0.0.1:{port}", "demo", TOKEN) as c, pytest.raises(UnreachableError, match="nothing was sent"):
        c.set_status("101", "PAUSED")


def test_it_says_nothing_was_sent_when_the_connection_times_out():
    # A listener that never accepts, its backlog full: the kernel drops further SYNs, so the
    # next connection cannot be made within the connect timeout.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            with vc.CampaignClient(f"http://127.0.0.1:{port}", "demo", TOKEN, connect_timeout=0.5) as c:
                with pytest.raises(TimedOutError, match="nothing was sent") as caught:
                    c.set_status("101", "PAUSED")
        finally:
            for filler in fillers:
                filler.close()
    assert not isinstance(caught.value, vc.OutcomeUnknownError)


def test_it_refuses_plain_http_to_a_remote_host():
    with pytest.raises(UnsafeError):
        vc.CampaignClient("http://vcc-na4.8x8.com", "demo", TOKEN)


def test_it_accepts_the_campaigns_base_url_as_typed_from_the_vendor_document(sim):
    with vc.CampaignClient(sim.base_url + "/api/tstats/campaigns/", "demo", TOKEN) as c:
        assert c.base_url == sim.base_url


@pytest.mark.parametrize("bad", ["", "abc", "1/2", "12345678901"])
def test_it_refuses_a_campaign_id_that_is_not_a_number(client, bad):
    with pytest.raises(ValueError):
        client.set_status(bad, "PAUSED")


def test_it_refuses_a_naive_callback_time():
    with pytest.raises(ValueError, match="time zone"):
        vc.CustomerItem("1000001", datetime(2026, 12, 2, 9, 0)).to_wire()


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"customer-id": 1}', b'[{"http-status": "x"}]', b"[1]", b'"text"'],
)
def test_it_refuses_malformed_per_customer_results(body):
    with pytest.raises(VccError):
        vc.parse_customer_results(body)


def test_it_accepts_a_lone_result_object_and_string_statuses():
    [result] = vc.parse_customer_results(b'{"customer-id": 5, "http-status": "404", "message": "nope"}')
    assert (result.customer_id, result.http_status, result.ok) == ("5", 404, False)


# --- the command -----------------------------------------------------------------------------------


def run(sim, *args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    flags = ["--base-url", sim.base_url, "--tenant", "demo"] + (["--token", token] if token else [])
    try:
        call_command("vcc", "campaign", *args, *flags, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def assert_one_line(status: int, out: str, err: str, words: str) -> None:
    assert (status, out) == (1, "")
    assert err.count("\n") <= 1 and words in err
    assert "Traceback" not in err and TOKEN not in err


def test_the_command_sets_a_state(sim):
    status, out, err = run(sim, "status", "101", "PAUSED")
    assert (status, err) == (0, "")
    assert json.loads(out) == {"campaign_id": "101", "status": "PAUSED"}


def test_the_command_adds_and_exits_2_when_some_customers_failed(sim):
    status, out, err = run(sim, "add", "101", "1000010", "1000011@2026-12-02T15:30:00+01:00", "42")
    results = json.loads(out)
    assert status == 2
    assert [(r["customer_id"], r["http_status"]) for r in results] == [("1000010", 200), ("1000011", 200), ("42", 404)]
    assert results[1]["schedule_date_time"] == "2026-12-02T14:30:00.000Z"
    assert set(results[0]) == {"customer_id", "schedule_date_time", "http_status", "message"}


def test_the_command_exits_0_when_every_customer_was_added(sim):
    status, out, _ = run(sim, "add", "101", "1000012")
    assert status == 0 and json.loads(out)[0]["http_status"] == 200


def test_the_command_removes_a_customer(sim):
    run(sim, "add", "101", "1000013")
    status, out, _ = run(sim, "remove", "101", "1000013")
    assert status == 0 and json.loads(out)["removed"] is True


def test_the_command_takes_the_token_from_the_environment(sim, monkeypatch):
    monkeypatch.setenv("VCC_ACTION_TOKEN", TOKEN)
    status, _, err = run(sim, "status", "101", "PAUSED", token=None)
    assert (status, err) == (0, "")


@pytest.mark.parametrize(
    ("args", "token", "words"),
    [
        (("status", "101", "PAUSED"), "demo-token", "action token"),
        (("status", "999", "PAUSED"), TOKEN, "does not exist"),
        (("status", "103", "PAUSED"), TOKEN, "not a dynamic campaign"),
        (("status", "101", "PURGED"), TOKEN, "Invalid state transition"),
        (("remove", "101", "1000900"), TOKEN, "not available for deletion"),
        (("add", "101", "1000001@tomorrow"), TOKEN, "not an ISO-8601 time"),
        (("add", "101", "1000001@2026-12-02T15:00"), TOKEN, "no time zone"),
        (("status", "abc", "PAUSED"), TOKEN, "a campaign id is a number"),
    ],
)
def test_the_command_fails_in_one_line(sim, monkeypatch, args, token, words):
    monkeypatch.delenv("VCC_ACTION_TOKEN", raising=False)
    assert_one_line(*run(sim, *args, token=token), words)


def test_the_command_fails_in_one_line_without_a_token(sim, monkeypatch):
    monkeypatch.delenv("VCC_ACTION_TOKEN", raising=False)
    assert_one_line(*run(sim, "status", "101", "PAUSED", token=None), "missing action token")


def test_the_command_says_unknown_when_the_answer_is_lost(sim, settings):
    settings.VCC_READ_TIMEOUT = 0.5
    sim.campaigns.add_fault("hang", count=1, max_seconds=5)
    assert_one_line(*run(sim, "status", "101", "PAUSED"), "outcome unknown")


def test_the_command_reports_a_server_error(sim):
    sim.campaigns.add_fault("status", code=500, count=1)
    assert_one_line(*run(sim, "status", "101", "PAUSED"), "HTTP 500")
