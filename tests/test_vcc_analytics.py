"""The Analytics real-time API (v5) client over real HTTP against the simulator, and `vcc fetch --source analytics`.

The facts and the vendor's contradictions are in ../shared/api/8x8-analytics-realtime-v5.md:
one token reused (and shared) until it nearly expires, renewed once on a 401, paging to the
last page, regional URLs and X-Tenant-Info, ms -> s and 0-1 -> %, the statistics client's
typed errors and caps. The simulator serves both sources from one contact-centre model, so at
an instant both refresh on, the numbers they share must agree.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from tests.pipeline_helpers import START, Clock
from tests.vcc_server import vcc_server_fixture  # noqa: F401 - the fixture
from wallboard.polling.analytics_tokens import RedisTokenStore
from wallboard.simulator.analytics import agent_id
from wallboard.simulator.server import SimulatorServer
from wallboard.vcc import errors
from wallboard.vcc.analytics import (
    ALL_AGENT_METRICS,
    METRICS_PATH,
    TOKEN_PATH,
    AnalyticsClient,
    MemoryTokenStore,
    base_urls,
    token_key,
)
from wallboard.vcc.client import VccClient
from wallboard.vcc.parse import analytics as parse

SECRET = "s3cr3t-analytics-secret"
CLIENT_ID = "wallboard-app-key"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def sim(clock):
    server = SimulatorServer(port=0, agents=20, queues=5, seed=3, clock=clock)
    server.analytics.client_id, server.analytics.client_secret = CLIENT_ID, SECRET
    server.start()
    yield server
    server.stop()


def client(sim, **kwargs) -> AnalyticsClient:
    kwargs.setdefault("token_store", MemoryTokenStore())
    kwargs.setdefault("read_timeout", 2)
    return AnalyticsClient(kwargs.pop("client_id", CLIENT_ID), kwargs.pop("secret", SECRET), base_url=sim.base_url, **kwargs)


def analytics_state(sim) -> dict:
    return sim.analytics.state()


# --- the same centre ---------------------------------------------------------------------------


def test_it_shows_the_same_centre_as_the_statistics_api(sim):
    """START is on a 10 s boundary: both caches were built at the same instant of the model."""
    v5_queues = {q.queue_id: q for q in client(sim).queues()}
    classic = VccClient(sim.base_url, "demo", "demo-token")
    shared = ("queue_name", "queue_size", "longest_wait_time", "day_queued", "day_accepted", "day_abandoned",
              "agent_count_wait_transact", "agent_count_on_break", "agent_count_post_process",
              "agent_count_work_offline", "number_in_progress", "day_avg_wait_time", "sla_target")
    for old in classic.queues():
        new = v5_queues[old.queue_id]
        assert {f: getattr(new, f) for f in shared} == {f: getattr(old, f) for f in shared}
        assert new.agent_count_busy is not None and new.enabled_agent_count is not None
    v5_agents = {a.agent_id: a for a in client(sim).agents()}
    old_agents = classic.agents()
    assert len(v5_agents) == len(old_agents) == 20
    for old in old_agents:
        new = v5_agents[agent_id(old.agent_id)]
        assert (new.agent_name, new.group_id, new.agent_status, new.time_in_status) == (
            old.agent_name, old.group_id, old.agent_status, old.time_in_status)
        assert new.status_code_item_short_code == old.status_code_item_short_code


def test_it_refreshes_every_five_seconds(sim, clock):
    c = client(sim)
    first = analytics_state(sim)["last_refresh_ms"]
    clock.advance(4)
    c.queues()
    assert analytics_state(sim)["last_refresh_ms"] == first
    clock.advance(1)
    c.queues()
    assert analytics_state(sim)["last_refresh_ms"] == first + 5000


# --- the token --------------------------------------------------------------------------------


def test_it_fetches_one_token_and_reuses_it(sim):
    c = client(sim)
    for _ in range(3):
        c.agents()
        c.queues()
    assert analytics_state(sim)["tokens_issued"] == 1
    assert c.tokens_fetched == 1


def test_it_shares_one_token_between_clients_through_the_store(sim):
    store = MemoryTokenStore()
    first, second = client(sim, token_store=store), client(sim, token_store=store)
    first.queues()
    second.agents()
    assert analytics_state(sim)["tokens_issued"] == 1
    assert (first.tokens_fetched, second.tokens_fetched) == (1, 0)


def test_it_shares_one_token_between_processes_through_redis(sim, redis_client):
    """A worker process fetches and stores the token; this process uses it without fetching."""
    script = (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'wallboard.settings'); django.setup();"
        "from wallboard.polling.analytics_tokens import RedisTokenStore;"
        "from wallboard.vcc.analytics import AnalyticsClient;"
        "c = AnalyticsClient(sys.argv[1], sys.argv[2], base_url=sys.argv[3], token_store=RedisTokenStore());"
        "print(len(c.queues()), c.tokens_fetched)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, CLIENT_ID, SECRET, sim.base_url],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["5", "1"]
    here = client(sim, token_store=RedisTokenStore())
    assert len(here.agents()) == 20
    assert here.tokens_fetched == 0
    assert analytics_state(sim)["tokens_issued"] == 1
    stored = b"".join(redis_client.get(k) for k in redis_client.keys("wb:analytics:token:*"))
    assert stored and b"access_token" not in stored, "the token is stored encrypted"


def test_it_renews_the_token_once_on_a_401(sim):
    c = client(sim)
    c.queues()
    sim.analytics.expire_tokens()  # 8x8 dropped it before its time
    assert len(c.queues()) == 5
    state = analytics_state(sim)
    assert state["tokens_issued"] == 2
    assert state["responses"]["401"] == 1


def test_it_renews_a_token_that_expired_with_time(sim, clock):
    c = client(sim)
    c.queues()
    clock.advance(1800)  # the simulator's token is gone; the client's clock did not move
    assert len(c.agents()) == 20
    assert analytics_state(sim)["tokens_issued"] == 2


def test_it_renews_before_expiry_without_a_401(sim):
    now = [1_000_000.0]
    c = client(sim, clock=lambda: now[0])
    c.queues()
    now[0] += 1799 - 30  # inside the last minute: renew first
    c.queues()
    state = analytics_state(sim)
    assert state["tokens_issued"] == 2
    assert "401" not in state["responses"]


def test_it_gives_up_when_the_renewed_token_is_refused_too(sim):
    c = client(sim)
    sim.faults.add("status", code=401, target="rtstats")
    with pytest.raises(errors.UnauthorisedError) as caught:
        c.queues()
    assert caught.value.status == 401
    assert analytics_state(sim)["tokens_issued"] == 2, "renewed once, not in a loop"


def test_it_does_not_renew_on_a_403(sim):
    c = client(sim)
    sim.revoke_token("rtstats")
    with pytest.raises(errors.UnauthorisedError) as caught:
        c.queues()
    assert caught.value.status == 403
    assert analytics_state(sim)["tokens_issued"] == 1


def test_it_reports_a_wrong_secret_without_showing_it(sim):
    with pytest.raises(errors.UnauthorisedError) as caught:
        client(sim, secret="wrong-" + SECRET).agents()
    assert "client id and secret" in str(caught.value)
    assert SECRET not in str(caught.value) and CLIENT_ID not in str(caught.value)


def token_answered(vcc_server, answer: bytes) -> tuple[AnalyticsClient, MemoryTokenStore]:
    """A client whose token endpoint answers `answer` and whose queue list is empty, at t=100."""
    vcc_server.route(TOKEN_PATH, answer)
    vcc_server.route(METRICS_PATH + "/queues", b"[]")
    store = MemoryTokenStore()
    c = AnalyticsClient(CLIENT_ID, SECRET, base_url=vcc_server.url, token_store=store, read_timeout=2,
                        clock=lambda: 100.0)
    return c, store


@pytest.mark.parametrize("answer, expires_at", [
    (b'{"access_token": "abc", "expires_in": "1799"}', 1899.0),
    (b'{"access_token": "abc", "expires_in": 60}', 160.0),
])
def test_it_reads_the_token_answer_with_strings_or_numbers(vcc_server, answer, expires_at):
    c, store = token_answered(vcc_server, answer)
    assert c.queues() == []
    token = store.get(token_key(c.token_url, CLIENT_ID, SECRET))
    assert token is not None and token.access_token == "abc" and token.expires_at == expires_at
    assert vcc_server.requests[-1].headers["Authorization"] == "Bearer abc"


@pytest.mark.parametrize("answer", [
    b"<html>", b"{}", b'{"access_token": ""}', b'{"access_token": "a", "expires_in": "soon"}',
    b'{"access_token": "a", "expires_in": -1}', b"[1]",
])
def test_it_refuses_a_token_answer_it_cannot_read(vcc_server, answer):
    c, store = token_answered(vcc_server, answer)
    with pytest.raises(errors.MalformedError):
        c.queues()
    assert store.get(token_key(c.token_url, CLIENT_ID, SECRET)) is None
    assert [seen.path for seen in vcc_server.requests] == [TOKEN_PATH], "no metrics request without a token"


# --- paging -----------------------------------------------------------------------------------


def test_it_follows_the_pages_to_the_last_one(sim):
    c = client(sim, page_size=7)
    agents = c.agents()
    assert len(agents) == 20 and len({a.agent_id for a in agents}) == 20
    assert c.pages_read == 3


def test_it_stops_at_the_last_full_page(sim):
    """20 agents in pages of 10: X-Total-Pages says 2, so no third request (which would be a 400)."""
    c = client(sim, page_size=10)
    assert len(c.agents()) == 20
    assert c.pages_read == 2
    assert "400" not in analytics_state(sim)["responses"]


def test_it_reads_a_list_in_one_page_when_it_fits(sim):
    c = client(sim)
    c.agents()
    c.queues()
    assert c.pages_read == 2


def test_it_gives_up_on_pages_that_do_not_fit_the_budget(sim):
    sim.faults.add("latency", ms=400, target="rtstats")
    c = client(sim, page_size=2, connect_timeout=0.5, read_timeout=0.5)
    with pytest.raises(errors.TimedOutError) as caught:
        c.agents()
    assert "pages" in str(caught.value)


def test_the_simulator_refuses_pages_past_the_end_and_oversized_pages(sim):
    # A token as 8x8 issues it: client credentials, basic auth, on the token endpoint.
    issued = requests.post(f"{sim.base_url}/oauth/v2/token", data={"grant_type": "client_credentials"},
                           auth=(CLIENT_ID, SECRET), timeout=5)
    headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    url = f"{sim.base_url}/analytics/cc/v5/realtime-metrics/agents"
    past = requests.get(url, params={"page": 5, "size": 10}, headers=headers, timeout=5)
    assert past.status_code == 400 and "total number of pages, which is 2" in past.json()["message"]
    big = requests.get(url, params={"size": 1001}, headers=headers, timeout=5)
    assert big.status_code == 400 and "1000" in big.json()["message"]
    ok = requests.get(url, params={"size": 15, "page": 1}, headers=headers, timeout=5)
    assert ok.headers["X-Total-Pages"] == "2" and ok.headers["X-Total-Elements"] == "20" and len(ok.json()) == 5


# --- regions and X-Tenant-Info ------------------------------------------------------------------


def test_it_builds_regional_urls_with_one_global_token_url():
    assert base_urls("us") == ("https://api.8x8.com/oauth/v2/token", "https://api.8x8.com/analytics/cc/v5/realtime-metrics")
    assert base_urls("eu")[1] == "https://api.8x8.com/eu/analytics/cc/v5/realtime-metrics"
    assert base_urls("au")[1].startswith("https://api.8x8.com/au/")
    assert base_urls("ca", "https://api.8x8.com/ca/analytics/cc/v5/realtime-metrics/") == base_urls("ca")
    assert base_urls("eu")[0] == base_urls("us")[0]
    with pytest.raises(ValueError):
        base_urls("mars")
    with pytest.raises(errors.UnsafeError):
        base_urls("us", "http://api.8x8.com")


def test_it_reads_the_region_the_tenant_lives_in(sim):
    sim.analytics.region = "eu"
    assert len(client(sim, region="eu").queues()) == 5
    with pytest.raises(errors.NotFoundError) as caught:
        client(sim, region="us").queues()
    assert "region" in str(caught.value)


def test_it_sends_x_tenant_info_for_a_multi_tenant_account(sim):
    sim.analytics.tenants = ("tenant-a", "tenant-b")
    assert len(client(sim, tenant_info="tenant-b").queues()) == 5
    assert analytics_state(sim)["tenant_info_seen"] == {"tenant-b": 1}
    with pytest.raises(errors.BadRequestError) as missing:
        client(sim).queues()
    assert "X-Tenant-Info header is missing" in str(missing.value)
    with pytest.raises(errors.BadRequestError) as unknown:
        client(sim, tenant_info="tenant-z").queues()
    assert "Invalid value for X-Tenant-Info" in str(unknown.value)


@pytest.mark.parametrize("kwargs", [{"client_id": "has space"}, {"client_id": "a:b"}, {"secret": "é"}, {"tenant_info": " x"}])
def test_it_refuses_credentials_http_cannot_carry(sim, kwargs):
    with pytest.raises(ValueError):
        client(sim, **kwargs)


# --- units: pinned ---------------------------------------------------------------------------------


def entity(**metrics) -> dict:
    return {"id": "118", "name": "Billing", "metrics": [{"key": k.replace("__", "."), "value": v} for k, v in metrics.items()]}


def test_it_turns_milliseconds_into_whole_seconds_rounded_down():
    q = parse.queue_record({"id": "1", "metrics": {"interactionsLongestWaitInQueue.rt": 73999,
                                                   "interactionsAvgWaitTime.today": 29947.4,
                                                   "slaTimeThreshold.today": 20000, "avgWorkTime.today": 999}})
    assert (q.longest_wait_time, q.day_avg_wait_time, q.sla_target) == (73, 29, 20)
    assert q.extra["avg_work_time_today"] == 0
    a = parse.agent_record({"id": "agX", "metrics": {"timeOnStatus.rt": 412000, "timeOnStatusCode.rt": 1500}})
    assert a.time_in_status == 412 and a.extra["time_on_status_code"] == 1


def test_it_turns_fractions_into_whole_percent_rounded_to_nearest():
    q = parse.queue_record({"id": "1", "metrics": {"slaPercentage.today": 0.8333, "slaPercentage.int-15m": 1.0,
                                                   "slaPercentage.int-30m": 0.005, "slaPercentageTarget.today": 0.8,
                                                   "divertedPercentage.today": 0.29}})
    assert (q.day_sla_activity, q.sla_activity, q.thirty_min_sla_activity) == (83, 100, 1)
    assert q.extra["sla_percentage_target_today"] == 80
    assert q.extra["diverted_percentage_today"] == 29


def test_it_keeps_no_data_as_null_and_reads_numeric_strings():
    q = parse.queue_record({"id": 7, "metrics": {"slaPercentage.today": None, "interactionsWaitInQueue.rt": "4",
                                                 "interactionsLongestWaitInQueue.rt": "1500.5"}})
    assert (q.queue_id, q.day_sla_activity, q.queue_size, q.longest_wait_time) == ("7", None, 4, 1)


def test_it_maps_status_strings_to_the_statistics_numbers_and_keeps_the_reason_code():
    codes = {s: parse.agent_record({"id": "a", "metrics": {"status.rt": s}}).agent_status
             for s in ("Available", "Offering", "Handling", "Wrap Up", "OnBreak", "WorkingOffline", "LoggedOut", "Dancing")}
    assert codes == {"Available": 0, "Offering": 1, "Handling": 2, "Wrap Up": 3, "OnBreak": 4,
                     "WorkingOffline": 5, "LoggedOut": 9, "Dancing": None}
    a = parse.agent_record({"id": "a", "metrics": [{"key": "status.rt", "value": "OnBreak"},
                                                   {"key": "statusCode.rt", "value": "Lunch"},
                                                   {"key": "lastLogin.rt", "value": "2025-03-04T07:58:12.401Z"}]})
    assert (a.status_code_item_short_code, a.extra["status"], a.last_login_time) == ("Lunch", "OnBreak", 1741075092)


def test_it_sums_what_the_statistics_api_counted_as_one():
    q = parse.queue_record({"id": "1", "metrics": {"offering.rt": 2, "handling.rt": 3, "interactionsHandling.rt": 3,
                                                   "interactionsWrapUp.rt": None}})
    assert (q.agent_count_busy, q.number_in_progress) == (5, 3)
    a = parse.agent_record({"id": "a", "metrics": {"rejected.today": 1, "rejectTimeout.today": 2}})
    assert a.day_rejected_count == 3 and a.thirty_min_rejected_count is None


# --- contradictions ------------------------------------------------------------------------------


def test_it_accepts_a_bare_object_or_an_array():
    one = {"id": "118", "name": "Billing", "metrics": [{"key": "interactionsWaitInQueue.rt", "value": 4}]}
    for body in (json.dumps(one), json.dumps([one])):
        assert [q.queue_size for q in parse.records(body.encode(), parse.queue_record)] == [4]


def test_it_folds_eligibl_into_eligible_and_drops_in_queue():
    q = parse.queue_record({"id": "1", "metrics": [{"key": "eligibl.rt", "value": 3}]})
    assert q.extra == {"eligible": 3}
    a = parse.agent_record({"id": "a", "metrics": {"accepted.today.inQueue": 5, "averageHandlingTime.today.inQueue": 61000}})
    b = parse.agent_record({"id": "a", "metrics": {"accepted.today": 5, "averageHandlingTime.today": 61000}})
    assert (a.day_accepted_count, a.day_avg_processing_time) == (b.day_accepted_count, b.day_avg_processing_time) == (5, 61)


def test_it_skips_the_totals_element():
    body = json.dumps([{"id": "1", "name": "A", "metrics": []},
                       {"id": None, "name": "totals", "metrics": [{"key": "total.entered.today", "value": 5}]}])
    assert [q.queue_id for q in parse.records(body.encode(), parse.queue_record)] == ["1"]


@pytest.mark.parametrize("body", [b"<xml/>", b'"text"', b"[1, 2]", b'[{"id": "1", "metrics": 5}]',
                                  b'[{"id": "1", "metrics": [{"value": 1}]}]', b'[{"name": "no id"}]',
                                  b'[{"id": "1", "metrics": {"interactionsWaitInQueue.rt": "many"}}]',
                                  b'[{"id": "1", "metrics": {"interactionsWaitInQueue.rt": true}}]',
                                  b'[{"id": "1", "metrics": {"slaPercentage.today": [1]}}]'])
def test_it_refuses_malformed_entities(body):
    with pytest.raises(errors.MalformedError):
        parse.records(body, parse.queue_record)


def test_it_reads_the_simulators_contradictions_end_to_end(sim):
    c = client(sim)
    assert c.queue("202").queue_id == "202"  # a one-element array
    groups = c.groups()  # counts as strings
    assert groups and all(isinstance(g.extra["enabled"], int) for g in groups)
    assert all("eligible" in q.extra for q in c.queues())  # spelled eligibl.rt on the wire
    agents = c.agents(ALL_AGENT_METRICS)  # .inQueue keys on the wire
    assert sum(a.day_accepted_count or 0 for a in agents) > 0
    with pytest.raises(errors.NotFoundError):
        c.queue("999")


# --- errors and caps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code, error", [(500, errors.ServerError), (503, errors.BusyError), (404, errors.NotFoundError),
                                         (429, errors.BusyError)])
def test_it_raises_the_statistics_clients_typed_errors(sim, code, error):
    sim.faults.add("status", code=code, target="rtstats", count=1)
    with pytest.raises(error):
        client(sim).queues()


def test_it_refuses_a_malformed_answer(sim):
    sim.faults.add("malformed", target="rtstats", count=1)
    with pytest.raises(errors.MalformedError):
        client(sim).queues()


def test_it_refuses_a_truncated_answer(sim):
    sim.faults.add("truncated", target="rtstats", count=1)
    with pytest.raises((errors.MalformedError, errors.UnreachableError)):
        client(sim).queues()


def test_it_caps_the_answer_size(sim):
    sim.faults.add("oversized", target="rtstats", count=1, bytes=300_000)
    with pytest.raises(errors.TooLargeError):
        client(sim, max_bytes=100_000).queues()


def test_it_times_out_on_a_hanging_server(sim):
    sim.faults.add("hang", target="rtstats", count=1, max_seconds=5)
    with pytest.raises(errors.TimedOutError):
        client(sim, connect_timeout=0.3, read_timeout=0.3).queues()


def test_it_reports_an_unreachable_host():
    dead = SimulatorServer(port=0, agents=1, queues=1)
    dead.start()
    url = dead.base_url
    dead.stop()
    with pytest.raises(errors.UnreachableError):
        AnalyticsClient(CLIENT_ID, SECRET, base_url=url, token_store=MemoryTokenStore(), read_timeout=1).queues()


def test_it_keeps_one_request_in_flight_per_tenant(sim):
    sim.latency_ms = 30
    clients = [client(sim, page_size=5) for _ in range(3)]
    threads = [threading.Thread(target=c.agents) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert analytics_state(sim)["max_in_flight"] == 1
    assert all(c.pages_read == 4 for c in clients)


# --- vcc fetch --source analytics ------------------------------------------------------------------


def run(sim, *args: str, secret: str | None = SECRET) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    flags = ["--source", "analytics", "--client-id", CLIENT_ID, "--base-url", sim.base_url]
    flags += ["--client-secret", secret] if secret else []
    try:
        call_command("vcc", "fetch", *args, *flags, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def test_the_command_prints_normalised_queues_and_agents(sim):
    status, out, err = run(sim, "queues")
    assert (status, err) == (0, "")
    queues = json.loads(out)
    assert [q["queue_id"] for q in queues] == ["201", "202", "203", "204", "205"]
    assert {"queue_size", "longest_wait_time", "sla_percentage_target_today", "short_abandoned_today"} <= set(queues[0])
    status, out, err = run(sim, "agents")
    agents = json.loads(out)
    assert status == 0 and len(agents) == 20
    assert agents[0]["agent_id"].startswith("ag") and isinstance(agents[0]["time_in_status"], int)
    assert "day_login_time" in agents[0] and "time_on_status_code" in agents[0]


def test_the_command_takes_the_secret_from_the_environment(sim, monkeypatch):
    monkeypatch.setenv("VCC_CLIENT_SECRET", SECRET)
    status, out, _ = run(sim, "queue", "203", secret=None)
    assert status == 0 and json.loads(out)["queue_id"] == "203"


@pytest.mark.parametrize("args, secret, words", [
    (("queues",), "wrong", "bad credentials"),
    (("schedules",), SECRET, "statistics source"),
    (("queues",), None, "VCC_CLIENT_SECRET"),
])
def test_the_command_fails_in_one_line(sim, monkeypatch, args, secret, words):
    monkeypatch.delenv("VCC_CLIENT_SECRET", raising=False)
    status, out, err = run(sim, *args, secret=secret)
    assert status == 1 and out == ""
    assert err.count("\n") <= 1 and words in err
    assert SECRET not in err and "Traceback" not in err


@pytest.mark.parametrize("metrics", [
    [{"key": "status.rt", "value": "OnBreak"}, {"key": "statusCode.rt", "value": "LUNCH"}, {"key": "timeOnStatus.rt", "value": 412999}],
    [{"key": "status.rt", "value": None}, {"key": "statusCode.rt", "value": ""}, {"key": "timeOnStatus.rt", "value": None}],
    [{"key": "status.rt", "value": "Dancing"}],
    [{"key": "timeOnStatus.rt", "value": 999}, {"key": "status.rt", "value": "Wrap Up"}],
    [],
])
@pytest.mark.parametrize("extra", [{}, {"groupId": "101", "groupName": "Sales team"}, {"name": None}])
def test_it_reads_the_usual_agent_the_fast_way_with_the_general_ways_result(metrics, extra, monkeypatch):
    entity = {"id": "agX", "name": "Ana Ruiz", "metrics": metrics, **extra}
    general = parse.general_agent(entity).to_dict()
    calls = watch_the_general_way(monkeypatch)
    assert parse.agent_record(entity).to_dict() == general
    assert calls == [], "the poller's usual agent takes the fast way"


@pytest.mark.parametrize("entity", [
    {"id": "a", "metrics": [{"key": "timeOnStatus.rt", "value": 1.5e3}]},
    {"id": "a", "metrics": [{"key": "accepted.today", "value": 1}]},
    {"id": "a", "metrics": {"status.rt": "Available"}},
    {"id": 7, "metrics": []},
    {"id": "a", "groupId": 101, "metrics": []},
])
def test_it_reads_anything_else_the_general_way(entity, monkeypatch):
    calls = watch_the_general_way(monkeypatch)
    assert parse.agent_record(entity).agent_id == str(entity["id"])
    assert calls == [entity]


def watch_the_general_way(monkeypatch) -> list:
    """The entities agent_record hands to general_agent (which still reads them as before)."""
    calls: list = []
    general = parse.general_agent

    def watched(entity):
        calls.append(entity)
        return general(entity)

    monkeypatch.setattr(parse, "general_agent", watched)
    return calls
