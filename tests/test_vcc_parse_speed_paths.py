"""The fast ways through wallboard.vcc.parse: plain XML without a tree, JSON through orjson.

Both must give exactly what the general paths give (records or a refusal), and the XML safety
rules (no DTD, no entity but the predefined ones) must hold on the fast path too.
"""

from __future__ import annotations

import codecs
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.vcc import parse as P
from wallboard.vcc.errors import MalformedError, UnsafeError

AGENT_NAMES = [*P.AGENT_TABLE][:40]
QUEUE_NAMES = [*P.QUEUE_TABLE][:40]


def outcome(call, *args):
    try:
        return call(*args)
    except (MalformedError, UnsafeError) as exc:
        return type(exc)


def plain(body: bytes, plural: str = "agents", singular: str = "agent"):
    table, cls, key = (
        (P.AGENT_TABLE, P.Agent, "agent_id") if singular == "agent" else (P.QUEUE_TABLE, P.Queue, "queue_id")
    )
    return P._plain_records(body, plural, singular, {}, table, cls, key)


def tree(body: bytes, plural: str = "agents", singular: str = "agent"):
    table, cls, key = (
        (P.AGENT_TABLE, P.Agent, "agent_id") if singular == "agent" else (P.QUEUE_TABLE, P.Queue, "queue_id")
    )
    return outcome(P._tree_records, body, plural, singular, {}, table, cls, key)


# --- plain XML: the same as the tree path -------------------------------------------------------

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
def test_it_reads_plain_xml_exactly_as_the_tree_path(body):
    fast = plain(body)
    expected = tree(body)

    if fast is not None:
        assert fast == expected
    assert outcome(P.parse_agents, body) == expected


@settings(max_examples=200, deadline=None)
@given(body=agent_bodies())
def test_it_reads_single_plain_records_as_the_tree_path(body):
    # /agent/{id} answers: the record is the root element.
    start = body.find(b"<agent>")
    end = body.find(b"</agent>")
    if start < 0 or end < 0:
        return
    single = body[start : end + len(b"</agent>")]

    fast = plain(single)

    if fast is not None:
        assert fast == tree(single)


def test_it_reads_ordinary_answers_on_the_plain_path():
    agents = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<agents><agent><agent-id>a1</agent-id><agent-status>2</agent-status>'
        b"<status-code-item-id/><agent-name>Ren\xc3\xa9e &amp; co</agent-name><last-login-time>-1</last-login-time>"
        b"</agent>\n<agent><agent-id>a2</agent-id><agent-status>1</agent-status><brand-new>7</brand-new></agent></agents>"
    )
    queues = (
        b"<queues>\r\n<queue>\r\n<queue-id>1</queue-id>\r\n<day-accepted>5</day-accepted>\r\n</queue>\r\n"
        b"<queue><queue-id>2</queue-id><all-day-accepted>6</all-day-accepted></queue>\r\n</queues>"
    )

    fast_agents = plain(agents)
    fast_queues = plain(queues, "queues", "queue")

    assert fast_agents == tree(agents) == P.parse_agents(agents)
    assert [(a.agent_id, a.agent_status, a.agent_name, a.last_login_time) for a in fast_agents] == [
        ("a1", 2, "Ren\u00e9e & co", None),
        ("a2", 1, None, None),
    ]
    assert fast_agents[1].extra == {"brand-new": "7"}
    assert fast_queues == tree(queues, "queues", "queue")
    assert [(q.queue_id, q.day_accepted) for q in fast_queues] == [("1", 5), ("2", 6)]


def test_it_reads_the_simulator_answers_on_the_plain_path():
    from wallboard.simulator.render import render_stats

    bodies = render_stats(
        [{"agent-id": "a1", "agent-name": "X & Y", "agent-status": 1, "status-code-item-id": None}],
        [{"queue-id": 7, "queue-name": "Sales <EU>", "queue-size": 3}],
    )

    assert plain(bodies.body("agent", "xml")) == P.parse_agents(bodies.body("agent", "json"))
    assert plain(bodies.body("queue", "xml"), "queues", "queue") == P.parse_queues(bodies.body("queue", "json"))
    assert plain(bodies.body("agent", "xml", "a1"))[0].agent_name == "X & Y"


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

    assert plain(body) is None
    with pytest.raises(MalformedError):
        P.parse_agents(body)


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
def test_it_leaves_broken_plain_looking_bodies_to_the_strict_parser(body):
    assert plain(body) is None
    with pytest.raises(MalformedError):
        P.parse_agents(body)


def test_it_still_reads_the_vendors_mismatched_tags():
    body = b"<queues><queue><queue-id>5</queue-id><day-accepted>10</all-day-accepted></queue></queues>"

    assert plain(body, "queues", "queue") is None
    assert P.parse_queues(body)[0].day_accepted == 10


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
def test_it_refuses_a_dtd_before_the_plain_path_looks(body):
    assert plain(body) is None
    with pytest.raises(UnsafeError):
        P.parse_agents(body)


def test_it_refuses_an_entity_the_document_never_declared():
    body = b"<agents><agent><agent-id>a</agent-id><agent-name>&xxe;</agent-name></agent></agents>"

    assert plain(body) is None
    with pytest.raises(MalformedError):
        P.parse_agents(body)


def test_it_gives_up_on_too_many_layouts_in_one_body():
    records = "".join(f"<agent><agent-id>a{i}</agent-id><x{i}>1</x{i}></agent>" for i in range(P._MAX_LAYOUTS + 2))
    body = f"<agents>{records}</agents>".encode()

    assert plain(body) is None
    assert [a.extra for a in P.parse_agents(body)][-1] == {f"x{P._MAX_LAYOUTS + 1}": "1"}


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


@settings(max_examples=400, deadline=None)
@given(value=json_values, ascii_only=st.booleans())
def test_it_reads_json_exactly_as_json_loads_does(value, ascii_only):
    body = json.dumps({"agent": value}, ensure_ascii=ascii_only).encode()

    assert repr(P._json(body)) == repr(json.loads(body))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 123456789012345678901234567890}', {"a": 123456789012345678901234567890}),
        (b'{"a": -9223372036854775809}', {"a": -9223372036854775809}),
        (b'{"a": 18446744073709551615}', {"a": 18446744073709551615}),
        (b'{"a": 1e400}', {"a": float("inf")}),  # valid JSON that overflows: as json reads it
        (codecs.BOM_UTF8 + b'{"a": 1}', {"a": 1}),
        ('{"a": "\u00e9"}'.encode("utf-16"), {"a": "\u00e9"}),
        (b'{"a": "\xed\xa0\x80"}', {"a": "\ud800"}),  # an encoded lone surrogate: json lets it pass
        (b'{"a": "\\ud800"}', {"a": "\ud800"}),
    ],
)
def test_it_reads_json_that_orjson_reads_differently_as_json_does(body, expected):
    assert repr(P._json(body)) == repr(expected)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_it_refuses_nan_and_infinity_literals_as_malformed(literal):
    with pytest.raises(MalformedError, match="not valid JSON"):
        P.parse_queues(b'{"queue": [{"queue-id": 1, "sla-activity": ' + literal + b"}]}")
    with pytest.raises(MalformedError):
        P.parse_agents(b'{"agent": [{"agent-id": "a", "agent-name": ' + literal + b"}]}")


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
def test_it_refuses_malformed_json_on_the_orjson_path(body):
    with pytest.raises(MalformedError):
        P.parse_agents(body)


def test_it_keeps_integer_and_float_types_from_json():
    queue = P.parse_queues(b'{"queue": [{"queue-id": 1, "queue-size": 3, "sla-activity": 97.5, "x": 2.0}]}')[0]

    assert (queue.queue_size, type(queue.queue_size)) == (3, int)
    assert queue.sla_activity == 97.5
    assert repr(queue.extra) == "{'x': 2.0}"


# --- JSON lists column by column: exactly what the record-by-record path gives -------------------

# A column's values are mostly of one kind, as in real answers, with odd ones now and then.
column_kinds = st.sampled_from([
    st.integers(-3, 3) | st.just(2**40),
    st.sampled_from(["", "  ", " ag1 ", "101", "Zara", "\tx\n"]),
    st.none() | st.integers(0, 9) | st.sampled_from(["", " q1 "]),
    st.none() | st.booleans() | st.floats(-2, 2, allow_nan=False) | st.lists(st.integers(), max_size=1) | st.text(max_size=2),
])


def one_by_one(items, table, cls, key):
    out = []
    for item in items:
        if not item:
            continue
        record = P._fast_json(item, {}, table, cls, key) if isinstance(item, dict) else None
        out.append(record or P._from_json(item, "record", table, cls, key))
    return out


@settings(max_examples=400, deadline=None)
@given(
    names=st.lists(st.sampled_from([*AGENT_NAMES[:12], "agent-id", "AGENT-ID", "unknown-x"]), min_size=1, max_size=6, unique=True),
    count=st.integers(2, 5),
    agents=st.booleans(),
    data=st.data(),
)
def test_it_reads_json_lists_column_by_column_as_record_by_record(names, count, agents, data):
    table, cls, key = (P.AGENT_TABLE, P.Agent, "agent_id") if agents else (P.QUEUE_TABLE, P.Queue, "queue_id")
    if not agents:
        names = [n.replace("agent-id", "queue-id").replace("AGENT-ID", "Queue-Id") for n in names]
    kinds = [data.draw(column_kinds) for _ in names]
    items = [{name: data.draw(kind) for name, kind in zip(names, kinds, strict=True)} for _ in range(count)]
    columnar = P._columns_json(items, table, cls)
    if columnar is not None:  # None: the record-by-record path decides (and explains)
        assert columnar == outcome(one_by_one, items, table, cls, key)


def test_it_reads_the_simulator_answers_column_by_column():
    from wallboard.simulator.model import ContactCenter
    from wallboard.simulator.render import render_stats

    rendered = render_stats(*ContactCenter(seed=3, n_agents=60, n_queues=9).at(1_795_000_000))
    agents = P._unwrap(P._json(rendered.body("agent", "json")), "agents", "agent", "agent-id")
    queues = P._unwrap(P._json(rendered.body("queue", "json")), "queues", "queue", "queue-id")
    assert P._columns_json(agents, P.AGENT_TABLE, P.Agent) == one_by_one(agents, P.AGENT_TABLE, P.Agent, "agent_id")
    assert P._columns_json(queues, P.QUEUE_TABLE, P.Queue) == one_by_one(queues, P.QUEUE_TABLE, P.Queue, "queue_id")
    assert len(P.parse_agents(rendered.body("agent", "json"))) == 60


def test_it_leaves_mixed_layouts_to_the_record_by_record_path():
    items = [{"agent-id": "a", "agent-status": 1}, {"agent-status": 2, "agent-id": "b"}]
    assert P._columns_json(items, P.AGENT_TABLE, P.Agent) is None
    assert [a.agent_id for a in P.parse_agents(json.dumps({"agent": items}).encode())] == ["a", "b"]


@pytest.mark.parametrize("field", ["day-accepted-count", "x-unknown"])
def test_it_reads_integers_beyond_64_bits_exactly_in_lists(field):
    big = 123456789012345678901234
    body = json.dumps({"agent": [{"agent-id": "a", field: big}, {"agent-id": "b", field: 1}]}).encode()
    first = P.parse_agents(body)[0]
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
    body = json.dumps({"agent": items}).encode()
    assert outcome(P.parse_agents, body) is expected
