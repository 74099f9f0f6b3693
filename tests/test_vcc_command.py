"""`manage.py vcc` end to end: JSON on stdout, or exit status 1 and one line on stderr."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from test_vcc_parse import BOMB, SCHEDULE_122
from vcc_server import fixture_bytes, vcc_server_fixture  # noqa: F401 - the fixture

STATS = "/api/rtstats/stats"
PROV = "/api/provisioning"
TOKEN = "cli-s3cret"
ROOT = Path(__file__).resolve().parent.parent


def run(server, *args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    """call_command in-process; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    flags = ["--base-url", server.url, "--tenant", "acme"] + (["--token", token] if token else [])
    try:
        call_command("vcc", *args, *flags, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def assert_one_line_failure(status: int, out: str, err: str, words: str) -> None:
    assert status == 1
    assert out == ""
    assert err.count("\n") <= 1 and err.strip()
    assert words in err
    assert "Traceback" not in err and TOKEN not in err


# --- success -----------------------------------------------------------------------------------


def test_it_prints_agents_as_json(vcc_server):
    vcc_server.route(f"{STATS}/agents", fixture_bytes("vendor-agents.xml"))

    status, out, err = run(vcc_server, "fetch", "agents", "--format", "xml")

    assert (status, err) == (0, "")
    agents = json.loads(out)
    assert [a["agent_id"] for a in agents] == ["ag1", "clee"]
    assert agents[0]["last_login_time"] is None
    assert agents[0]["day_avg_processing_time"] == 0


def test_it_prints_one_queue(vcc_server):
    vcc_server.route(
        f"{STATS}/queue/115.json", b'{"queue": {"queue-id": 115, "queue-size": 4, "agent-count-onBreak": 2}}'
    )

    status, out, _ = run(vcc_server, "fetch", "queue", "115")

    assert status == 0
    queue = json.loads(out)
    assert (queue["queue_id"], queue["queue_size"], queue["agent_count_on_break"]) == ("115", 4, 2)


def test_it_prints_a_schedule_found_by_a_name_with_spaces(vcc_server):
    vcc_server.route(f"{PROV}/schedulesbyname/Support%20hours.json", fixture_bytes("schedule-122.json"))

    status, out, _ = run(vcc_server, "fetch", "schedule-by-name", "Support hours")

    assert status == 0
    assert json.loads(out) == SCHEDULE_122


def test_it_prints_schedule_status_at_a_given_time(vcc_server):
    vcc_server.route(f"{PROV}/schedules/122/status.json", b'{"schedule-status": {"status": "CHOICE #2"}}')

    status, out, _ = run(vcc_server, "fetch", "schedule-status", "122", "--utctime", "1360821949898", "--offset", "600")

    assert status == 0
    assert json.loads(out) == {"status": 2, "label": "CHOICE #2"}
    assert vcc_server.requests[0].query == "utctime=1360821949898&offset=600"


def test_it_takes_the_token_from_the_environment(vcc_server, monkeypatch):
    monkeypatch.setenv("VCC_TOKEN", "from-env")
    vcc_server.route(f"{STATS}/queues.json", b'{"queue": []}')

    status, out, _ = run(vcc_server, "fetch", "queues", token=None)

    assert (status, json.loads(out)) == (0, [])
    assert vcc_server.requests[0].auth == ("acme", "from-env")


def test_it_prints_the_remote_status_with_next_change(vcc_server):
    vcc_server.route(
        f"{PROV}/schedules/5/nextstatus.json",
        b'{"schedule-next-status": {"status": 0, "next-status": -1, "next-change-utctime": 1360825200000}}',
    )

    status, out, _ = run(vcc_server, "status", "5")

    assert status == 0
    assert json.loads(out) == {"status": 0, "label": "OPEN", "next_change": "2013-02-14T07:00:00+00:00"}


def test_it_computes_the_status_locally(vcc_server):
    pytest.importorskip("wallboard.schedules.engine")
    vcc_server.route(f"{PROV}/schedules/122.json", fixture_bytes("schedule-122.json"))
    monday_noon_la = "1799092800000"  # 2027-01-04 12:00 America/Los_Angeles, a Monday (day 1)

    status, out, err = run(vcc_server, "status", "122", "--local", "--utctime", monday_noon_la)

    assert (status, err) == (0, "")
    # Open 08:00-17:00 on Mondays: next change at 17:00 Los Angeles time.
    assert json.loads(out) == {"status": 0, "label": "OPEN", "next_change": "2027-01-05T01:00:00+00:00"}
    assert [r.path for r in vcc_server.requests] == [f"{PROV}/schedules/122.json"]  # not /status


# --- failures: one line, exit status 1 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "words"),
    [(403, "bad credentials"), (401, "bad credentials"), (404, "not found"), (503, "busy"), (500, "server error")],
)
def test_it_fails_in_one_line_for_http_errors(vcc_server, status, words):
    vcc_server.route(f"{STATS}/agent/ghost.json", b"no", status=status)

    assert_one_line_failure(*run(vcc_server, "fetch", "agent", "ghost"), words)


def test_it_fails_in_one_line_on_timeout(vcc_server, settings):
    settings.VCC_READ_TIMEOUT = 0.3
    vcc_server.route(f"{STATS}/agents.json", hang=True)

    assert_one_line_failure(*run(vcc_server, "fetch", "agents"), "timed out")


def test_it_fails_in_one_line_on_a_malformed_answer(vcc_server):
    vcc_server.route(f"{STATS}/queues.json", b'{"queue": [{"queue-id": 1}')

    assert_one_line_failure(*run(vcc_server, "fetch", "queues"), "malformed answer")


def test_it_fails_in_one_line_on_an_unsafe_answer(vcc_server):
    vcc_server.route(f"{STATS}/agents", BOMB)

    assert_one_line_failure(*run(vcc_server, "fetch", "agents", "--format", "xml"), "refused as unsafe")


def test_it_refuses_plain_http_to_a_remote_host(vcc_server):
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as caught:
        call_command(
            "vcc",
            "fetch",
            "agents",
            "--base-url",
            "http://vcc-na4.8x8.com",
            "--tenant",
            "a",
            "--token",
            TOKEN,
            stdout=out,
            stderr=err,
        )

    assert_one_line_failure(caught.value.code, out.getvalue(), err.getvalue(), "refused as unsafe")


def test_it_fails_in_one_line_without_a_token(vcc_server, monkeypatch):
    monkeypatch.delenv("VCC_TOKEN", raising=False)

    assert_one_line_failure(*run(vcc_server, "fetch", "agents", token=None), "VCC_TOKEN")


def test_it_fails_in_one_line_without_an_id(vcc_server):
    assert_one_line_failure(*run(vcc_server, "fetch", "schedule"), "needs an id")


# --- as a real process -------------------------------------------------------------------------


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "manage.py", "vcc", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_works_as_a_process(vcc_server):
    vcc_server.route(f"{STATS}/queues.json", b'{"queue": [{"queue-id": 115, "queue-size": 4, "sla-activity": -1}]}')

    done = manage("fetch", "queues", "--base-url", vcc_server.url, "--tenant", "acme", VCC_TOKEN=TOKEN)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["sla_activity"] is None


def test_it_fails_as_a_process_with_one_line(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b"denied", status=403)

    done = manage("fetch", "agents", "--base-url", vcc_server.url, "--tenant", "acme", "--token", TOKEN)

    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "bad credentials" in done.stderr and "Traceback" not in done.stderr


def test_it_documents_vcc_token_in_the_help():
    done = manage("fetch", "--help")

    assert done.returncode == 0
    assert "VCC_TOKEN" in done.stdout
