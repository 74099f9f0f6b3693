"""The fast ways through wallboard.vcc.parse must read exactly what the general ways read.

parse_agents and parse_queues have fast ways for the answers 8x8 really sends (plain XML read
by a grammar, JSON lists column by column) and general ways for everything else (an element
tree, record by record, field by field). Every test here goes through the public functions
only: a body is varied in a way that cannot change its records but sends it down another way,
and both must give the same records, or both refuse it. `route` tells which way a body took,
where a test is about that.

The variations (see the helpers below):
- a comment after the root element: plain XML -> the element tree;
- a UTF-8 BOM before JSON: columns -> record by record;
- a record's id repeated at its end (XML) or its integers written as strings (JSON): the fast
  reading of that record -> the careful, field-by-field one.
"""

from __future__ import annotations

import codecs
import json
import random
import re
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.vcc.errors import MalformedError, UnsafeError
from wallboard.vcc.parse import parse_agents, parse_queues, route
from wallboard.vcc.records import AGENT_FIELDS, QUEUE_FIELDS

# --- shared helpers ---------------------------------------------------------------------------

# The wire names docs/api-shapes.md documents, and the spellings it says are accepted too.
QUEUE_CAMEL = {
    "agent-count-logged-out": "agent-count-loggedOut",
    "agent-count-on-break": "agent-count-onBreak",
    "agent-count-post-process": "agent-count-postProcess",
    "agent-count-wait-transact": "agent-count-waitTransact",
    "agent-count-work-offline": "agent-count-workOffline",
}
AGENT_WIRE = [f.replace("_", "-") for f in AGENT_FIELDS] + ["day-avg-handling-time", "all-day-accepted-count"]
QUEUE_WIRE = [QUEUE_CAMEL.get(n, n) for n in (f.replace("_", "-") for f in QUEUE_FIELDS)] + [
    "all-day-accepted",
    "all-day-queued",
    "all-day-sla-activity",
]
KNOWN = {"agent": {n.lower() for n in AGENT_WIRE}, "queue": {n.lower() for n in QUEUE_WIRE}}


def outcome(parse, body: bytes):
    """The records, or the kind of refusal."""
    try:
        return parse(body)
    except (MalformedError, UnsafeError) as exc:
        return type(exc)


def via_tree(body: bytes) -> bytes:
    """The same XML with a comment after the root: no longer plain, so read through a tree."""
    return body + b"<!-- -->"


def via_records(body: bytes) -> bytes:
    """The same JSON behind a UTF-8 BOM, which the columnar way leaves to the record-by-record one."""
    return codecs.BOM_UTF8 + body


def with_repeated_ids(body: bytes, singular: str) -> bytes:
    """Each record's id field repeated at its end: the same records, each read field by field.

    A record that names a field twice is never read the fast way: the careful way reads (and
    may refuse) every value, and the last one wins.
    """
    key, close = f"{singular}-id".encode(), f"</{singular}>".encode()
    ids = re.compile(rb"<" + key + rb"(?:/>|>[^<]*</" + key + rb">)")

    def repeat_last(record: re.Match[bytes]) -> bytes:
        found = ids.findall(record.group(0))
        return record.group(0)[: -len(close)] + found[-1] + close if found else record.group(0)

    return re.sub(b"<" + singular.encode() + b">.*?" + close, repeat_last, body, flags=re.S)


def with_numbers_as_text(records: list, singular: str) -> list:
    """Records whose known fields' integers are written as strings: read field by field, same values.

    A text field reads a number as its digits, an integer field reads digits exactly; unknown
    fields keep what they hold, so those are left alone.
    """
    known = KNOWN[singular]
    return [
        {k: str(v) if type(v) is int and k.lower() in known else v for k, v in r.items()} if isinstance(r, dict) else r
        for r in records
    ]


def assert_same_every_way_xml(parse, body: bytes, singular: str):
    expected = outcome(parse, body)
    assert outcome(parse, via_tree(body)) == expected
    assert outcome(parse, with_repeated_ids(body, singular)) == expected
    return expected


def assert_same_every_way_json(parse, singular: str, records: list):
    body = json.dumps({singular: records}).encode()
    expected = outcome(parse, body)
    assert outcome(parse, via_records(body)) == expected
    assert outcome(parse, json.dumps({singular: with_numbers_as_text(records, singular)}).encode()) == expected
    return expected


# --- record layouts: the fast reading of a record is the careful one ---------------------------

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


@settings(max_examples=300, deadline=None)
@given(layout=layouts(AGENT_WIRE, "agent-id"), data=st.data())
def test_it_reads_agent_records_in_xml_the_same_every_way(layout, data):
    records = [[(n, data.draw(scalar_text)) for n in layout] for _ in range(data.draw(st.integers(1, 3)))]

    assert_same_every_way_xml(parse_agents, xml_body("agents", "agent", records), "agent")


@settings(max_examples=300, deadline=None)
@given(layout=layouts(QUEUE_WIRE, "queue-id"), data=st.data())
def test_it_reads_queue_records_in_json_the_same_every_way(layout, data):
    records = [{n: data.draw(json_value) for n in layout} for _ in range(data.draw(st.integers(1, 3)))]

    assert_same_every_way_json(parse_queues, "queue", records)


@settings(max_examples=200, deadline=None)
@given(layout=layouts(AGENT_WIRE, "agent-id"), data=st.data())
def test_it_reads_agent_records_in_json_the_same_every_way(layout, data):
    records = [{n: data.draw(json_value) for n in layout} for _ in range(data.draw(st.integers(1, 3)))]

    assert_same_every_way_json(parse_agents, "agent", records)


def test_it_reads_ordinary_records_the_fast_way():
    body = json.dumps({"queue": [{"queue-id": 1, "queue-size": 2, "sla-activity": -1, "media-type": "chat"}] * 2}).encode()

    with_unknown = json.dumps({"queue": [{"queue-id": 1, "queue-size": 2, "sla-activity": -1, "x": 1}] * 2}).encode()

    (queue, _) = parse_queues(body)

    assert route(body, "queues") == "json-typed"
    assert route(with_unknown, "queues") == "json-columns"  # an unknown field: kept, so not the typed way
    assert (queue.queue_id, queue.queue_size, queue.sla_activity, queue.media_type) == ("1", 2, None, "chat")
    assert parse_queues(body) == parse_queues(via_records(body))
    assert parse_queues(with_unknown)[0].extra == {"x": 1}


# --- plain XML: the same as the tree -----------------------------------------------------------

AGENT_NAMES = AGENT_WIRE[:40]

good_texts = st.one_of(
    st.integers(-2, 100000).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            " 12 ",
            "97.5",
            "1_0",
            "\u0663",  # an Arabic-Indic 3: int() reads it
            "\u00a012",
            "A &amp; B",
            "&lt;x&gt; &quot;&apos;",
            "caf&#233; &#x1F600;",
            "&#13;&#10;",
            "a\r\nb\rc",
            "]]",
            "a>b",
            "caf\u00e9",
            "tab\there",
        ]
    ),
    st.text(alphabet="ab 9-;#>/\n", max_size=6),
)
bad_texts = st.sampled_from(
    ["&#0;", "&#xFFFE;", "&#xD800;", "&#1114112;", "&bogus;", "AT&T", "x]]>y", "\x01", "\x0b", "\ufffe", "a<b"]
)
separators = st.sampled_from(["", "", "\n", "\r\n", " \t"])
prologs = st.sampled_from(
    [
        "",
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        "<?xml version='1.0' encoding='utf-8' standalone='yes'?>",
        '<?xml version="1.0"?>',
        "\ufeff",
    ]
)
odd_prologs = st.sampled_from(
    [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        '<?xml version="1.1"?>',
        '<?xml version="1.0" standalone="maybe"?>',
        '  <?xml version="1.0"?>',
        "<!-- generated -->",
        "<?pi here?>",
        "\x0c",
    ]
)
mutations = st.sampled_from(
    [
        ("</agent-name>", "</agent-nom>"),
        ("<agent-id>", '<agent-id kind="x">'),
        ("</agent>", "<!-- c --></agent>"),
        ("</agent>", " </agent>\x0c"),
        ("</agents>", ""),
        ("</agents>", "</agents>junk"),
        ("</agents>", "</agents><agents/>"),
        ("<agent>", "<agent>text"),
        ("<agent>", "<agent><agent/>"),
        ("<agent-status>", "<agent-status><![CDATA[1]]>"),
        ("<agent-status>", "<ns:agent-status>"),
        ("<agents>", '<agents xmlns="urn:x">'),
        ("<agents>", "<agents>\n<agent>...</agent>"),
        ("<agents>", "<agents><agent/>"),
        ("<agents>", "<agents><agent>a&amp;b</agent>"),
        ("<agents>", "<agents><agent>a&b</agent>"),
        ("<agents>", '<!DOCTYPE agents [<!ENTITY e "x">]><agents>'),
    ]
)


def rarely(draw, usual, odd):
    """Mostly the usual strategy, one time in ten the odd one."""
    return draw(odd if draw(st.integers(0, 9)) == 0 else usual)


def text(draw):
    """Mostly numbers, as most fields are; sometimes anything XML allows; rarely what it does not."""
    if draw(st.integers(0, 9)) < 7:
        return str(draw(st.integers(-2, 100000)))
    return rarely(draw, good_texts, bad_texts)


def field(name: str, text: str, empty_style: int) -> str:
    if text == "" and empty_style == 0:
        return f"<{name}/>"
    if text == "" and empty_style == 1:
        return f"<{name}></{name}>"
    return f"<{name}>{text}</{name}>"


@st.composite
def agent_bodies(draw):
    sep = draw(separators)
    records = []
    for _ in range(draw(st.integers(0, 3))):
        names = ["agent-id", *draw(st.lists(st.sampled_from([*AGENT_NAMES, "new-metric"]), max_size=8))]
        fields = [field(n, text(draw), draw(st.integers(0, 1))) for n in names]
        if draw(st.booleans()):
            fields[0] = field("agent-id", f"a{len(records)}", 2)
        records.append(f"<agent>{sep}{sep.join(fields)}{sep}</agent>")
    epilog = draw(st.sampled_from(["", "\n"]))
    body = f"{rarely(draw, prologs, odd_prologs)}<agents>{sep}{sep.join(records)}{sep}</agents>{epilog}"
    mutation = rarely(draw, st.none(), mutations)
    if mutation is not None:
        body = body.replace(*mutation, 1)
    return body.encode("utf-8", "surrogatepass")


@settings(max_examples=600, deadline=None)
@given(body=agent_bodies())
def test_it_reads_plain_xml_exactly_as_the_tree(body):
    assert_same_every_way_xml(parse_agents, body, "agent")


@settings(max_examples=200, deadline=None)
@given(body=agent_bodies())
def test_it_reads_single_plain_records_as_the_tree(body):
    # /agent/{id} answers: the record is the root element.
    start = body.find(b"<agent>")
    end = body.find(b"</agent>")
    if start < 0 or end < 0:
        return
    single = body[start : end + len(b"</agent>")]

    assert_same_every_way_xml(parse_agents, single, "agent")


def test_it_reads_ordinary_answers_the_plain_way():
    agents = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<agents><agent><agent-id>a1</agent-id><agent-status>2</agent-status>'
        b"<status-code-item-id/><agent-name>Ren\xc3\xa9e &amp; co</agent-name><last-login-time>-1</last-login-time>"
        b"</agent>\n<agent><agent-id>a2</agent-id><agent-status>1</agent-status><brand-new>7</brand-new></agent></agents>"
    )
    queues = (
        b"<queues>\r\n<queue>\r\n<queue-id>1</queue-id>\r\n<day-accepted>5</day-accepted>\r\n</queue>\r\n"
        b"<queue><queue-id>2</queue-id><all-day-accepted>6</all-day-accepted></queue>\r\n</queues>"
    )

    found = parse_agents(agents)

    assert (route(agents, "agents"), route(queues, "queues")) == ("xml-plain", "xml-plain")
    assert [(a.agent_id, a.agent_status, a.agent_name, a.last_login_time) for a in found] == [
        ("a1", 2, "Ren\u00e9e & co", None),
        ("a2", 1, None, None),
    ]
    assert found[1].extra == {"brand-new": "7"}
    assert [(q.queue_id, q.day_accepted) for q in parse_queues(queues)] == [("1", 5), ("2", 6)]
    assert_same_every_way_xml(parse_agents, agents, "agent")
    assert_same_every_way_xml(parse_queues, queues, "queue")


def test_it_reads_the_simulator_answers_the_fast_ways():
    from wallboard.simulator.render import render_stats

    bodies = render_stats(
        [{"agent-id": f"a{i}", "agent-name": "X & Y", "agent-status": 1, "status-code-item-id": None} for i in (1, 2)],
        [{"queue-id": i, "queue-name": "Sales <EU>", "queue-size": 3} for i in (7, 8)],
    )
    agents_xml, queues_xml = bodies.body("agent", "xml"), bodies.body("queue", "xml")
    agents_json, queues_json = bodies.body("agent", "json"), bodies.body("queue", "json")

    assert [route(agents_xml, "agents"), route(queues_xml, "queues")] == ["xml-plain", "xml-plain"]
    assert [route(agents_json, "agents"), route(queues_json, "queues")] == ["json-typed", "json-typed"]
    assert parse_agents(agents_xml) == parse_agents(agents_json)
    assert parse_queues(queues_xml) == parse_queues(queues_json)
    assert parse_agents(bodies.body("agent", "xml", "a1"))[0].agent_name == "X & Y"


@pytest.mark.parametrize(
    "fields",
    [
        "<agent-name>\x01</agent-name>",  # a control character XML does not allow
        "<agent-name>&#0;</agent-name>",
        "<agent-name>&#x1;</agent-name>",
        "<agent-name>&#xFFFF;</agent-name>",
        "<agent-name>&#xD800;</agent-name>",
        "<agent-name>x]]>y</agent-name>",
        "<agent-name>AT&T</agent-name>",
        "<agent-name>&nbsp;</agent-name>",
        "<agent-name>\ufffe</agent-name>",
    ],
)
def test_it_refuses_what_xml_forbids_in_plain_records(fields):
    body = f"<agents><agent><agent-id>a</agent-id>{fields}</agent></agents>".encode()

    with pytest.raises(MalformedError):
        parse_agents(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<agents><agent><agent-id>a</agent-id></agent>",  # the root never closed
        b"<agents><agent><agent-id>a</agent-id></agents>",
        b"<agents><agent><agent-id>a</agent-id></agent></agents><agent/>",
        b"<agents><agent><agent-id>a</agent-id><agent-name>x</agent-nam",
        b"<agents><agent>AT&T</agent><agent><agent-id>a</agent-id></agent></agents>",
        b'<?xml version="1.0" encoding="UTF-8"?><agents><agent><agent-id>a\xff</agent-id></agent></agents>',
    ],
)
def test_it_refuses_broken_plain_looking_bodies(body):
    with pytest.raises(MalformedError):
        parse_agents(body)


def test_it_still_reads_the_vendors_mismatched_tags():
    body = b"<queues><queue><queue-id>5</queue-id><day-accepted>10</all-day-accepted></queue></queues>"

    assert route(body, "queues") == "xml-tree"
    assert parse_queues(body)[0].day_accepted == 10


XXE_PLAIN = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE agents [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<agents><agent><agent-id>a</agent-id><agent-name>&xxe;</agent-name></agent></agents>"""


@pytest.mark.parametrize(
    "body",
    [
        XXE_PLAIN,
        codecs.BOM_UTF8 + XXE_PLAIN,
        XXE_PLAIN.replace(b"<agents>", b"<agents><!-- hello! -->"),
        b'<!DOCTYPE agents [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><agents><agent>'
        b"<agent-id>&b;</agent-id></agent></agents>",
    ],
)
def test_it_refuses_a_dtd_whatever_way_the_body_looks(body):
    with pytest.raises(UnsafeError):
        parse_agents(body)


def test_it_refuses_an_entity_the_document_never_declared():
    body = b"<agents><agent><agent-id>a</agent-id><agent-name>&xxe;</agent-name></agent></agents>"

    with pytest.raises(MalformedError):
        parse_agents(body)


def test_it_reads_a_body_with_many_layouts_through_the_tree():
    # Ten record layouts in one answer is no ordinary answer: not worth a grammar each.
    records = "".join(f"<agent><agent-id>a{i}</agent-id><x{i}>1</x{i}></agent>" for i in range(10))
    body = f"<agents>{records}</agents>".encode()

    assert route(body, "agents") == "xml-tree"
    assert [a.extra for a in parse_agents(body)][-1] == {"x9": "1"}


# --- long answers: layouts mixed, odd values here and there ------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    count=st.integers(1, 700),
    layouts=st.lists(st.lists(st.sampled_from(AGENT_WIRE[1:20] + ["new-metric"]), max_size=10), min_size=1, max_size=3),
    odd=st.sampled_from([0, 0.002, 0.05]),
    seed=st.integers(0, 2**32),
)
def test_it_reads_long_answers_the_same_every_way(count, layouts, odd, seed):
    rng = random.Random(seed)  # values for hundreds of records: too many for hypothesis to draw one by one
    odd_values = ["", " 7 ", "97.5", "abc", None, True, [1], 2**70, 1.5]
    records = []
    for i in range(count):
        names = ["agent-id", *rng.choice(layouts)]
        records.append({n: rng.choice(odd_values) if rng.random() < odd else rng.randint(-1, 99) for n in names})
        records[-1]["agent-id"] = f"a{i}" if rng.random() < 0.9 else i

    from_json = assert_same_every_way_json(parse_agents, "agent", records)
    xml = xml_body("agents", "agent", [[(k, "" if v is None else str(v)) for k, v in r.items()] for r in records])
    from_xml = assert_same_every_way_xml(parse_agents, xml, "agent")

    if not odd:  # the same values in both formats; unknown fields keep their JSON types, so leave those out
        assert [documented(a) for a in from_xml] == [documented(a) for a in from_json]


def documented(agent) -> dict:
    return {name: value for name, value in agent.to_dict().items() if name in AGENT_FIELDS}


def test_it_reads_a_long_list_with_one_odd_record_every_way():
    records = [{"agent-id": f"a{i}", "agent-status": i % 5, "day-accepted-count": i} for i in range(600)]
    records[300] = {**records[300], "day-accepted-count": "97.5"}  # fractional: the careful way

    agents = assert_same_every_way_json(parse_agents, "agent", records)

    assert agents[300].day_accepted_count == 97.5 and agents[299].day_accepted_count == 299
    assert [a.agent_id for a in agents] == [f"a{i}" for i in range(600)]


# --- JSON through orjson: exactly what json.loads gives -----------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),  # beyond 64 bits too: orjson would read those as floats
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


def kept(body: bytes):
    """What an agent keeps of an unknown field `x`: the JSON value exactly as it was read."""
    return parse_agents(body)[0].extra["x"]


@settings(max_examples=400, deadline=None)
@given(value=json_values, ascii_only=st.booleans(), count=st.integers(1, 2))
def test_it_reads_json_exactly_as_json_loads_does(value, ascii_only, count):
    body = json.dumps({"agent": [{"agent-id": "a", "x": value}] * count}, ensure_ascii=ascii_only).encode()

    assert repr(kept(body)) == repr(json.loads(body)["agent"][0]["x"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"123456789012345678901234567890", 123456789012345678901234567890),
        (b"-9223372036854775809", -9223372036854775809),
        (b"18446744073709551615", 18446744073709551615),
        (b"1e400", float("inf")),  # valid JSON that overflows: as json reads it
        (b'"\xed\xa0\x80"', "\ud800"),  # an encoded lone surrogate: json lets it pass
        (b'"\\ud800"', "\ud800"),
    ],
)
def test_it_reads_json_that_orjson_reads_differently_as_json_does(value, expected):
    body = b'{"agent": [{"agent-id": "a", "x": ' + value + b"}]}"

    assert repr(kept(body)) == repr(expected)


@pytest.mark.parametrize(
    "body",
    [
        codecs.BOM_UTF8 + b'{"agent": {"agent-id": "a", "x": 1}}',
        '{"agent": {"agent-id": "a", "x": 1}}'.encode("utf-16"),
    ],
)
def test_it_reads_json_with_a_bom_or_in_utf16(body):
    assert kept(body) == 1


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_it_refuses_nan_and_infinity_literals_as_malformed(literal):
    with pytest.raises(MalformedError, match="not valid JSON"):
        parse_queues(b'{"queue": [{"queue-id": 1, "sla-activity": ' + literal + b"}]}")
    with pytest.raises(MalformedError):
        parse_agents(b'{"agent": [{"agent-id": "a", "agent-name": ' + literal + b"}]}")


@pytest.mark.parametrize(
    "body",
    [
        b'{"agent": [{"agent-id": "\xff"}]}',  # invalid UTF-8
        b'{"agent": [{"agent-id": "\xc0\xaf"}]}',  # overlong UTF-8
        b'{"agent": [{"agent-id": "a"}]} trailing',
        b'{"agent": [{"agent-id": "a",}]}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_it_refuses_malformed_json_on_the_orjson_way(body):
    with pytest.raises(MalformedError):
        parse_agents(body)


def test_it_keeps_integer_and_float_types_from_json():
    queue = parse_queues(b'{"queue": [{"queue-id": 1, "queue-size": 3, "sla-activity": 97.5, "x": 2.0}]}')[0]

    assert (queue.queue_size, type(queue.queue_size)) == (3, int)
    assert queue.sla_activity == 97.5
    assert repr(queue.extra) == "{'x': 2.0}"


# --- JSON lists column by column: exactly what record by record gives ---------------------------

# A column's values are mostly of one kind, as in real answers, with odd ones now and then.
column_kinds = st.sampled_from([
    st.integers(-3, 3) | st.just(2**40),
    st.sampled_from(["", "  ", " ag1 ", "101", "Zara", "\tx\n"]),
    st.none() | st.integers(0, 9) | st.sampled_from(["", " q1 "]),
    st.none() | st.booleans() | st.floats(-2, 2, allow_nan=False) | st.lists(st.integers(), max_size=1) | st.text(max_size=2),
])


@settings(max_examples=400, deadline=None)
@given(
    names=st.lists(st.sampled_from([*AGENT_NAMES[:12], "agent-id", "AGENT-ID", "unknown-x"]), min_size=1, max_size=6, unique=True),
    count=st.integers(2, 5),
    agents=st.booleans(),
    data=st.data(),
)
def test_it_reads_json_lists_column_by_column_as_record_by_record(names, count, agents, data):
    if not agents:
        names = [n.replace("agent-id", "queue-id").replace("AGENT-ID", "Queue-Id") for n in names]
    kinds = [data.draw(column_kinds) for _ in names]
    items = [{name: data.draw(kind) for name, kind in zip(names, kinds, strict=True)} for _ in range(count)]

    assert_same_every_way_json(parse_agents if agents else parse_queues, "agent" if agents else "queue", items)


def test_it_reads_the_simulator_answers_the_typed_way():
    from wallboard.simulator.model import ContactCenter
    from wallboard.simulator.render import render_stats

    rendered = render_stats(*ContactCenter(seed=3, n_agents=60, n_queues=9).at(1_795_000_000))
    agents, queues = rendered.body("agent", "json"), rendered.body("queue", "json")

    assert (route(agents, "agents"), route(queues, "queues")) == ("json-typed", "json-typed")
    assert parse_agents(agents) == parse_agents(via_records(agents))
    assert parse_queues(queues) == parse_queues(via_records(queues))
    assert len(parse_agents(agents)) == 60


def test_it_reads_mixed_layouts_record_by_record():
    # An unknown field keeps it off the typed way, which does not care about the order of names.
    body = json.dumps({"agent": [{"agent-id": "a", "agent-status": 1, "x": 1}, {"agent-status": 2, "agent-id": "b"}]}).encode()

    assert route(body, "agents") == "json-records"
    assert [a.agent_id for a in parse_agents(body)] == ["a", "b"]


@pytest.mark.parametrize("field", ["day-accepted-count", "x-unknown"])
def test_it_reads_integers_beyond_64_bits_exactly_in_lists(field):
    big = 123456789012345678901234
    body = json.dumps({"agent": [{"agent-id": "a", field: big}, {"agent-id": "b", field: 1}]}).encode()
    first = parse_agents(body)[0]
    value = first.day_accepted_count if field == "day-accepted-count" else first.extra[field]
    assert value == big and type(value) is int


@pytest.mark.parametrize(
    ("odd", "expected"),
    [
        ({"agent-id": ""}, MalformedError),  # a record without its id among good ones
        ({"agent-id": ["x"]}, MalformedError),  # an id that is not a plain value
        ({"day-accepted-count": "lots"}, MalformedError),  # a count that is not a number
    ],
)
def test_it_refuses_a_bad_record_in_a_long_list_as_record_by_record(odd, expected):
    items = [{"agent-id": f"a{i}", "day-accepted-count": i} for i in range(50)]
    items[17] = {**items[17], **odd}

    assert assert_same_every_way_json(parse_agents, "agent", items) is expected


def test_it_refuses_the_first_bad_record_of_a_long_list():
    items = [{"agent-id": f"a{i}", "agent-status": i % 3} for i in range(600)]
    items[450] = {"agent-status": 1}  # another layout, and without its id
    items[500] = {"agent-id": "z", "agent-status": "lots"}

    with pytest.raises(MalformedError, match="without its agent-id"):
        parse_agents(json.dumps({"agent": items}).encode())
    items[400] = "not a record"
    with pytest.raises(MalformedError, match="expected a JSON object"):
        parse_agents(json.dumps({"agent": items}).encode())


@settings(max_examples=300, deadline=None)
@given(
    first=st.lists(st.sampled_from([*AGENT_NAMES[:12], "AGENT-ID", "unknown-x"]), max_size=5, unique=True),
    second=st.lists(st.sampled_from([*AGENT_NAMES[:12], "all-day-accepted-count", "unknown-y"]), max_size=5, unique=True),
    count=st.integers(2, 7),
    data=st.data(),
)
def test_it_reads_alternating_json_layouts_column_by_column_as_record_by_record(first, second, count, data):
    layouts = [["agent-id", *first], [*second, "agent-id"]]
    kinds = [{name: data.draw(column_kinds) for name in layout} for layout in layouts]
    items = [{name: data.draw(kind) for name, kind in kinds[i % 2].items()} for i in range(count)]

    assert_same_every_way_json(parse_agents, "agent", items)


def test_it_reads_queues_alternating_day_and_all_day_names_in_one_parse():
    queues = [{"queue-id": i, f"{'all-day' if i % 2 else 'day'}-accepted": i, "queue-name": f" Q{i} "} for i in range(600)]
    body = json.dumps({"queue": queues}).encode()

    found = parse_queues(body)

    assert route(body, "queues") == "json-typed"
    assert found == parse_queues(via_records(body))
    with_unknown = json.dumps({"queue": [{**q, "x": 1} for q in queues]}).encode()  # columns, by layout
    assert route(with_unknown, "queues") == "json-records"
    assert [q.day_accepted for q in parse_queues(with_unknown)] == [q.day_accepted for q in found]
    assert [(q.queue_id, q.day_accepted, q.queue_name) for q in found[:2]] == [("0", 0, "Q0"), ("1", 1, "Q1")]
