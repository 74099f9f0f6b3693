"""The lenient XML parser, for the vendor's samples whose closing tags do not match.

`<day-accepted>10</all-day-accepted>` is not well formed, yet that is what 8x8 documents.
Only for that error, and only without any DTD, this small parser reads the body instead of
expat. It knows no entity but the five predefined ones and character references.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from ..errors import MalformedError, UnsafeError
from .sniff import xml_text

_MARKUP = re.compile(r"<!--.*?-->|<!\[CDATA\[(.*?)\]\]>|<\?.*?\?>|<([^<>]*)>", re.S)
_TAG = re.compile(r"\s*(/)?\s*([^\s/>]+)[^>]*?(/)?\s*\Z", re.S)
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.I)


def parse(body: bytes) -> Element:
    """Parse XML whose leaf elements close with the wrong name, as in the vendor's samples.

    A leaf (an element with text only) takes its opening tag's name whatever closes it. Every
    element with children must be closed by its own name and the root must be closed, so an
    answer cut off mid-way is malformed, never a partial list. Closing tags after the root
    (`</agents></groups>`) are ignored.
    """
    text = xml_text(body)
    if _DTD.search(text):
        raise UnsafeError("the XML declares a DTD or entities")
    stack: list[Element] = []
    root: Element | None = None
    pos = 0
    for match in _MARKUP.finditer(text):
        _add_text(text[pos : match.start()], stack)
        pos = match.end()
        if match.group(1) is not None:
            _add_text(match.group(1), stack, escaped=False)
            continue
        markup = match.group(2)
        if markup is None:
            continue  # a comment or processing instruction
        tag = _TAG.match(markup)
        if tag is None or markup.startswith("!"):
            raise MalformedError(f"unreadable XML markup <{markup[:40]}>")
        closing, name, empty = tag.groups()
        if closing:
            root = _close(name, stack, root)
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
    _add_text(text[pos:], stack)
    if root is None or stack:
        raise MalformedError("the XML answer is incomplete (an element is never closed)")
    return root


def _close(name: str, stack: list[Element], root: Element | None) -> Element | None:
    """Close the open element for </name>; see parse() for the rules."""
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


def _add_text(chunk: str, stack: list[Element], escaped: bool = True) -> None:
    """Character data (escaped unless it came from CDATA) for the open element."""
    if not chunk:
        return
    if escaped and "<" in chunk:
        raise MalformedError("the XML answer is incomplete (a tag is cut off)")
    if escaped and "&" in chunk:
        chunk = unescape(chunk)
    if not stack:
        if chunk.strip():
            raise MalformedError("text outside the XML root element")
        return
    top = stack[-1]
    top.text = (top.text or "") + chunk


def unescape(chunk: str) -> str:
    """Text with its predefined entities and character references replaced; any other is malformed.

    Also used by the plain-XML fast path, which must read references exactly as this does.
    """
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
