"""Bodies as data: JSON as `json.loads` reads it, XML as an element tree, either as plain data.

XML safety. The policy is defusedxml's `forbid_dtd=True`: entity expansion (billion laughs)
and external entities (XXE) both need a DTD, so a body that declares one is refused as unsafe
and nothing ever expands or fetches an entity. Where a byte search can find every `<!DOCTYPE`
and `<!ENTITY` (ASCII-compatible encodings, `sniff.dtd_free`) that search is the check and the
C expat parser reads the body: with no DTD it knows only the five predefined entities and fails
on any other. Everything else (UTF-16/32, unusual declared encodings) goes through defusedxml
itself, as safe but on the pure-Python parser, twice as slow on 2,000 agents. Only for the
vendor's mismatched closing tags, and only without a DTD, the lenient parser takes over.

JSON goes through orjson (about three times faster than `json`) and falls back to `json` for
what orjson reads differently or refuses (integers beyond 64 bits, a UTF-8 BOM, UTF-16/32,
encoded lone surrogates), so the results are those of `json.loads`, except that NaN, Infinity
and -Infinity, which are not JSON, make the answer malformed.
"""

from __future__ import annotations

import codecs
import json
from typing import Any
from xml.etree import ElementTree as etree
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_etree
import orjson
from defusedxml import DefusedXmlException

from ..errors import MalformedError, UnsafeError
from . import lenient_xml, sniff
from .fields import text

_MISMATCH = 7  # pyexpat.errors.XML_ERROR_TAG_MISMATCH
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_INT = b"0" * 19  # -(2**63) - 1 has 19 digits; orjson reads every shorter integer exactly


def load_json(body: bytes) -> Any:
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


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def load_xml(body: bytes) -> Element:
    """Strict, safe XML; the lenient parser only for the vendor's mismatched closing tags."""
    try:
        if sniff.dtd_free(body):
            return etree.fromstring(body)
        return safe_etree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnsafeError(f"the XML declares a DTD or entities ({type(exc).__name__})") from None
    except ParseError as exc:
        if getattr(exc, "code", None) != _MISMATCH:
            raise MalformedError(f"not well-formed XML ({exc})") from None
    return lenient_xml.parse(body)


def load_data(body: bytes) -> Any:
    """Any body as plain JSON-like data (XML elements become dicts, lists and strings)."""
    if sniff.kind(body) == "json":
        return load_json(body)
    root = load_xml(body)
    return {root.tag: element_value(root)}


def element_value(el: Element) -> Any:
    """An element as JSON-like data: text (None if blank) or a dict; repeated tags -> lists."""
    if len(el) == 0:
        return text(el.text)
    out: dict[str, Any] = {}
    for child in el:
        value = element_value(child)
        if child.tag in out:
            previous = out[child.tag]
            if isinstance(previous, _Many):
                previous.append(value)
            else:
                out[child.tag] = _Many((previous, value))
        else:
            out[child.tag] = value
    return out


class _Many(list[Any]):
    """Repeated XML elements: a list that element_value can tell from a value that is one."""


def unwrap(data: Any, plural: str, singular: str, id_key: str) -> Any:
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


def as_list(value: Any) -> list[Any]:
    """A JSON object (or a lone XML element) where a list is expected is a list of one."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]
