"""Wire bodies -> normalised records: the vendor samples, the quirks in NOTES.md, unsafe XML."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from vcc_server import fixture_bytes

from wallboard.vcc.errors import MalformedError, UnsafeError
from wallboard.vcc.parse import (
    parse_agents,
    parse_queues,
    parse_schedule,
    parse_schedule_next_status,
    parse_schedule_status,
    parse_schedules,
)
from wallboard.vcc.records import AGENT_FIELDS, QUEUE_FIELDS, parse_status

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<agents><agent><agent-id>a</agent-id><agent-name>&lol9;</agent-name></agent></agents>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE agents [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<agents><agent><agent-id>a</agent-id><agent-name>&xxe;</agent-name></agent></agents>
"""

# Unsafe and broken at once: the DTD must win over the lenient path.
BOMB_MISMATCHED = BOMB.replace(b"</agent-name>", b"</agent-nom>")


def agent_xml(fields: str) -> bytes:
    return f"<agents><agent><agent-id>a1</agent-id>{fields}</agent></agents>".encode()


def queue_xml(fields: str) -> bytes:
    return f"<queues><queue><queue-id>7</queue-id>{fields}</queue></queues>".encode()


# --- the vendor's own samples ------------------------------------------------------------------


def test_it_parses_the_vendor_agents_sample():
    agents = parse_agents(fixture_bytes("vendor-agents.xml"))

    # The third <agent> of the sample is a "..." placeholder, not an agent.
    assert [a.agent_id for a in agents] == ["ag1", "clee"]
    john, cecilia = agents
    assert john.agent_name == "John Doe"
    assert john.agent_status == 1
    assert john.agent_media_id == 1
    assert john.group_id == "101"
    # <day-rejected-count>1</day-offered-count>: the opening tag names the field.
    assert john.day_rejected_count == 1
    # <day-avg-processing-time>0</day-avg-handling-time> and the alias in Cecilia's record.
    assert john.day_avg_processing_time == 0
    assert cecilia.day_avg_processing_time == 0
    assert "day-avg-handling-time" not in cecilia.extra
    # -1 "no data yet" sentinels and empty elements.
    assert john.last_login_time is None
    assert john.time_in_status is None
    assert john.phone_line1_status_time is None
    assert john.status_code_item_id is None
    assert john.status_code_item_short_code is None
    assert cecilia.last_login_time == 1323826680
    assert cecilia.phone_line1_status == 5
    assert cecilia.phone_line1_status_time == 102
    assert john.extra == {} and cecilia.extra == {}


def test_it_gives_every_documented_agent_field():
    john = parse_agents(fixture_bytes("vendor-agents.xml"))[0].to_dict()

    assert list(john) == list(AGENT_FIELDS)
    assert len(AGENT_FIELDS) == 33
    assert john["thirty_min_wrap_up_time"] == 0


def test_it_parses_the_vendor_queues_sample():
    queues = parse_queues(fixture_bytes("vendor-queues.xml"))

    assert [q.queue_id for q in queues] == ["115", "111"]
    outbound, chat = queues
    assert outbound.queue_name == "outbound queue"
    assert outbound.media_type == "phone"
    # <day-accepted>10</all-day-accepted> ...
    assert (outbound.day_accepted, outbound.day_avg_duration, outbound.day_avg_wait_time, outbound.day_queued) == (
        10,
        134,
        566,
        30,
    )
    # ... and the all-day-* names of the second queue fold into day_*.
    assert (chat.day_accepted, chat.day_avg_duration, chat.day_queued) == (0, 0, 0)
    assert chat.extra == {}
    # camelCase parts in snake_case.
    assert (outbound.agent_count_logged_out, outbound.agent_count_on_break, outbound.agent_count_post_process) == (
        2,
        2,
        1,
    )
    assert (chat.agent_count_wait_transact, chat.agent_count_work_offline) == (2, 2)
    # Sentinels.
    assert outbound.day_sla_activity is None and chat.day_sla_activity is None
    assert outbound.thirty_min_sla_activity is None
    assert outbound.thirty_min_longest_wait_time == 340
    assert chat.thirty_min_longest_wait_time is None
    assert outbound.sla_activity == 0
    assert outbound.queue_size == 4 and outbound.longest_wait_time == 1113


def test_it_gives_every_documented_queue_field():
    queue = parse_queues(fixture_bytes("vendor-queues.xml"))[0].to_dict()

    assert list(queue) == list(QUEUE_FIELDS)
    assert queue["queue_type"] is None  # undocumented, absent here


def test_it_refuses_the_vendor_schedules_sample_as_cut_off():
    # The document elides content ("... <schedule> ...") so the sample never closes its first
    # schedule; a cut-off answer must never become a partial list.
    with pytest.raises(MalformedError):
        parse_schedules(fixture_bytes("vendor-schedules.xml"))


def test_it_parses_the_vendor_schedules_sample_completed():
    first, second = parse_schedules(fixture_bytes("vendor-schedules-completed.xml"))

    assert first.to_dict() == {
        "id": "122",
        "name": "myschedule",
        "time_zone": "PST8DT",  # kept as it came: the engine decides it is no real zone
        "week_days": [{"day": 0, "properties": [{"status": -1, "start_time": "08:00", "end_time": "09:00"}]}],
        "exceptions": [],
    }
    assert (second.id, second.name, second.time_zone, second.week_days) == ("123", "Default Schedule", None, [])


# --- JSON shapes -------------------------------------------------------------------------------


def test_it_parses_agents_json():
    body = json.dumps(
        {
            "agent": [
                {"agent-id": "ag1", "agent-status": 0, "group-id": 101, "last-login-time": -1},
                {"agent-id": "b", "agent-status": 9},
            ]
        }
    )

    agents = parse_agents(body.encode())

    assert [(a.agent_id, a.agent_status) for a in agents] == [("ag1", 0), ("b", 9)]
    assert agents[0].group_id == "101"
    assert agents[0].last_login_time is None


def test_it_reads_a_lone_json_object_as_a_list_of_one():
    assert [a.agent_id for a in parse_agents(b'{"agent": {"agent-id": "jdoe"}}')] == ["jdoe"]
    assert [q.queue_id for q in parse_queues(b'{"queue": {"queue-id": 105, "queue-size": 3}}')] == ["105"]
    assert [s.id for s in parse_schedules(b'{"schedules": {"schedule": {"id": 1, "name": "x"}}}')] == ["1"]


def test_it_accepts_an_agent_without_the_list_wrapper():
    assert parse_agents(b"<agent><agent-id>x</agent-id></agent>")[0].agent_id == "x"
    assert parse_queues(b"<queue><queue-id>5</queue-id></queue>")[0].queue_id == "5"


def test_it_reads_empty_lists():
    assert parse_agents(b'{"agent": []}') == []
    assert parse_agents(b"<agents/>") == []
    assert parse_queues(b"<queues>\n</queues>") == []
    assert parse_schedules(b'{"schedules": {"schedule": []}}') == []
    assert parse_schedules(b"<schedules/>") == []


def test_it_folds_all_day_names_in_json():
    queue = parse_queues(
        b'{"queue": [{"queue-id": 1, "all-day-accepted": 5, "all-day-sla-activity": -1, "agent-count-onBreak": 2}]}'
    )[0]

    assert queue.day_accepted == 5
    assert queue.day_sla_activity is None
    assert queue.agent_count_on_break == 2
    assert queue.extra == {}


def test_it_prefers_the_documented_name_to_an_alias():
    before = parse_queues(queue_xml("<day-accepted>1</day-accepted><all-day-accepted>2</all-day-accepted>"))[0]
    after = parse_queues(queue_xml("<all-day-accepted>2</all-day-accepted><day-accepted>1</day-accepted>"))[0]

    assert before.day_accepted == after.day_accepted == 1


def test_it_keeps_unknown_fields_under_their_names():
    agent = parse_agents(agent_xml("<new-metric>42</new-metric><empty-thing/>"))[0]
    queue = parse_queues(b'{"queue": [{"queue-id": 1, "queue-type": "inbound", "brandNew": 3.5}]}')[0]

    # Numbers in unknown fields stay as they came: a string in XML.
    assert agent.extra == {"new-metric": "42", "empty-thing": None}
    assert agent.to_dict()["new-metric"] == "42"
    assert queue.queue_type == "inbound"
    assert queue.extra == {"brandNew": 3.5}
    assert queue.to_dict()["brandNew"] == 3.5


def test_it_turns_empty_elements_into_none():
    agent = parse_agents(agent_xml("<agent-status/><agent-name> </agent-name><group-id></group-id>"))[0]

    assert (agent.agent_status, agent.agent_name, agent.group_id) == (None, None, None)


def test_it_keeps_fractional_percentages_and_integral_floats_as_ints():
    queue = parse_queues(
        queue_xml("<sla-activity>97.5</sla-activity><queue-size>3.0</queue-size><sla-target> 80 </sla-target>")
    )[0]

    assert queue.sla_activity == 97.5
    assert queue.queue_size == 3 and isinstance(queue.queue_size, int)
    assert queue.sla_target == 80


@pytest.mark.parametrize(
    "body",
    [
        queue_xml("<queue-size>123456789012345678901234</queue-size>"),
        b'{"queue": [{"queue-id": 7, "queue-size": "123456789012345678901234"}]}',
        b'{"queue": [{"queue-id": 7, "queue-size": 123456789012345678901234}]}',
    ],
)
def test_it_reads_integers_exactly_however_they_are_written(body):
    assert parse_queues(body)[0].queue_size == 123456789012345678901234


def test_it_refuses_a_number_field_that_is_not_a_number():
    with pytest.raises(MalformedError, match="queue-size"):
        parse_queues(queue_xml("<queue-size>lots</queue-size>"))
    with pytest.raises(MalformedError, match="queue-size"):
        parse_queues(b'{"queue": {"queue-id": 1, "queue-size": true}}')


def test_it_refuses_a_record_without_its_id():
    with pytest.raises(MalformedError, match="agent-id"):
        parse_agents(b"<agents><agent><agent-name>x</agent-name></agent></agents>")


# --- schedules ---------------------------------------------------------------------------------

SCHEDULE_122 = {
    "id": "122",
    "name": "Support hours",
    "time_zone": "America/Los_Angeles",
    "week_days": [
        {
            "day": 1,
            "properties": [
                {"status": 0, "start_time": "08:00", "end_time": "17:00"},
                {"status": 1, "start_time": "17:00", "end_time": "18:00"},
            ],
        }
    ],
    "exceptions": [
        {
            "name": "Christmas Day",
            "date": "2026-12-25",
            "properties": [{"status": -1, "start_time": "00:00", "end_time": "24:00"}],
        }
    ],
}


@pytest.mark.parametrize("name", ["schedule-122.xml", "schedule-122.json"])
def test_it_parses_a_schedule(name):
    assert parse_schedule(fixture_bytes(name)).to_dict() == SCHEDULE_122


def test_it_reads_schedule_lists_in_both_wrappings():
    body = {"schedules": {"schedule": [{"id": 1, "name": "a"}, {"id": 2, "name": "b b"}]}}

    assert [s.name for s in parse_schedules(json.dumps(body).encode())] == ["a", "b b"]
    assert [s.id for s in parse_schedules(b'{"schedule": [{"id": 1}]}')] == ["1"]


def test_it_reads_exception_dates_and_empty_exceptions():
    body = b"""<schedule><id>9</id><name>x</name><time-zone></time-zone><week-days/>
      <exceptions>
        <exception><name>New year</name><date>01/01/2027</date></exception>
        <exception><name>Half day</name><date>2027-1-2</date>
          <properties><status>CLOSED</status><start-time>12:00</start-time><end-time>24:00</end-time></properties>
        </exception>
      </exceptions></schedule>"""

    schedule = parse_schedule(body)

    assert schedule.time_zone is None
    new_year, half_day = schedule.exceptions
    assert (new_year.date, new_year.properties) == ("2027-01-01", [])
    assert half_day.date == "2027-01-02"
    assert half_day.properties[0].status == -1


def test_it_keeps_several_week_day_elements_for_the_same_day():
    body = b"""<schedule><id>9</id><week-days>
      <week-day><day>2</day><properties><status>0</status><start-time>9:0</start-time><end-time>12:00</end-time></properties></week-day>
      <week-day><day>2</day><properties><status>0</status><start-time>13:00</start-time><end-time>17:00</end-time></properties></week-day>
      </week-days></schedule>"""

    days = parse_schedule(body).week_days

    assert [(d.day, d.properties[0].start_time) for d in days] == [(2, "09:00"), (2, "13:00")]


def test_it_reads_english_day_names_as_day_numbers():
    body = b'{"schedule": {"id": 1, "week-days": {"week-day": [{"day": "Sunday"}, {"day": "MON"}, {"day": "6"}]}}}'

    assert [d.day for d in parse_schedule(body).week_days] == [0, 1, 6]


def test_it_refuses_a_bad_exception_date():
    with pytest.raises(MalformedError, match="date"):
        parse_schedule(b'{"schedule": {"id": 1, "exceptions": {"exception": {"date": "Christmas"}}}}')


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        (0, 0),
        (-1, -1),
        ("0", 0),
        ("-1", -1),
        ("OPEN", 0),
        ("closed", -1),
        ("CHOICE #3", 3),
        ("Choice #3", 3),
        ("CHOICE3", 3),
        ("3", 3),
        (6, 6),
    ],
)
def test_it_reads_every_status_spelling(spelling, code):
    assert parse_status(spelling) == code


@pytest.mark.parametrize("spelling", ["7", "CHOICE #7", "maybe", "", None, True, 2.5, "0_0", "1_0"])
def test_it_refuses_what_is_not_a_status(spelling):
    with pytest.raises(ValueError):
        parse_status(spelling)


def test_it_refuses_a_status_answer_in_python_digit_grouping():
    # int() reads "0_0" as 0; no 8x8 document or client spells a status that way.
    with pytest.raises(MalformedError, match="0_0"):
        parse_schedule_status(b'{"schedule-status": {"status": "0_0"}}')


def test_it_parses_status_answers():
    assert parse_schedule_status(b"<schedule-status><status>0</status></schedule-status>").to_dict() == {
        "status": 0,
        "label": "OPEN",
    }
    assert parse_schedule_status(b'{"schedule-status": {"status": "CHOICE #2"}}').to_dict() == {
        "status": 2,
        "label": "CHOICE #2",
    }
    assert parse_schedule_status(b'{"schedule-status": {"status": -1}}').label == "CLOSED"


def test_it_parses_next_status_answers():
    xml = b"<schedule-next-status><status>0</status><next-status>-1</next-status><next-change-utctime>1360825200000</next-change-utctime></schedule-next-status>"
    expected = {
        "status": 0,
        "label": "OPEN",
        "next_status": -1,
        "next_label": "CLOSED",
        "next_change": "2013-02-14T07:00:00+00:00",
    }

    assert parse_schedule_next_status(xml).to_dict() == expected
    answer = parse_schedule_next_status(
        b'{"schedule-next-status": {"status": 0, "next-status": -1, "next-change-utctime": 1360825200000}}'
    )
    assert answer.to_dict() == expected
    assert answer.next_change == datetime(2013, 2, 14, 7, tzinfo=UTC)


def test_it_reads_a_next_status_without_a_next_change():
    answer = parse_schedule_next_status(b'{"schedule-next-status": {"status": 0}}')

    assert (answer.next_status, answer.next_change) == (None, None)


# --- unsafe and broken bodies ------------------------------------------------------------------


@pytest.mark.parametrize("body", [BOMB, XXE, BOMB_MISMATCHED], ids=["billion-laughs", "xxe", "bomb-with-mismatch"])
def test_it_refuses_xml_with_entities(body):
    with pytest.raises(UnsafeError):
        parse_agents(body)


def test_it_refuses_entities_in_encodings_a_byte_search_cannot_read():
    utf16 = XXE.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")

    with pytest.raises(UnsafeError):
        parse_agents(utf16)


def test_it_refuses_entities_in_utf16_with_mismatched_tags():
    utf16 = BOMB_MISMATCHED.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")

    with pytest.raises(UnsafeError):
        parse_agents(utf16)


def test_it_parses_utf16_xml_with_mismatched_tags():
    body = '<?xml version="1.0" encoding="UTF-16"?><agents><agent><agent-id>a</agent-nom></agent></agents>'

    assert parse_agents(body.encode("utf-16"))[0].agent_id == "a"


def test_it_parses_utf16_xml():
    body = '<?xml version="1.0" encoding="UTF-16"?><agents><agent><agent-id>\u00e9</agent-id></agent></agents>'

    assert parse_agents(body.encode("utf-16"))[0].agent_id == "\u00e9"


def test_it_refuses_any_doctype():
    with pytest.raises(UnsafeError):
        parse_queues(b'<!DOCTYPE queues SYSTEM "http://example.com/q.dtd"><queues/>')


def test_it_refuses_an_undefined_entity():
    with pytest.raises(MalformedError):
        parse_agents(agent_xml("<agent-name>&xxe;</agent-name>"))


@pytest.mark.parametrize(
    "body",
    [
        b"<agents><agent><agent-id>a</agent-id></agent><agent><agent-id>b</agent-id>",  # no closing root
        b"<agents><agent><agent-id>a</agent-id><agent-name>x</agent-nam",  # cut inside a tag
        b"<agents><agent><agent-id>a</agent-id><day-accepted-count>1</all-day-accepted-count></agents>",  # record not closed
        b"<agents><agent><agent-id>a</agent-id><agent-name>x</agent></agents>",  # leaf closed by its parent's name
        b"<agents><agent><agent-id>a</x></agent></agents><agents/>",  # two roots
    ],
)
def test_it_refuses_cut_off_xml_even_with_mismatched_tags(body):
    with pytest.raises(MalformedError):
        parse_agents(body)


def test_it_handles_mismatched_tags_with_entities_and_cdata():
    body = agent_xml(
        "<agent-name>A &amp; B &#233;</agent-nom><status-code-item-short-code><![CDATA[<x>]]></status-code-item-short-code>"
    )

    agent = parse_agents(body)[0]

    assert agent.agent_name == "A & B \u00e9"
    assert agent.status_code_item_short_code == "<x>"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  \n",
        b"<html><body>Login</body></html>",
        b"Service Unavailable",
        b'{"agent": [{"agent-id": "a"}',
        b'{"something": 1}',
        b"[1, 2]",
    ],
)
def test_it_refuses_malformed_answers(body):
    with pytest.raises(MalformedError):
        parse_agents(body)


def test_it_refuses_a_wrong_root_element():
    with pytest.raises(MalformedError, match="queues"):
        parse_queues(fixture_bytes("vendor-agents.xml"))


def test_it_ignores_an_alias_shadowed_by_the_documented_name_before_or_after_it():
    # The fast ways read only the documented name; the careful way (forced here by a repeated
    # id) must not refuse the record for the alias it shadows, wherever the alias stands.
    body = (b"<agent><agent-id>7</agent-id><day-avg-handling-time>A &amp; B</day-avg-handling-time>"
            b"<day-avg-processing-time>4</day-avg-processing-time><agent-id>7</agent-id></agent>")
    assert parse_agents(body)[0].day_avg_processing_time == 4
    assert parse_agents(body + b"<!-- -->")[0].day_avg_processing_time == 4
