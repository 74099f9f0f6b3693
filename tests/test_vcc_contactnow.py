"""The ContactNow tod_rules client over real HTTP: the simulator, and canned answers for the odd cases.

The token travels in the query string, so every test that can fail also checks that it is in
no exception text, no log line (urllib3's DEBUG request lines included) and no command output.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from vcc_server import vcc_server_fixture  # noqa: F401 - the fixture

from tests.tod_helpers import contactnow_sim
from wallboard.vcc.contactnow import ContactNowClient, validate_contactnow_url
from wallboard.vcc.errors import (
    BadRequestError,
    MalformedError,
    ServerError,
    TimedOutError,
    TooLargeError,
    UnauthorisedError,
    UnsafeError,
    VccError,
)
from wallboard.vcc.parse.tod import TodRule, parse_answer

TOKEN = "cn-s3cret-TOKEN-42"
HOLIDAY = TodRule("2164", 9, 2026, 12, 25, ("fri",), (("00:00", "24:00"),), "hangup")


@pytest.fixture
def sim():
    with contactnow_sim(TOKEN) as server:
        yield server


@pytest.fixture(autouse=True)
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    yield caplog
    # caplog.text would only hold the teardown's lines.
    text = "\n".join(r.getMessage() for phase in ("setup", "call") for r in caplog.get_records(phase))
    assert TOKEN not in text
    assert "token=" not in text.replace("token=[redacted]", "")


def client(sim, fmt="json", token=TOKEN, **kwargs):
    return ContactNowClient(sim.base_url, token, fmt=fmt, **kwargs)


def failure(call) -> VccError:
    with pytest.raises(VccError) as info:
        call()
    exc = info.value
    assert TOKEN not in str(exc) and TOKEN not in repr(exc) and TOKEN not in (exc.url or "")
    return exc


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_reads_policies_and_rules_in_both_formats(sim, fmt):
    with client(sim, fmt) as cn:
        policies = {p.uid: p for p in cn.policies()}
        rules = cn.rules("2164")
        everything = cn.rules()
    assert policies["2164"].default == "voicemail"
    assert policies["2178"].description == "Außer Haus"  # ISO-8859-1 on the XML wire
    assert [r.to_dict() for r in rules][0] == {
        "policy": 2164, "rule": 1, "year": 0, "month": 0, "date": 0,
        "days": ["mon", "tue", "wed", "thu", "fri"], "ranges": [["08:00", "18:00"]], "action": "queue",
    }
    assert rules[1].action == "jump:301"
    assert {r.policy for r in everything} == {"2164", "2178"}
    assert ("tod_rules.read", "GET") in sim.contactnow.requests


def test_it_reads_the_documents_examples_with_their_quirks():
    xml = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<result> <success>1</success> <total>1</total> <list> <tod_rule>
 <policy>2164</policy> <rule>1</rule> <year>0</year> <month>0</month> <date>0</date>
 <days>mon,tue,wed,thu,fri</days> <range>14:0-16:0</range> <action>queue</action>
</tod_rule> </list> </result>"""
    assert parse_answer(xml).rules[0].ranges == (("14:00", "16:00"),)
    created = parse_answer(b"<result>\n<success>1</success>\n<account_id>10278</account_id>\n<total>1</total>\n<bad>0</bad>\n<key>2178</key>\n")
    assert (created.success, created.key, created.total) == (True, "2178", 1)
    policies = parse_answer(b'{"success":true,"total":2,"list":[{"uid":"2164","description":"MyTOD","default":"queue"},'
                            b'{"uid":"2178","description":"OutOfHours","default":"hangup"}]}')
    assert [p.to_dict() for p in policies.policies][1] == {"uid": 2178, "description": "OutOfHours", "default": "hangup"}
    latin = '{"success":true,"total":1,"list":[{"uid":"1","description":"Außer Haus","default":"queue"}]}'.encode("iso-8859-1")
    assert parse_answer(latin).policies[0].description == "Außer Haus"


def test_it_tolerates_a_rule_read_answered_with_policies(sim):
    sim.contactnow.quirk_policies_on_read = True
    answer = client(sim).read("2164")
    assert answer.rules == () and [p.uid for p in answer.policies] == ["2164"]


@pytest.mark.parametrize("body", [
    b'{"success":true,"total":3,"list":[{"policy":"1","rule":"1","days":"mon","range":"9:0-17:0","action":"queue"}]}',
    b'{"success":true,"list":[{"policy":"1","rule":"1","days":"someday","range":"9:0-17:0","action":"queue"}]}',
    b'{"success":true,"list":[{"policy":"1","rule":"1","days":"mon","range":"9:00-25:00","action":"queue"}]}',
    b'{"success":true,"list":[{"policy":"1","rule":"x","days":"mon","range":"9:00-10:00","action":"queue"}]}',
    b'{"total":1}',
    b'{"success":"maybe"}',
    b"<result><success>1</success><list><tod_rule><rule>1</rule>",
    b"<html>login</html>",
    b"",
])
def test_it_refuses_malformed_answers(vcc_server, body):
    vcc_server.route("/database.php", body)
    exc = failure(lambda: ContactNowClient(vcc_server.url, TOKEN).rules("1"))
    assert isinstance(exc, MalformedError)


# --- writing -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_creates_and_updates_a_rule(sim, fmt):
    with client(sim, fmt) as cn:
        created = cn.create(HOLIDAY)
        assert created.success and created.key
        cn.update(TodRule("2164", 9, 2026, 12, 25, ("fri",), (("00:00", "12:00"),), "voicemail"))
        rules = [r for r in cn.rules("2164") if r.rule == 9]
    assert [(r.ranges, r.action) for r in rules] == [((("00:00", "12:00"),), "voicemail")]
    assert ("tod_rules.create", "POST") in sim.contactnow.requests


def test_it_shows_that_create_does_not_deduplicate(sim):
    with client(sim) as cn:
        cn.create(HOLIDAY)
        cn.create(HOLIDAY)
        assert [r for r in cn.rules("2164") if r.rule == 9] == [HOLIDAY, HOLIDAY]


def test_it_turns_success_false_under_200_into_a_typed_error(sim):
    exc = failure(lambda: client(sim).update(TodRule("2164", 77, days=("mon",), ranges=(("09:00", "10:00"),))))
    assert isinstance(exc, BadRequestError) and "No such rule" in str(exc)
    exc = failure(lambda: client(sim, "xml").create(TodRule("999", 1, days=("mon",), ranges=(("09:00", "10:00"),))))
    assert "Unknown policy 999" in str(exc)


# --- the token -----------------------------------------------------------------------------


def test_it_logs_request_lines_with_the_token_redacted(sim, caplog):
    client(sim).policies()
    lines = [r.getMessage() for r in caplog.records if "/database.php" in r.getMessage()]
    assert lines and all("token=[redacted]" in line for line in lines)  # urllib3's and the simulator's


def test_it_reports_a_refused_token_without_repeating_it(sim):
    exc = failure(lambda: client(sim, token="not-" + TOKEN).rules())
    assert isinstance(exc, UnauthorisedError) and "refused the token" in str(exc)
    assert "not-" + TOKEN not in str(exc)


def test_it_reports_an_expired_token(sim):
    sim.contactnow.issue_token(TOKEN, ttl=-1)
    exc = failure(lambda: client(sim, "xml").policies())
    assert isinstance(exc, UnauthorisedError) and "expired" in str(exc)


def test_it_reports_a_token_bound_to_another_address(sim):
    sim.contactnow.issue_token(TOKEN, ttl=3600, address="203.0.113.9")
    exc = failure(lambda: client(sim).policies())
    assert isinstance(exc, UnauthorisedError) and "another internet address" in str(exc)


def test_it_keeps_the_token_out_of_a_redirect_message(vcc_server):
    vcc_server.route("/database.php", b"", status=302, headers={"Location": f"https://login.example/?token={TOKEN}"})
    exc = failure(lambda: ContactNowClient(vcc_server.url, TOKEN).policies())
    assert isinstance(exc, BadRequestError) and "[redacted]" in str(exc)


# --- transport failures ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "kind"), [(500, ServerError), (401, UnauthorisedError), (400, BadRequestError)])
def test_it_types_http_failures(sim, status, kind):
    sim.contactnow.fail_status = status
    assert isinstance(failure(lambda: client(sim).policies()), kind)


def test_it_times_out(vcc_server):
    vcc_server.route("/database.php", hang=True)
    exc = failure(lambda: ContactNowClient(vcc_server.url, TOKEN, read_timeout=0.3).policies())
    assert isinstance(exc, TimedOutError)


def test_it_caps_the_answer_size(sim):
    sim.contactnow.raw_body = b'{"success":true,"list":[' + b" " * 5000 + b"]}"
    assert isinstance(failure(lambda: client(sim, max_bytes=1000).policies()), TooLargeError)


def test_it_refuses_unsafe_base_urls():
    with pytest.raises(UnsafeError):
        validate_contactnow_url("http://api-106.dxi.eu/database.php")
    with pytest.raises(UnsafeError):
        validate_contactnow_url("https://10.0.0.1")
    assert validate_contactnow_url("https://API-106.dxi.eu/database.php") == "https://api-106.dxi.eu"


# --- the command ---------------------------------------------------------------------------


def vcc_tod(sim, *args, token=TOKEN):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("vcc", "tod", *args, "--base-url", sim.base_url, "--token", token, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    assert TOKEN not in out.getvalue() + err.getvalue()
    return status, out.getvalue(), err.getvalue()


def test_it_prints_policies_rules_and_status(sim):
    status, out, _ = vcc_tod(sim, "policies", "--format", "xml")
    assert status == 0 and json.loads(out)[0] == {"uid": 2164, "description": "MyTOD", "default": "voicemail"}
    status, out, _ = vcc_tod(sim, "rules", "--policy", "2164")
    assert json.loads(out)[1]["ranges"] == [["09:00", "12:30"]]
    status, out, _ = vcc_tod(sim, "status", "2164", "--time-zone", "Europe/London", "--at", "2026-12-05T10:00:00+00:00")
    assert json.loads(out) == {"state": "redirect", "action": "jump:301", "rule": 2, "next_change": "2026-12-05T12:30:00+00:00"}
    status, out, _ = vcc_tod(sim, "status", "2164", "--time-zone", "Europe/London", "--at", "2026-12-06T10:00:00+00:00")
    assert json.loads(out) == {"state": "closed", "action": "voicemail", "rule": None, "next_change": "2026-12-07T08:00:00+00:00"}


def test_it_creates_and_updates_from_the_command_line(sim):
    args = ["--policy", "2164", "--rule", "9", "--days", "fri", "--range", "0:0-24:00", "--action", "hangup",
            "--year", "2026", "--month", "12", "--date", "25"]
    status, out, _ = vcc_tod(sim, "create", *args)
    assert status == 0 and json.loads(out)["success"] is True and json.loads(out)["key"]
    status, out, _ = vcc_tod(sim, "update", *args[:-6], "--format", "xml")
    assert status == 0 and json.loads(out) == {"success": True, "key": None}


@pytest.mark.parametrize(("args", "words"), [
    (["create", "--policy", "2164", "--rule", "9", "--days", "someday", "--range", "9:00-10:00", "--action", "queue"], "not a day name"),
    (["create", "--policy", "2164", "--rule", "9", "--days", "mon", "--range", "9:00-10:00", "--action", "dance"], "the action must be"),
    (["create", "--policy", "2164", "--rule", "9", "--days", "mon", "--range", "9:00-10:00", "--action", "queue",
      "--year", "2026", "--month", "2", "--date", "30"], "is not a date"),
    (["update", "--policy", "2164", "--days", "mon", "--range", "9:00-10:00", "--action", "queue"], "needs --rule"),
    (["status", "2164", "--time-zone", "Mars/Olympus"], "not a time zone"),
    (["status", "9999", "--time-zone", "UTC"], "no policy"),
])
def test_it_fails_in_one_line(sim, args, words):
    before = len(sim.contactnow.rules)
    status, out, err = vcc_tod(sim, *args)
    assert status == 1 and out == "" and words in err and err.count("\n") <= 1
    assert len(sim.contactnow.rules) == before


def test_it_fails_in_one_line_on_a_bad_token(sim):
    status, out, err = vcc_tod(sim, "policies", token="wrong-" + TOKEN)
    assert status == 1 and "refused the token" in err and "wrong-" not in err
