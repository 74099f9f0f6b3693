"""The fast record path (per-layout plans) must give exactly what the field-by-field path gives."""

from __future__ import annotations

import json
from xml.etree import ElementTree as etree
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.vcc import parse as P
from wallboard.vcc.errors import MalformedError

AGENT_WIRE = list(P.AGENT_TABLE)
QUEUE_WIRE = list(P.QUEUE_TABLE)

scalar_text = st.one_of(
    st.integers(-2, 5000).map(str),
    st.sampled_from(["-1", "", " 7 ", "97.5", "3.0", "abc", "1_0"]),
    st.text(alphabet="abc xyz-", max_size=6),
)
json_value = st.one_of(
    st.integers(-2, 5000),
    st.sampled_from([-1, 97.5, 3.0, True, None, "", " 12 ", "x", [1], {"a": 1}]),
    st.text(alphabet="abc 19", max_size=5),
)


def layouts(wire: list[str], key: str):
    """A record layout: the id, known names (aliases included) and some unknown names."""
    names = st.lists(st.sampled_from([*wire, "brand-new", "otherThing"]), max_size=40)
    return names.map(lambda rest: [key, *rest])


def xml_body(root: str, item: str, records: list[list[tuple[str, str]]]) -> bytes:
    parts = [f"<{root}>"]
    for record in records:
        fields = "".join(f"<{n}/>" if v == "" else f"<{n}>{escape(v)}</{n}>" for n, v in record)
        parts.append(f"<{item}>{fields}</{item}>")
    parts.append(f"</{root}>")
    return "".join(parts).encode()


def slow(items, convert, *args):
    try:
        return [convert(item, *args) for item in items]
    except MalformedError:
        return MalformedError


def fast(body, parser):
    try:
        return parser(body)
    except MalformedError:
        return MalformedError


@settings(max_examples=300, deadline=None)
@given(layout=layouts(AGENT_WIRE, "agent-id"), data=st.data())
def test_it_parses_agents_xml_like_the_slow_path(layout, data):
    records = [[(n, data.draw(scalar_text)) for n in layout] for _ in range(data.draw(st.integers(1, 3)))]
    body = xml_body("agents", "agent", records)
    elements = [el for el in etree.fromstring(body) if len(el)]

    expected = slow(elements, P._from_xml, "agent", P.AGENT_TABLE, P.Agent, "agent_id")

    assert fast(body, P.parse_agents) == expected


@settings(max_examples=300, deadline=None)
@given(layout=layouts(QUEUE_WIRE, "queue-id"), data=st.data())
def test_it_parses_queues_json_like_the_slow_path(layout, data):
    records = [{n: data.draw(json_value) for n in layout} for _ in range(data.draw(st.integers(1, 3)))]
    body = json.dumps({"queue": records}).encode()

    expected = slow([r for r in records if r], P._from_json, "queue", P.QUEUE_TABLE, P.Queue, "queue_id")

    assert fast(body, P.parse_queues) == expected


@settings(max_examples=200, deadline=None)
@given(layout=layouts(AGENT_WIRE, "agent-id"), data=st.data())
def test_it_parses_agents_json_like_the_slow_path(layout, data):
    records = [{n: data.draw(json_value) for n in layout} for _ in range(data.draw(st.integers(1, 3)))]
    body = json.dumps({"agent": records}).encode()

    expected = slow([r for r in records if r], P._from_json, "agent", P.AGENT_TABLE, P.Agent, "agent_id")

    assert fast(body, P.parse_agents) == expected


def test_it_takes_the_fast_path_for_ordinary_records():
    body = json.dumps({"queue": [{"queue-id": 1, "queue-size": 2, "sla-activity": -1, "media-type": "chat"}]})
    plans: dict = {}

    record = P._fast_json(json.loads(body)["queue"][0], plans, P.QUEUE_TABLE, P.Queue, "queue_id")

    assert record == P.parse_queues(body.encode())[0]
    assert (record.queue_size, record.sla_activity, record.media_type) == (2, None, "chat")
