"""The typed JSON way (msgspec into structs) must read exactly what the general ways read.

parse_agents and parse_queues try the typed way first for JSON; it takes only the usual shape
(documented names, plain values, the envelopes real servers send) and hands everything else to
the general ways. A UTF-8 BOM in front of a body keeps it off the typed and columnar ways, so
`body` and `BOM + body` must give the same records, or the same refusal with the same message,
whatever the body; and the bodies real servers send must take the typed way (`route`).
"""

from __future__ import annotations

import codecs
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.vcc.errors import MalformedError, UnsafeError
from wallboard.vcc.parse import parse_agents, parse_queues, route
from wallboard.vcc.records import AGENT_FIELDS, QUEUE_FIELDS

QUEUE_CAMEL = {
    "agent-count-logged-out": "agent-count-loggedOut",
    "agent-count-on-break": "agent-count-onBreak",
    "agent-count-post-process": "agent-count-postProcess",
    "agent-count-wait-transact": "agent-count-waitTransact",
    "agent-count-work-offline": "agent-count-workOffline",
}
AGENT_WIRE = [f.replace("_", "-") for f in AGENT_FIELDS]
QUEUE_WIRE = [QUEUE_CAMEL.get(n, n) for n in (f.replace("_", "-") for f in QUEUE_FIELDS)]
AGENT_TEXTS = {"agent-id", "agent-name", "group-id", "status-code-item-id", "status-code-item-short-code",
               "status-code-list-id"}
QUEUE_TEXTS = {"queue-id", "queue-name", "media-type", "queue-type"}
# Other spellings the general ways accept: aliases, `all-day-*`, lower case, and unknown names.
AGENT_ODD = ["day-avg-handling-time", "all-day-avg-processing-time", "all-day-avg-handling-time",
             "all-day-accepted-count", "AGENT-ID", "Agent-Name", "x-unknown"]
QUEUE_ODD = ["all-day-accepted", "all-day-queued", "all-day-sla-activity", "agent-count-loggedout",
             "Queue-Size", "queue-type", "x-unknown"]
KINDS = {
    "agent": (parse_agents, "agents", "agent-id", AGENT_WIRE, AGENT_ODD, AGENT_TEXTS),
    "queue": (parse_queues, "queues", "queue-id", QUEUE_WIRE, QUEUE_ODD, QUEUE_TEXTS),
}
ENVELOPES = [
    '{{"{s}": [{records}]}}',
    '{{"{p}": {{"{s}": [{records}]}}}}',
    '{{"{p}": [{records}]}}',
    "[{records}]",
    '{{"{s}": {first}}}',
    '{{"{p}": {{"{s}": {first}}}}}',
    '{{"{p}": [{records}], "{s}": [{first}]}}',
    '{{"{s}": [{records}], "other": 1}}',
    '{{"{p}": null}}',
    "{{}}",
]

# Raw JSON values: the usual ones often, and every kind of odd one the general ways handle.
PLAIN_NUMBERS = ["-1", "-1", "0", "7", "4711", "null"]
PLAIN_IDS = ['"a1"', '" b "', "7", '"4711"']
PLAIN_TEXTS = ["null", '""', '"  "', '" 7 "', '"Zara"', '"\\tx\\n"', '"\\u00e9 "', '"\\ud83d\\ude00"', "7", "-1"]
ODD_VALUES = ['""', '" 7 "', '"Zara"', "2.5", "3.0", "1e2", "-0", "true", "false", "[1]", '{"a": 1}', '"7"', '"lots"', str(2**64), str(-(2**70)),
              '"\\ud800"', "NaN", '"\\u0000"']
ODD_ITEMS = ["{}", "null", "1", '"x"', "[]"]


def raw_record(names: list[str], values: list[str]) -> str:
    """A JSON object from raw value texts; a name may repeat, as JSON allows (the last one counts)."""
    return "{" + ", ".join(f"{json.dumps(n)}: {v}" for n, v in zip(names, values, strict=True)) + "}"


def outcome(parse, body: bytes):
    """The records as their repr (so 1 and 1.0 differ), or the refusal and its message."""
    try:
        return repr(parse(body))
    except (MalformedError, UnsafeError) as exc:
        return (type(exc), str(exc))


def assert_typed_as_general(parse, body: bytes):
    expected = outcome(parse, codecs.BOM_UTF8 + body)
    assert outcome(parse, body) == expected
    return expected


def near_usual_body(rng: random.Random, singular: str, odd: float) -> bytes:
    """A body near the typed way's shape: mostly usual, with odd names, values and envelopes now and then.

    Each oddity is rare (probability `odd`) so that many bodies stay on the typed way and the
    rest leave it at all kinds of places; a seeded Random decides, hypothesis draws the seeds.
    """
    _, plural, key, wire, odd_names, texts = KINDS[singular]
    records = []
    for _ in range(rng.randint(1, 4)):
        names = rng.sample(wire[1:], rng.randint(0, 8))
        if rng.random() < odd:
            names += rng.choices([*odd_names, *wire], k=rng.randint(1, 3))  # repeats too
        if rng.random() >= odd:
            names.insert(rng.randint(0, len(names)), key)
        plain = [PLAIN_IDS if name == key else PLAIN_TEXTS if name in texts else PLAIN_NUMBERS for name in names]
        values = [rng.choice(ODD_VALUES if rng.random() < odd else usual) for usual in plain]
        records.append(raw_record(names, values))
    if rng.random() < odd:
        records.insert(rng.randint(0, len(records)), rng.choice(ODD_ITEMS))
    envelope = rng.choice(ENVELOPES) if rng.random() < odd * 2 else ENVELOPES[0]
    return envelope.format(s=singular, p=plural, records=", ".join(records), first=records[0]).encode()


@settings(max_examples=500, deadline=None)
@given(singular=st.sampled_from(["agent", "queue"]), odd=st.sampled_from([0.02, 0.1, 0.3]), seed=st.integers(0, 2**32))
def test_it_reads_bodies_near_the_usual_shape_as_the_general_ways(singular, odd, seed):
    body = near_usual_body(random.Random(seed), singular, odd)

    assert_typed_as_general(KINDS[singular][0], body)


@settings(max_examples=200, deadline=None)
@given(singular=st.sampled_from(["agent", "queue"]), data=st.data())
def test_it_reads_the_usual_shape_the_typed_way(singular, data):
    parse, plural, key, wire, _, texts = KINDS[singular]
    records = []
    for _ in range(data.draw(st.integers(1, 5))):
        names = data.draw(st.lists(st.sampled_from(wire[1:]), unique=True, max_size=12))
        record: dict[str, object] = {key: data.draw(st.sampled_from(["a1", " b ", 7]))}
        for name in names:
            text = st.none() | st.sampled_from(["", " x ", "Sales", 12])
            record[name] = data.draw(text if name in texts else st.none() | st.integers(-1, 10**6))
        records.append(record)
    envelope = data.draw(st.sampled_from([{singular: records}, {plural: {singular: records}}, records]))
    body = json.dumps(envelope).encode()

    found = assert_typed_as_general(parse, body)

    assert route(body, plural) == "json-typed"
    assert found.startswith("[")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"queue-id": 5, "all-day-accepted": 3}, 3),  # an alias stands in
        ({"queue-id": 5, "all-day-accepted": 3, "day-accepted": None}, None),  # the documented name wins, even null
        ({"day-accepted": 4, "queue-id": 5, "all-day-accepted": 3}, 4),
        ({"queue-id": 5, "all-day-sla-activity": -1}, "no data"),
    ],
)
def test_it_resolves_aliases_the_typed_way_as_the_general_ways(fields, expected):
    body = json.dumps({"queue": [fields, {"queue-id": 6}]}).encode()

    (queue, _) = parse_queues(body)

    assert route(body, "queues") == "json-typed"
    assert outcome(parse_queues, body) == outcome(parse_queues, codecs.BOM_UTF8 + body)
    if expected == "no data":
        assert queue.day_sla_activity is None
    else:
        assert queue.day_accepted == expected


def test_it_leaves_two_aliases_of_one_field_to_the_general_ways():
    # Without the documented name, the later alias in the record wins: the typed way cannot tell which.
    body = json.dumps({"agent": [{"agent-id": "a", "all-day-avg-processing-time": 1, "day-avg-handling-time": 2}]}).encode()

    (agent,) = parse_agents(body)

    assert route(body, "agents") != "json-typed"
    assert agent.day_avg_processing_time == 2


@pytest.mark.parametrize(
    "body",
    [
        b'{"agent": [{"agent-id": "a"}, {"agent-id": "  "}]}',  # a record without its id
        b'{"agent": [{"agent-id": "a", "agent-status": true}]}',
        b'{"agent": [{"agent-id": "a", "agent-status": "lots"}]}',
        b'{"agent": [{"agent-id": "a"}, 3]}',
        b'{"agent": [{"agent-id": "a", "agent-name": NaN}]}',
        b'{"agent": [{"agent-id": "a", "agent-name": "\xff"}]}',
        b'{"agent": [{"agent-id": ' + b"9" * 5000 + b"}]}",  # more digits than Python converts
        b'{"agent": [{"agent-id": "a"}]} trailing',
    ],
)
def test_it_refuses_what_the_general_ways_refuse(body):
    with pytest.raises(MalformedError) as typed:
        parse_agents(body)
    with pytest.raises(MalformedError) as general:
        parse_agents(codecs.BOM_UTF8 + body)

    assert str(typed.value) == str(general.value)


def test_it_reads_a_large_usual_answer_the_typed_way():
    rng = random.Random(23)
    agents = [
        {name: (f" A{i} " if name in AGENT_TEXTS else rng.choice([-1, 0, rng.randint(0, 10**5)])) for name in AGENT_WIRE}
        for i in range(1500)
    ]
    for agent in agents[::7]:
        agent["group-id"] = rng.randint(1, 40)  # ids often come as numbers
        agent["status-code-item-id"] = ""
    queues = [{"queue-id": i, f"{'all-day' if i % 2 else 'day'}-accepted": i, "sla-activity": -1} for i in range(300)]
    agents_body, queues_body = json.dumps({"agent": agents}).encode(), json.dumps({"queue": queues}).encode()

    assert (route(agents_body, "agents"), route(queues_body, "queues")) == ("json-typed", "json-typed")
    assert_typed_as_general(parse_agents, agents_body)
    assert_typed_as_general(parse_queues, queues_body)
    assert parse_agents(agents_body)[7].group_id == str(agents[7]["group-id"])
    assert parse_agents(agents_body)[7].status_code_item_id is None
