"""Agents and queues (the Real Time Statistics API): the ways from a body to records.

Five ways, the first that applies wins, and all give the same records:

* `json-typed`: a JSON list in the shape real answers have (documented names, plain values),
  decoded by msgspec straight into typed structs (`typed.py`);
* `json-columns`: a JSON list of records that all share one layout, column by column
  (`columns.py`), as every real answer is;
* `json-records`: any other JSON: the layouts that repeat column by column too, and the
  rest record by record, each the fast way of its layout's plan or, if a value is unusual,
  the careful way (`plans.py`);
* `xml-plain`: XML in the plain shape every real answer has, read by a strict grammar
  without a tree (`strict_xml.py`);
* `xml-tree`: any other XML, through an element tree (`load.load_xml`, which also takes the
  vendor's mismatched tags), record by record.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any, Literal
from xml.etree.ElementTree import Element

from ..errors import MalformedError
from . import columns, strict_xml, typed
from .columns import CHUNK, by_layout, json_columns
from .fields import R, RecordType
from .load import as_list, element_value, load_json, load_xml, unwrap
from .plans import Plan, careful, fast_json, fast_xml, plan_for
from .sniff import kind

Route = Literal["json-typed", "json-columns", "json-records", "xml-plain", "xml-tree"]

_TAGS = attrgetter("tag")
_TEXTS = attrgetter("text")


def read(body: bytes, rt: RecordType[R]) -> tuple[list[R], Route]:
    """The records of an answer, and which way they were read."""
    if kind(body) == "json":
        typed_found = typed.records(body, rt)
        if typed_found is not None:
            return typed_found, "json-typed"
        found, uniform = columns.records(body, rt)
        if found is not None:
            return found, "json-columns" if uniform else "json-records"
        return _json_records(body, rt), "json-records"
    found = strict_xml.records(body, rt)
    if found is not None:
        return found, "xml-plain"
    return _tree_records(body, rt), "xml-tree"


def _json_records(body: bytes, rt: RecordType[R]) -> list[R]:
    """Records from any JSON answer: the layouts that repeat column by column, the rest one by one."""
    items = [item for item in as_list(unwrap(load_json(body), rt.plural, rt.singular, rt.wire_key)) if item]
    try:
        out: list[R] = []
        for start in range(0, len(items), CHUNK):
            out += by_layout([(_json_plan(item, rt), item) for item in items[start : start + CHUNK]], _convert_json)
        return out
    except MalformedError:
        pass
    # One by one, so that the answer's first bad record is the one refused.
    return [_convert_json(_json_plan(item, rt), [item])[0] for item in items]


def _json_plan(item: object, rt: RecordType[R]) -> Plan[R]:
    if not isinstance(item, dict):
        raise MalformedError(f"expected a JSON object for each {rt.singular}, got {type(item).__name__}")
    return plan_for(rt, tuple(item), lower=True)


def _convert_json(plan: Plan[R], items: list[dict[str, Any]]) -> list[R]:
    """JSON records of one layout: column by column, or one by one if a value is unusual."""
    found = json_columns(plan, items, exact=True) if len(items) > 1 else None
    if found is not None:
        return found
    out = []
    for item in items:
        values = list(item.values())
        out.append(fast_json(plan, values) or careful(plan, values, plan.extras_of(values)))
    return out


def _tree_records(body: bytes, rt: RecordType[R]) -> list[R]:
    """Records from any XML answer, through an element tree."""
    root = load_xml(body)
    if root.tag == rt.singular:
        elements: Iterable[Element] = (root,)
    elif root.tag == rt.plural:
        elements = root.iterfind(rt.singular)
    else:
        raise MalformedError(f"expected <{rt.plural}> or <{rt.singular}>, got <{root.tag}>")
    out = []
    for el in elements:
        if len(el):  # an element without children is the documents' "…" placeholder
            children = list(el)
            plan = plan_for(rt, tuple(map(_TAGS, children)), lower=False)
            values = list(map(_TEXTS, children))
            extras = list(map(element_value, plan.extras_of(children)))
            out.append(fast_xml(plan, values, extras, tuple) or careful(plan, values, extras))  # texts already
    return out
