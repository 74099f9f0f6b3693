"""Wire bodies (XML or JSON) -> normalised records.

Every function takes the raw body as bytes and sniffs the format from its first character, so
a server that ignores the `.json` suffix still works.

XML safety. The policy is defusedxml's `forbid_dtd=True`: entity expansion (billion laughs)
and external entities (XXE) both need a DTD, so a body that declares one is refused as unsafe
and nothing ever expands or fetches an entity. Where a byte search can find every `<!DOCTYPE`
and `<!ENTITY` (ASCII-compatible encodings) that search is the check; everything else
(UTF-16/32, unusual declared encodings) goes through defusedxml itself. A DTD-free body is
then read strictly by one of two parsers, neither of which knows any entity but the five
predefined ones:

* Agent and queue lists in the plain shape every real answer has (flat records of leaf
  elements; no attributes, comments, CDATA or processing instructions; UTF-8) are read by
  `_plain_records`: per-layout regular expressions that match every byte of the body against
  a strict grammar of that subset of XML 1.0, about three times faster than building an
  ElementTree. Anything outside the subset goes to the next parser, never to a guess.
* Everything else goes to the C expat parser of the standard library (no DTD, so no entity
  but the predefined ones; an undefined one is an error), as before.

lxml was measured and not taken: its non-building (SAX) parse of the 3 MB agents body alone
costs 7.5 ms, which leaves no room under the 30 ms budget, and `defusedxml.lxml` is deprecated
(it warns on import). See docs/performance.md, "Parsing".

The vendor's own samples are not well formed (`<day-accepted>10</all-day-accepted>`); only for
that kind of error, and only without any DTD, a small lenient parser takes over (see
`_lenient_xml`).

JSON goes through orjson (about three times faster than `json`) and falls back to `json` for
what orjson reads differently or refuses (integers beyond 64 bits, a UTF-8 BOM, UTF-16/32,
encoded lone surrogates), so the results are those of `json.loads`, except that NaN, Infinity
and -Infinity, which are not JSON, make the answer malformed. A list whose records all have
the same fields in the same order (every real answer) is converted column by column
(`_columns_json`); anything else goes record by record, and tests check that both agree.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any
from xml.etree import ElementTree as etree
from xml.etree.ElementTree import Element, ParseError, SubElement

import defusedxml.ElementTree as safe_etree
import orjson
from defusedxml import DefusedXmlException

from .errors import MalformedError, UnsafeError
from .records import (
    AGENT_FIELDS,
    QUEUE_FIELDS,
    Agent,
    Queue,
    Schedule,
    ScheduleException,
    ScheduleInterval,
    ScheduleNextStatus,
    ScheduleStatus,
    WeekDay,
    parse_status,
)

# ---------------------------------------------------------------------------------------------
# Field tables: wire name -> (attribute, kind, is_alias). Built once at import so the per-field
# work while parsing 2,000 agents is one dict lookup.

STR, ID, INT, INT_NO_DATA = 0, 1, 2, 3

_AGENT_STR = {"agent-name", "status-code-item-id", "status-code-item-short-code", "status-code-list-id"}
_AGENT_ID = {"agent-id", "group-id"}
_AGENT_NO_DATA = {"last-login-time", "time-in-status", "phone-line1-status-time", "phone-line2-status-time"}
_AGENT_ALIASES = {"day-avg-handling-time": "day-avg-processing-time"}

_QUEUE_STR = {"queue-name", "media-type", "queue-type"}
_QUEUE_ID = {"queue-id"}
_QUEUE_NO_DATA = {"day-sla-activity", "sla-activity", "thirty-min-sla-activity", "thirty-min-longest-wait-time"}
_QUEUE_WIRE_NAMES = {
    "agent_count_logged_out": "agent-count-loggedOut",
    "agent_count_on_break": "agent-count-onBreak",
    "agent_count_post_process": "agent-count-postProcess",
    "agent_count_wait_transact": "agent-count-waitTransact",
    "agent_count_work_offline": "agent-count-workOffline",
}


def _field_table(
    attrs: Iterable[str],
    wire_names: dict[str, str],
    strs: set[str],
    ids: set[str],
    no_data: set[str],
    aliases: dict[str, str],
) -> dict[str, tuple[str, int, bool]]:
    """Map every accepted wire name (documented, alias, all-day-*) to its attribute."""
    table: dict[str, tuple[str, int, bool]] = {}
    for attr in attrs:
        wire = wire_names.get(attr, attr.replace("_", "-"))
        kind = STR if wire in strs else ID if wire in ids else INT_NO_DATA if wire in no_data else INT
        table[wire] = (attr, kind, False)
        # Real clients also match these names case-insensitively in JSON; be as lenient.
        table.setdefault(wire.lower(), (attr, kind, False))
    for alias, wire in aliases.items():
        table[alias] = (table[wire][0], table[wire][1], True)
    for wire, (attr, kind, _) in list(table.items()):
        if wire.startswith("day-"):
            table.setdefault("all-" + wire, (attr, kind, True))
    return table


AGENT_TABLE = _field_table(AGENT_FIELDS, {}, _AGENT_STR, _AGENT_ID, _AGENT_NO_DATA, _AGENT_ALIASES)
QUEUE_TABLE = _field_table(QUEUE_FIELDS, _QUEUE_WIRE_NAMES, _QUEUE_STR, _QUEUE_ID, _QUEUE_NO_DATA, {})


# ---------------------------------------------------------------------------------------------
# Public entry points.


def parse_agents(body: bytes) -> list[Agent]:
    """All agents in an /agents or /agent/{id} answer."""
    return _records(body, "agents", "agent", AGENT_TABLE, Agent, "agent_id")


def parse_queues(body: bytes) -> list[Queue]:
    """All queues in a /queues or /queue/{id} answer."""
    return _records(body, "queues", "queue", QUEUE_TABLE, Queue, "queue_id")


def parse_schedules(body: bytes) -> list[Schedule]:
    """All schedules in a /schedules or /schedulesbyname/{name} answer."""
    items = _unwrap(_tree(body), "schedules", "schedule", "id")
    return [_schedule(item) for item in _as_list(items) if item not in (None, "")]


def parse_schedule(body: bytes) -> Schedule:
    """The one schedule of a /schedules/{id} answer."""
    schedules = parse_schedules(body)
    if len(schedules) != 1:
        raise MalformedError(f"expected one schedule, got {len(schedules)}")
    return schedules[0]


def parse_schedule_status(body: bytes) -> ScheduleStatus:
    """A /schedules/{id}/status answer."""
    data = _status_object(_tree(body), "schedule-status")
    return ScheduleStatus(status=_status(data.get("status")))


def parse_schedule_next_status(body: bytes) -> ScheduleNextStatus:
    """A /schedules/{id}/nextstatus answer: now, and what comes next and when."""
    data = _status_object(_tree(body), "schedule-next-status")
    raw_next = _blank_to_none(data.get("next-status"))
    return ScheduleNextStatus(
        status=_status(data.get("status")),
        next_status=None if raw_next is None else _status(raw_next),
        next_change=_epoch_ms(data.get("next-change-utctime")),
    )


# ---------------------------------------------------------------------------------------------
# Bodies -> trees.


def _kind_of(body: bytes) -> str:
    """'xml' or 'json', from the first significant byte; a login page or garbage is malformed."""
    first = body[_LEADING.match(body).end() :][:1]
    if first == b"\x00" or body.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16/32: look at the first character, not the first byte.
        head = body[:64].decode(json.detect_encoding(body), errors="ignore")
        first = head.lstrip("\ufeff \t\r\n")[:1].encode()
    if first == b"<":
        return "xml"
    if first in (b"{", b"["):
        return "json"
    if not first:
        raise MalformedError("the answer is empty")
    raise MalformedError("the answer is neither XML nor JSON")


_LEADING = re.compile(rb"(?:\xef\xbb\xbf)?\s*")


def _json(body: bytes) -> Any:
    """JSON as `json.loads` reads it, through orjson where that gives the same result.

    orjson reads integers beyond 64 bits as floats, so a body with a run of 19 digits (a
    cheap, over-cautious test: it also trips on long digit strings) goes to `json`, as does
    anything orjson refuses; `json` then decides, and NaN/Infinity literals are malformed.
    """
    if not body.startswith(codecs.BOM_UTF8) and _LONG_INT not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # json.loads accepts a little more (lone surrogates, UTF-16) or explains
    try:
        return json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        raise MalformedError(f"not valid JSON ({exc})") from None


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_INT = b"0" * 19  # -(2**63) - 1 has 19 digits; orjson reads every shorter integer exactly


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _xml(body: bytes) -> Element:
    """Strict, safe XML; the lenient parser only for the vendor's mismatched closing tags.

    Entity expansion (billion laughs) and external entities both need a DTD. A body that
    declares none, in an ASCII-compatible encoding where a byte search cannot miss one, goes
    to the C expat parser: with no DTD it can only know the five predefined entities and fails
    on any other. Everything else goes through defusedxml with DTDs forbidden, which is as safe
    but runs on the pure-Python parser, twice as slow on 2,000 agents.
    """
    try:
        if _dtd_free(body):
            return etree.fromstring(body)
        return safe_etree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnsafeError(f"the XML declares a DTD or entities ({type(exc).__name__})") from None
    except ParseError as exc:
        if getattr(exc, "code", None) != _MISMATCH:
            raise MalformedError(f"not well-formed XML ({exc})") from None
    return _lenient_xml(body)


_ASCII_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}


def _dtd_free(body: bytes) -> bool:
    """True if the body surely has no DTD: ASCII-compatible and no <!DOCTYPE / <!ENTITY bytes."""
    head = body[:4]
    if b"\x00" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16/32: markup is not findable as ASCII bytes
    declared = _DECLARED_ENCODING.match(body.lstrip(b"\xef\xbb\xbf \t\r\n"))
    if declared and declared.group(1).decode("ascii").lower() not in _ASCII_ENCODINGS:
        return False
    if b"!" not in body:  # one memchr; searching for "<!" is slow where every other byte is "<"
        return True
    return b"<!DOCTYPE" not in body and b"<!ENTITY" not in body


def _tree(body: bytes) -> Any:
    """Any body as plain JSON-like data (XML elements become dicts/lists/strings)."""
    if _kind_of(body) == "json":
        return _json(body)
    root = _xml(body)
    return {root.tag: _xml_value(root)}


def _xml_value(el: Element) -> Any:
    """An element as JSON-like data: text (None if empty) or a dict; repeated tags -> lists."""
    if len(el) == 0:
        text = el.text
        return text.strip() or None if text else None
    out: dict[str, Any] = {}
    for child in el:
        value = _xml_value(child)
        if child.tag in out:
            previous = out[child.tag]
            if isinstance(previous, _Many):
                previous.append(value)
            else:
                out[child.tag] = _Many((previous, value))
        else:
            out[child.tag] = value
    return out


class _Many(list):
    """Repeated XML elements: a list that _xml_value can tell from a scalar."""


# ---------------------------------------------------------------------------------------------
# The lenient XML path.

_MISMATCH = 7  # pyexpat.errors.XML_ERROR_TAG_MISMATCH
_MARKUP = re.compile(r"<!--.*?-->|<!\[CDATA\[(.*?)\]\]>|<\?.*?\?>|<([^<>]*)>", re.S)
_TAG = re.compile(r"\s*(/)?\s*([^\s/>]+)[^>]*?(/)?\s*\Z", re.S)
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*encoding\s*=\s*['\"]([A-Za-z0-9._-]+)['\"]")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.I)


def _lenient_xml(body: bytes) -> Element:
    """Parse XML whose leaf elements close with the wrong name, as in the vendor's samples.

    A leaf (an element with text only) takes its opening tag's name whatever closes it. Every
    element with children must be closed by its own name and the root must be closed, so an
    answer cut off mid-way is malformed, never a partial list. Closing tags after the root
    (`</agents></groups>`) are ignored.
    """
    text = _decode(body)
    if _DTD.search(text):
        raise UnsafeError("the XML declares a DTD or entities")
    stack: list[Element] = []
    root: Element | None = None
    pos = 0
    for match in _MARKUP.finditer(text):
        _lenient_text(text[pos : match.start()], stack, root)
        pos = match.end()
        if match.group(1) is not None:
            _lenient_text(match.group(1), stack, root, escaped=False)
            continue
        markup = match.group(2)
        if markup is None:
            continue  # a comment or processing instruction
        tag = _TAG.match(markup)
        if tag is None or markup.startswith("!"):
            raise MalformedError(f"unreadable XML markup <{markup[:40]}>")
        closing, name, empty = tag.groups()
        if closing:
            root = _lenient_close(name, stack, root)
        elif root is not None and not stack:
            raise MalformedError(f"XML content after the root element (<{name}>)")
        else:
            element = Element(name)
            if stack:
                stack[-1].append(element)
            if empty:
                root = root if stack else element
            else:
                stack.append(element)
                root = root if len(stack) > 1 else element
    _lenient_text(text[pos:], stack, root)
    if root is None or stack:
        raise MalformedError("the XML answer is incomplete (an element is never closed)")
    return root


def _lenient_close(name: str, stack: list[Element], root: Element | None) -> Element | None:
    """Close the open element for </name>; see _lenient_xml for the rules."""
    if not stack:
        if root is None:
            raise MalformedError(f"XML closing tag </{name}> before any element")
        return root  # a stray closing tag after the root, as in the vendor's agents sample
    top = stack[-1]
    if top.tag != name:
        leaf = len(top) == 0
        if not leaf or any(el.tag == name for el in stack[:-1]):
            raise MalformedError(f"the XML element <{top.tag}> is never closed")
    stack.pop()
    return root


def _lenient_text(chunk: str, stack: list[Element], root: Element | None, escaped: bool = True) -> None:
    if not chunk:
        return
    if escaped and "<" in chunk:
        raise MalformedError("the XML answer is incomplete (a tag is cut off)")
    if escaped and "&" in chunk:
        chunk = _unescape(chunk)
    if not stack:
        if chunk.strip():
            raise MalformedError("text outside the XML root element")
        return
    top = stack[-1]
    top.text = (top.text or "") + chunk


def _unescape(chunk: str) -> str:
    if chunk.count("&") != len(_ENTITY.findall(chunk)):
        raise MalformedError("undefined XML entity")

    def one(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref[0] != "#":
            return _NAMED[ref]
        try:
            return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))
        except (ValueError, OverflowError):
            raise MalformedError("bad XML character reference") from None

    return _ENTITY.sub(one, chunk)


def _decode(body: bytes) -> str:
    if body.startswith(codecs.BOM_UTF8):
        body = body[3:]
    declared = _DECLARED_ENCODING.match(body.lstrip())
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    if b"\x00" in body[:4] or body.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = json.detect_encoding(body)  # UTF-16/32, told apart by BOM or NUL pattern
    try:
        return body.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise MalformedError(f"cannot decode the XML answer ({exc})") from None


# ---------------------------------------------------------------------------------------------
# Agents and queues.

Table = dict[str, tuple[str, int, bool]]


def _records(body: bytes, plural: str, singular: str, table: Table, cls: Callable[..., Any], key: str) -> list[Any]:
    plans: dict[tuple[str, ...], _Plan] = {}
    if _kind_of(body) == "json":
        columnar = _columns_orjson(body, plural, singular, table, cls, key)
        if columnar is not None:
            return columnar
        items = _as_list(_unwrap(_json(body), plural, singular, key.replace("_", "-")))
        out = []
        for item in items:
            if not item:
                continue
            record = _fast_json(item, plans, table, cls, key) if isinstance(item, dict) else None
            out.append(record or _from_json(item, singular, table, cls, key))
        return out
    records = _plain_records(body, plural, singular, plans, table, cls, key)
    if records is not None:
        return records
    return _tree_records(body, plural, singular, plans, table, cls, key)


def _tree_records(
    body: bytes, plural: str, singular: str, plans: dict[tuple[str, ...], _Plan], table: Table, cls: Any, key: str
) -> list[Any]:
    """Agents or queues from any XML body, through an ElementTree (see _xml)."""
    root = _xml(body)
    if root.tag == singular:
        elements: Iterable[Element] = (root,)
    elif root.tag == plural:
        elements = root.iterfind(singular)
    else:
        raise MalformedError(f"expected <{plural}> or <{singular}>, got <{root.tag}>")
    out = []
    for el in elements:
        if len(el):  # an element without children is the documents' "…" placeholder
            record = _fast_xml(el, plans, table, cls, key)
            out.append(record or _from_xml(el, singular, table, cls, key))
    return out


# The plain XML path. Real answers are one list element of flat records, each a run of leaf
# elements (`<agent-id>ag1</agent-id>`, `<status-code-item-id/>`) with nothing but white space
# between them. For that shape a regular expression per record layout reads a whole record in
# one C-level match, and the expressions together with _plain_bytes are a complete, strict
# grammar of that subset of XML 1.0: every byte of the body is matched (prolog, root, records,
# fields, closing tags by name), text may hold only XML characters and the predefined or
# numeric references, and no DTD can be there. A body outside the subset (attributes,
# comments, CDATA, processing instructions, nested fields, an unusual declaration or encoding)
# is never guessed at: _plain_records gives up and the body goes through _tree_records, whose
# parser decides. tests/test_vcc_parse_speed_paths.py checks with hypothesis that the two
# paths agree, on records and on refusals, for bodies in and near the subset.

_WS = rb"[ \t\n]*+"  # XML white space once line ends are normalised
_NAME = rb"[A-Za-z_][A-Za-z0-9._-]*+"  # ASCII names without a namespace prefix
_EQ = rb"[ \t\n]*+=[ \t\n]*+"
_PROLOG = re.compile(  # XML 1.0 [23] XMLDecl, with UTF-8 the only encoding it may declare
    rb"(?:<\?xml[ \t\n]++version" + _EQ + rb"(?:\"1\.0\"|'1\.0')"
    rb"(?:[ \t\n]++encoding" + _EQ + rb"(?:\"[Uu][Tt][Ff]-8\"|'[Uu][Tt][Ff]-8'))?"
    rb"(?:[ \t\n]++standalone" + _EQ + rb"(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
    rb"[ \t\n]*+\?>)?" + _WS
)
_TEXT = rb"([^<\x00-\x08\x0b\x0c\x0e-\x1f]*+)"  # XML 1.0 [2] Char, as far as one byte tells
_FIELD = re.compile(_WS + b"<(" + _NAME + b")(?:>" + _TEXT + rb"</\1>|/>)")
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_LAYOUTS = 8  # per body: more is not an ordinary answer, and each costs a compile
_LAYOUTS: dict[tuple[str, tuple[str, ...]], re.Pattern[bytes]] = {}


class _Shape:
    """The fixed expressions of one list (`agents` of `agent`, `queues` of `queue`)."""

    def __init__(self, plural: str, singular: str):
        p, s = re.escape(plural.encode()), re.escape(singular.encode())
        self.singular = singular
        self.list_open = re.compile(b"<" + p + b">")
        self.list_empty = re.compile(b"<" + p + b"/>" + _WS + rb"\Z")
        self.list_end = re.compile(_WS + b"</" + p + b">" + _WS + rb"\Z")
        self.item_open = re.compile(_WS + b"<" + s + b">")
        self.item_close = re.compile(_WS + b"</" + s + b">")
        self.placeholder = re.compile(_WS + b"<" + s + b"(?:/>|>" + _TEXT + b"</" + s + b">)")
        self.rest = re.compile(_WS + rb"\Z")


_SHAPES = {
    (plural, singular): _Shape(plural, singular) for plural, singular in (("agents", "agent"), ("queues", "queue"))
}


def _plain_records(
    body: bytes, plural: str, singular: str, plans: dict[tuple[str, ...], _Plan], table: Table, cls: Any, key: str
) -> list[Any] | None:
    """The records of a plain, well-formed, DTD-free body; None if the body is anything else."""
    data = _plain_bytes(body)
    if data is None:
        return None
    shape = _SHAPES[(plural, singular)]
    pos = _PROLOG.match(data).end()
    try:
        if shape.list_empty.match(data, pos):
            return []
        if opened := shape.list_open.match(data, pos):
            return _plain_items(data, opened.end(), shape, False, plans, table, cls, key)
        return _plain_items(data, pos, shape, True, plans, table, cls, key)
    except (MalformedError, UnicodeError):
        return None  # _tree_records parses it again and says what is wrong


def _plain_bytes(body: bytes) -> bytes | None:
    """The body if it may be plain: DTD-free UTF-8 of XML characters only; line ends normalised.

    What the per-layout expressions cannot see is checked here for the whole body at once:
    valid UTF-8, no U+FFFE or U+FFFF, no `]]>` in text. The expressions refuse the C0
    controls XML forbids (_TEXT); a declared encoding other than UTF-8 fails _PROLOG.
    """
    if not _dtd_free(body):
        return None
    if body.startswith(codecs.BOM_UTF8):
        body = body[3:]
    if b"]" in body and b"]]>" in body:
        return None
    if not body.isascii():
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "\ufffe" in text or "\uffff" in text:
            return None
    if b"\r" in body:  # XML 1.0 section 2.11, as every parser does before anything else
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return body


def _plain_items(
    data: bytes,
    pos: int,
    shape: _Shape,
    single: bool,
    plans: dict[tuple[str, ...], _Plan],
    table: Table,
    cls: Any,
    key: str,
) -> list[Any] | None:
    """The records from `pos` to the end of the list (or of the one record, if `single`)."""
    out: list[Any] = []
    rx: re.Pattern[bytes] | None = None
    plan: _Plan | None = None
    tags: tuple[str, ...] = ()
    layouts: list[tuple[re.Pattern[bytes], _Plan, tuple[str, ...]]] = []  # seen in this body, latest first
    entities = b"&" in data
    while True:
        match = rx.match(data, pos) if rx is not None else None
        if match is None:
            if not single and shape.list_end.match(data, pos):
                return out
            for layout in layouts:  # e.g. queues alternating day-* and all-day-* names
                if match := layout[0].match(data, pos):
                    rx, plan, tags = layout
                    break
        if match is None:
            placeholder = shape.placeholder.match(data, pos)
            if placeholder is not None:  # the documents' "…" record, or an empty one
                if entities and placeholder.group(1) and b"&" in placeholder.group(1):
                    _plain_unescape(placeholder.group(1))  # only to refuse a bad reference
                pos = placeholder.end()
            else:
                found = _layout(data, pos, shape) if len(layouts) < _MAX_LAYOUTS else None
                if found is None:
                    return None
                rx, tags = found
                plan = _plan_for(tags, plans, table, cls, False)
                layouts.insert(0, (rx, plan, tags))
                match = rx.match(data, pos)
        if match is not None:
            pos = match.end()
            texts = match.groups()
            if entities and data.find(b"&", match.start(), pos) >= 0:
                texts = tuple(_plain_unescape(t) if t and b"&" in t else t for t in texts)
            record = _fast_plain(plan, texts, cls)  # type: ignore[arg-type]
            if record is None:
                record = _from_xml(_leaves(shape.singular, tags, texts), shape.singular, table, cls, key)
            out.append(record)
        if single:
            return out if shape.rest.match(data, pos) else None


def _plain_unescape(text: bytes) -> bytes:
    """Text with its references replaced; a reference to a character XML forbids is an error."""
    unescaped = _unescape(text.decode())
    if _NOT_XML_CHAR.search(unescaped):
        raise MalformedError("a character reference to a character XML does not allow")
    return unescaped.encode()


def _layout(data: bytes, pos: int, shape: _Shape) -> tuple[re.Pattern[bytes], tuple[str, ...]] | None:
    """The expression for records laid out as the one at `pos`, and its field names."""
    opened = shape.item_open.match(data, pos)
    if opened is None:
        return None
    pos = opened.end()
    names = []
    while field := _FIELD.match(data, pos):
        names.append(field.group(1).decode("ascii"))
        pos = field.end()
    if not names or shape.item_close.match(data, pos) is None:
        return None
    tags = tuple(names)
    rx = _LAYOUTS.get((shape.singular, tags))
    if rx is None:
        s = re.escape(shape.singular.encode())
        fields = b"".join(
            _WS + b"<" + n + b"(?:>" + _TEXT + b"</" + n + b">|/>)" for n in (re.escape(t.encode()) for t in tags)
        )
        rx = re.compile(_WS + b"<" + s + b">" + fields + _WS + b"</" + s + b">")
        if len(_LAYOUTS) >= 64:
            _LAYOUTS.clear()
        _LAYOUTS[(shape.singular, tags)] = rx
    return rx, tags


def _fast_plain(plan: _Plan, texts: tuple[bytes | None, ...], cls: Any) -> Any:
    """_fast_xml for the texts of a plain record (None for a self-closed element)."""
    if not plan.ok:
        return None
    try:
        converted = [
            *[t.decode().strip() or None if t else None for t in plan.strs(texts)],
            *map(int, plan.ints(texts)),
            None,
        ]
    except (TypeError, ValueError):
        return None
    for i in plan.no_data:  # _finish, inlined: this runs 2,000 times per answer
        if converted[i] == -1:
            converted[i] = None
    args = plan.reorder(converted)
    if args[0] is None:
        return None
    if not plan.extra:
        return cls(*args)
    return cls(*args, {name: _leaf(texts[pos]) for name, pos in plan.extra})


def _leaf(text: bytes | None) -> str | None:
    """What _xml_value gives for a leaf element with this text."""
    return text.decode().strip() or None if text else None


def _leaves(tag: str, tags: tuple[str, ...], texts: tuple[bytes | None, ...]) -> Element:
    """The element a plain record parses to, for the field-by-field path and its messages."""
    el = Element(tag)
    for name, value in zip(tags, texts, strict=True):
        SubElement(el, name).text = value.decode() if value else None  # `<a></a>` has no text in ET either
    return el


# The fast path. Every record in one answer has the same fields in the same order, so the
# field-by-field decisions (which attribute, which conversion, alias or not) are made once
# per layout into a _Plan, and each record is then converted with a few C-level calls. Any
# surprise (an empty number, a fraction, a string in JSON where a number belongs, a missing
# id) returns None and the record goes through the field-by-field path, which has the same
# results and the precise error messages. tests/test_vcc_fastpath.py checks they agree.

_TAGS = attrgetter("tag")
_TEXTS = attrgetter("text")
_INT_ONLY = {int}
_STR_ONLY = {str}
_TEXT_TYPES = {str, int, type(None)}  # what a text field may hold in JSON (ids may be numbers)
_ORDER = {Agent: AGENT_FIELDS, Queue: QUEUE_FIELDS}


class _Plan:
    """How to turn one record layout (its field names in order) into constructor arguments.

    A record becomes `converted` = [str fields..., int fields..., None], and one itemgetter
    (`reorder`) puts those in the dataclass's field order; fields the layout lacks point at
    the trailing None.
    """

    __slots__ = ("strs", "ints", "no_data", "reorder", "extra", "ok", "str_pos", "int_pos", "slots")

    def __init__(self, names: tuple[str, ...], table: Table, order: tuple[str, ...], lower: bool):
        chosen: dict[str, tuple[int, int]] = {}
        extra: list[tuple[str, int]] = []
        for pos, name in enumerate(names):
            spec = table.get(name) or (table.get(name.lower()) if lower else None)
            if spec is None:
                extra.append((name, pos))
            elif not (spec[2] and spec[0] in chosen):  # same rule as the slow path
                chosen[spec[0]] = (pos, spec[1])
        strs = [(attr, pos) for attr, (pos, kind) in chosen.items() if kind < INT]
        ints = [(attr, pos, kind) for attr, (pos, kind) in chosen.items() if kind >= INT]
        self.strs = _getter([pos for _, pos in strs])
        self.ints = _getter([pos for _, pos, _ in ints])
        self.no_data = tuple(len(strs) + i for i, (_, _, kind) in enumerate(ints) if kind == INT_NO_DATA)
        slot = {attr: i for i, (attr, _) in enumerate(strs)}
        slot.update((attr, len(strs) + i) for i, (attr, _, _) in enumerate(ints))
        missing = len(strs) + len(ints)
        self.slots = [slot.get(attr, missing) for attr in order]
        self.reorder = _getter(self.slots)
        self.str_pos = [pos for _, pos in strs]
        self.int_pos = [pos for _, pos, _ in ints]
        self.extra = tuple(extra)
        # The id is the first field of every record class; without it the slow path explains.
        self.ok = order[0] in chosen and len(set(names)) == len(names)


def _getter(positions: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """itemgetter that always returns a tuple, even for zero or one position."""
    if len(positions) > 1:
        return itemgetter(*positions)
    if positions:
        only = positions[0]
        return lambda values: (values[only],)
    return lambda values: ()


def _plan_for(
    names: tuple[str, ...], plans: dict[tuple[str, ...], _Plan], table: Table, cls: Any, lower: bool
) -> _Plan:
    plan = plans.get(names)
    if plan is None:
        plan = plans[names] = _Plan(names, table, _ORDER[cls], lower)
    return plan


def _fast_xml(el: Element, plans: dict[tuple[str, ...], _Plan], table: Table, cls: Callable[..., Any], key: str) -> Any:
    plan = _plan_for(tuple(map(_TAGS, el)), plans, table, cls, False)
    if not plan.ok:
        return None
    texts = list(map(_TEXTS, el))
    try:
        converted = [*[t.strip() or None if t else None for t in plan.strs(texts)], *map(int, plan.ints(texts)), None]
    except (TypeError, ValueError):
        return None
    return _finish(plan, converted, cls, el, True)


def _fast_json(
    item: dict[str, Any], plans: dict[tuple[str, ...], _Plan], table: Table, cls: Callable[..., Any], key: str
) -> Any:
    names = tuple(item)
    plan = plans.get(names) or _plan_for(names, plans, table, cls, True)
    if not plan.ok:
        return None
    raw = list(item.values())
    ints = plan.ints(raw)
    if not set(map(type, ints)) <= _INT_ONLY:
        return None
    values = plan.strs(raw)
    kinds = set(map(type, values))
    if kinds <= _STR_ONLY:  # the usual record: every text field a string
        strs = [value.strip() or None for value in values]
    elif kinds <= _TEXT_TYPES:
        strs = [_text_value(value) for value in values]
    else:
        return None
    return _finish(plan, [*strs, *ints, None], cls, raw, False)


_PLAIN_TYPES = {str, int, bool, type(None)}


def _columns_orjson(
    body: bytes, plural: str, singular: str, table: Table, cls: Callable[..., Any], key: str
) -> list[Any] | None:
    """The usual answer, read straight through orjson and column by column; else None.

    _json first scans the whole body for integers orjson would read as floats; here that scan
    is not needed: the columns accept no float at all (an integer beyond 64 bits would have
    become one), so whatever they accept is exactly what `json.loads` would have given.
    """
    if body.startswith(codecs.BOM_UTF8):
        return None
    try:
        items = _as_list(_unwrap(orjson.loads(body), plural, singular, key.replace("_", "-")))
    except (orjson.JSONDecodeError, MalformedError):
        return None  # the general path reads it again and decides, with its own error
    return _columns_json(items, table, cls) if len(items) > 1 else None


def _columns_json(items: list[Any], table: Table, cls: Callable[..., Any]) -> list[Any] | None:
    """Every record at once, column by column, when all have the same fields in the same order.

    A real answer is thousands of records with the same fields, so the checks and conversions
    run once per field over all records (in C where they can) rather than once per value.
    Anything unusual (another layout, a value of another type, a missing id) gives None and
    the record-by-record path decides, with its errors.
    """
    if set(map(type, items)) != {dict}:
        return None
    names = tuple(items[0])
    if not names or not all(map(names.__eq__, map(tuple, items))):
        return None
    plan = _Plan(names, table, _ORDER[cls], True)
    if not plan.ok:
        return None
    values = list(zip(*map(dict.values, items), strict=True))  # a tuple per field, in order
    columns: list[Any] = []
    for pos in plan.str_pos:
        column = values[pos]
        kinds = set(map(type, column))
        if kinds <= _STR_ONLY:
            column = list(map(str.strip, column))
            if "" in column:
                column = [value or None for value in column]
        elif kinds <= _TEXT_TYPES:
            column = [_text_value(value) for value in column]
        else:
            return None
        columns.append(column)
    id_slot = plan.slots[0]
    if id_slot >= len(columns) or None in columns[id_slot]:
        return None  # a record without its id: the record-by-record path explains
    for slot, pos in enumerate(plan.int_pos, start=len(columns)):
        column = values[pos]
        if not set(map(type, column)) <= _INT_ONLY:
            return None
        if slot in plan.no_data and -1 in column:
            column = [None if value == -1 else value for value in column]
        columns.append(column)
    columns.append([None] * len(items))
    ordered = [columns[slot] for slot in plan.slots]
    if plan.extra:
        extras = [{name: item[name] for name, _ in plan.extra} for item in items]
        if not set(map(type, chain.from_iterable(map(dict.values, extras)))) <= _PLAIN_TYPES:
            return None  # nested or float extras: the general path reads them as json does
        ordered.append(extras)
    return list(map(cls, *ordered))


def _text_value(value: Any) -> str | None:
    if type(value) is str:
        return value.strip() or None
    return None if value is None else str(value)


def _finish(plan: _Plan, converted: list[Any], cls: Callable[..., Any], source: Any, xml: bool) -> Any:
    for i in plan.no_data:
        if converted[i] == -1:
            converted[i] = None
    args = plan.reorder(converted)
    if args[0] is None:
        return None
    if not plan.extra:
        return cls(*args)
    if xml:
        extra = {name: _xml_value(source[pos]) for name, pos in plan.extra}
    else:
        extra = {name: source[pos] for name, pos in plan.extra}
    return cls(*args, extra)


def _from_xml(el: Element, what: str, table: Table, cls: Callable[..., Any], key: str) -> Any:
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    get = table.get
    for child in el:
        spec = get(child.tag)
        if spec is None:
            extra[child.tag] = _xml_value(child)
            continue
        attr, kind, alias = spec
        if alias and attr in values:
            continue  # the documented name wins over an alias, whatever the order
        text = child.text
        if kind >= INT:
            try:
                value = int(text)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = _number(text, what, child.tag)
            if value == -1 and kind == INT_NO_DATA:
                value = None
        else:
            value = text.strip() or None if text else None
        values[attr] = value
    return _make(cls, values, extra, what, key)


def _from_json(item: Any, what: str, table: Table, cls: Callable[..., Any], key: str) -> Any:
    if not isinstance(item, dict):
        raise MalformedError(f"expected a JSON object for each {what}, got {type(item).__name__}")
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    get = table.get
    for name, raw in item.items():
        spec = get(name) or get(name.lower())
        if spec is None:
            extra[name] = raw
            continue
        attr, kind, alias = spec
        if alias and attr in values:
            continue
        if kind >= INT:
            value = raw if type(raw) is int else _number(raw, what, name)
            if value == -1 and kind == INT_NO_DATA:
                value = None
        elif raw is None or isinstance(raw, str | int | float) and not isinstance(raw, bool):
            value = str(raw).strip() or None if raw is not None else None
        else:
            raise MalformedError(f"{what} field {name} is not a plain value")
        values[attr] = value
    return _make(cls, values, extra, what, key)


def _make(cls: Callable[..., Any], values: dict[str, Any], extra: dict[str, Any], what: str, key: str) -> Any:
    if values.get(key) is None:
        raise MalformedError(f"a {what} without its {key.replace('_', '-')}")
    if extra:
        values["extra"] = extra
    return cls(**values)


def _number(raw: Any, what: str, name: str) -> int | float | None:
    """The slow path of integer fields: empty, padded, fractional or not a number at all."""
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        try:
            raw = float(text)
        except ValueError:
            raise MalformedError(f"{what} field {name} is not a number: {text[:40]!r}") from None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw or raw in (float("inf"), float("-inf")):
        raise MalformedError(f"{what} field {name} is not a number: {str(raw)[:40]!r}")
    # Percentages may be fractional; everything integral becomes an int.
    return int(raw) if float(raw).is_integer() else raw


# ---------------------------------------------------------------------------------------------
# Schedules.

_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# Day numbers as the schedule engine reads them: 0 = Sunday ... 6 = Saturday.
_DAY_NAMES = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_CLOCK = re.compile(r"(\d{1,2}):(\d{1,2})(?::\d{1,2})?")


def _unwrap(data: Any, plural: str, singular: str, id_key: str) -> Any:
    """Dig the items out of {"plural": {"singular": [...]}} and its looser variants."""
    if isinstance(data, dict) and plural in data:
        data = data[plural]
    if isinstance(data, dict):
        if singular in data:
            return data[singular]
        if id_key in data:
            return data  # a bare record
        if data:
            raise MalformedError(f"expected {plural}, got {', '.join(sorted(map(str, data))[:5])}")
        return []
    if data is None or data == "" or isinstance(data, list):
        return data or []
    raise MalformedError(f"expected a list of {plural}")


def _as_list(value: Any) -> list[Any]:
    """A JSON object (or a lone XML element) where a list is expected is a list of one."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


def _blank_to_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _text(value: Any, what: str) -> str | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, dict | list) or isinstance(value, bool):
        raise MalformedError(f"{what} is not a plain value")
    return str(value).strip()


def _status(value: Any) -> int:
    try:
        return parse_status(value)
    except ValueError as exc:
        raise MalformedError(str(exc)) from None


def _status_object(data: Any, wrapper: str) -> dict[str, Any]:
    if isinstance(data, dict) and wrapper in data:
        data = data[wrapper]
    if not isinstance(data, dict) or "status" not in data:
        raise MalformedError(f"expected {wrapper} with a status")
    return data


def _epoch_ms(value: Any) -> datetime | None:
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        ms = int(str(value).strip())
    except ValueError:
        raise MalformedError(f"next-change-utctime is not epoch milliseconds: {str(value)[:40]!r}") from None
    if ms < 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedError(f"next-change-utctime is out of range: {ms}") from None


def _schedule(item: Any) -> Schedule:
    if not isinstance(item, dict):
        raise MalformedError("expected a schedule object")
    known = {"id", "name", "time-zone", "week-days", "exceptions"}
    schedule_id = _text(item.get("id"), "schedule id")
    if schedule_id is None:
        raise MalformedError("a schedule without its id")
    return Schedule(
        id=schedule_id,
        name=_text(item.get("name"), "schedule name"),
        time_zone=_text(item.get("time-zone"), "schedule time-zone"),
        week_days=[_week_day(d) for d in _as_list(_inner(item.get("week-days"), "week-day"))],
        exceptions=[_exception(e) for e in _as_list(_inner(item.get("exceptions"), "exception"))],
        extra={k: v for k, v in item.items() if k not in known},
    )


def _inner(value: Any, singular: str) -> Any:
    """`{"week-day": [...]}` -> the list; a bare list or object passes through."""
    if isinstance(value, dict) and set(value) == {singular}:
        return value[singular]
    if isinstance(value, dict) and not value:
        return None
    return value


def _week_day(item: Any) -> WeekDay:
    if not isinstance(item, dict):
        raise MalformedError("expected a week-day object")
    day = _blank_to_none(item.get("day"))
    text = str(day).strip().lower()
    number = _DAY_NAMES.get(text[:3]) if text.isalpha() else None
    if number is None:
        try:
            number = int(text)
        except ValueError:
            raise MalformedError(f"week-day day is not a day: {str(day)[:40]!r}") from None
    return WeekDay(day=number, properties=_intervals(item.get("properties")))


def _exception(item: Any) -> ScheduleException:
    if not isinstance(item, dict):
        raise MalformedError("expected an exception object")
    return ScheduleException(
        name=_text(item.get("name"), "exception name"),
        date=_date(item.get("date")),
        properties=_intervals(item.get("properties")),
    )


def _intervals(value: Any) -> list[ScheduleInterval]:
    out = []
    for item in _as_list(value):
        if not isinstance(item, dict):
            raise MalformedError("expected schedule properties with status, start-time, end-time")
        out.append(
            ScheduleInterval(
                status=_status(item.get("status")),
                start_time=_clock(item.get("start-time")),
                end_time=_clock(item.get("end-time")),
            )
        )
    return out


def _clock(value: Any) -> str | None:
    """HH:MM, zero-padded so the engine and the UI compare like with like."""
    text = _text(value, "schedule time")
    if text is None:
        return None
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise MalformedError(f"not a time of day: {text[:40]!r}")
    return f"{int(match.group(1)):02d}:{int(match.group(2)):02d}"


def _date(value: Any) -> str:
    """YYYY-MM-DD from YYYY-MM-DD or MM/DD/YYYY."""
    text = _text(value, "exception date")
    if text is None:
        raise MalformedError("a schedule exception without its date")
    iso = _DATE_ISO.fullmatch(text)
    us = _DATE_US.fullmatch(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif us:
        month, day, year = (int(g) for g in us.groups())
    else:
        raise MalformedError(f"not a date: {text[:40]!r}")
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        raise MalformedError(f"not a date: {text[:40]!r}") from None
