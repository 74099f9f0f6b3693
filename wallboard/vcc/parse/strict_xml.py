"""The plain-XML fast path: agent and queue lists read by a strict grammar, without a tree.

Real answers are one list element of flat records, each a run of leaf elements
(`<agent-id>ag1</agent-id>`, `<status-code-item-id/>`) with nothing but white space between
them. For that shape a regular expression per record layout reads a whole record in one
C-level match, about three times faster than building an ElementTree, and the expressions
together with `_plain_bytes` are a complete, strict grammar of that subset of XML 1.0: every
byte of the body is matched (prolog, root, records, fields, closing tags by name), text may
hold only XML characters and the predefined or numeric references, and no DTD can be there.

A body outside the subset (attributes, comments, CDATA, processing instructions, nested
fields, an unusual declaration or encoding) is never guessed at: `records` gives up and the
body goes to the element-tree path, whose parser decides. Tests check that both paths agree,
on records and on refusals, for bodies in and near the subset.

lxml was measured and not taken: its non-building (SAX) parse of the 3 MB agents body alone
costs 7.5 ms, which leaves no room under the 30 ms budget, and `defusedxml.lxml` is deprecated
(it warns on import). See docs/performance.md, "Parsing".
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

from ..errors import MalformedError
from .columns import CHUNK, all_read, assemble, by_layout
from .fields import AGENTS, QUEUES, R, RecordType, ints, texts
from .lenient_xml import unescape
from .plans import Plan, careful, fast_xml, plan_for
from .sniff import dtd_free

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

Groups = Sequence[bytes | None]  # a record's field texts as matched; None for `<x/>`
Layout = tuple[re.Pattern[bytes], Plan[R]]


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


_SHAPES = {rt.singular: _Shape(rt.plural, rt.singular) for rt in (AGENTS, QUEUES)}


def records(body: bytes, rt: RecordType[R]) -> list[R] | None:
    """The records of a plain, well-formed, DTD-free body; None if the body is anything else."""
    data = _plain_bytes(body)
    if data is None:
        return None
    shape = _SHAPES[rt.singular]
    prolog = _PROLOG.match(data)
    pos = prolog.end() if prolog else 0
    try:
        if shape.list_empty.match(data, pos):
            return []
        if opened := shape.list_open.match(data, pos):
            return _items(data, opened.end(), shape, rt, single=False)
        return _items(data, pos, shape, rt, single=True)
    except (MalformedError, UnicodeError):
        return None  # the tree path parses it again and says what is wrong


def _plain_bytes(body: bytes) -> bytes | None:
    """The body if it may be plain: DTD-free UTF-8 of XML characters only; line ends normalised.

    What the per-layout expressions cannot see is checked here for the whole body at once:
    valid UTF-8, no U+FFFE or U+FFFF, no `]]>` in text. The expressions refuse the C0
    controls XML forbids (_TEXT); a declared encoding other than UTF-8 fails _PROLOG.
    """
    if not dtd_free(body):
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


def _items(data: bytes, pos: int, shape: _Shape, rt: RecordType[R], single: bool) -> list[R] | None:
    """The records from `pos` to the end of the list (or of the one record, if `single`)."""
    out: list[R] = []
    rows: list[tuple[Plan[R], Groups]] = []
    layout: Layout[R] | None = None
    layouts: list[Layout[R]] = []  # seen in this body, latest first
    entities = b"&" in data
    while True:
        match = layout[0].match(data, pos) if layout is not None else None
        if match is None:
            if not single and shape.list_end.match(data, pos):
                return out + by_layout(rows, _convert)
            for seen in layouts:  # e.g. queues alternating day-* and all-day-* names
                if match := seen[0].match(data, pos):
                    layout = seen
                    break
        if match is None:
            placeholder = shape.placeholder.match(data, pos)
            if placeholder is not None:  # the documents' "…" record, or an empty one
                if entities and placeholder.group(1) and b"&" in placeholder.group(1):
                    _unescape(placeholder.group(1))  # only to refuse a bad reference
                pos = placeholder.end()
            else:
                layout = _layout(data, pos, shape, rt) if len(layouts) < _MAX_LAYOUTS else None
                if layout is None:
                    return None
                layouts.insert(0, layout)
                match = layout[0].match(data, pos)
        if match is not None and layout is not None:
            pos = match.end()
            groups: Groups = match.groups()
            if entities and data.find(b"&", match.start(), pos) >= 0:
                groups = tuple(_unescape(t) if t and b"&" in t else t for t in groups)
            rows.append((layout[1], groups))
            if len(rows) == CHUNK:  # convert as we go: matched bytes need not all be alive at once
                out += by_layout(rows, _convert)
                rows = []
        if single:
            return out + by_layout(rows, _convert) if shape.rest.match(data, pos) else None


def _unescape(text: bytes) -> bytes:
    """Text with its references replaced; a reference to a character XML forbids is an error."""
    unescaped = unescape(text.decode())
    if _NOT_XML_CHAR.search(unescaped):
        raise MalformedError("a character reference to a character XML does not allow")
    return unescaped.encode()


def _layout(data: bytes, pos: int, shape: _Shape, rt: RecordType[R]) -> Layout[R] | None:
    """The expression and plan for records laid out as the one at `pos`."""
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
    return rx, plan_for(rt, tags, lower=False)


def _convert(plan: Plan[R], rows: list[Groups]) -> list[R]:
    """Records of one layout: all at once, column by column, or one by one if a value is unusual."""
    if plan.fast:
        values = list(zip(*rows, strict=True))  # a tuple per field, in order
        text_columns = [texts(_decoded(values[pos])) for pos in plan.text_pos]
        number_columns = [ints(values[pos]) for pos in plan.number_pos]
        if all_read(number_columns) and None not in text_columns[plan.slots[0]]:
            extras = None
            if plan.extra_names:
                extras = [dict(zip(plan.extra_names, _extras(plan, groups), strict=True)) for groups in rows]
            return assemble(plan, text_columns, number_columns, extras)
    out = []
    for groups in rows:
        unknown = _extras(plan, groups)
        out.append(fast_xml(plan, groups, unknown, _decoded) or careful(plan, _decoded(groups), unknown))
    return out


def _extras(plan: Plan[R], groups: Groups) -> list[str | None]:
    """The unknown fields' values, as a leaf element's value reads: text or None."""
    return texts(_decoded(plan.extras_of(groups))) if plan.extra_names else []


def _decoded(groups: Sequence[bytes | None]) -> list[str | None]:
    """Matched bytes as the text a parser gives: `<a></a>` and `<a/>` have none."""
    return [t.decode() if t else None for t in groups]
