"""What a body is, from its bytes: XML or JSON, its encoding, whether it can hold a DTD.

A server that ignores the `.json` suffix still works: every parser sniffs the format from the
first significant character instead of trusting the URL or the Content-Type.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Literal

from ..errors import MalformedError

_LEADING = re.compile(rb"(?:\xef\xbb\xbf)?\s*")
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 and UTF-32 (LE), by their byte order marks
DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*encoding\s*=\s*['\"]([A-Za-z0-9._-]+)['\"]")
_ASCII_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}


def kind(body: bytes) -> Literal["xml", "json"]:
    """'xml' or 'json', from the first significant character; a login page or garbage is malformed."""
    match = _LEADING.match(body)
    first = body[match.end() if match else 0 :][:1]
    if first == b"\x00" or body.startswith(_WIDE_BOMS):
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


def wide(body: bytes) -> bool:
    """True for UTF-16/32, told apart by a byte order mark or NUL bytes in the first character."""
    return b"\x00" in body[:4] or body.startswith(_WIDE_BOMS)


def dtd_free(body: bytes) -> bool:
    """True if the body surely has no DTD: ASCII-compatible and no <!DOCTYPE / <!ENTITY bytes.

    Only where a byte search cannot miss markup (an ASCII-compatible encoding) is its answer
    worth anything; False means "not sure", and the caller takes the slower, safe way.
    """
    if wide(body):
        return False
    declared = DECLARED_ENCODING.match(body.lstrip(b"\xef\xbb\xbf \t\r\n"))
    if declared and declared.group(1).decode("ascii").lower() not in _ASCII_ENCODINGS:
        return False
    if b"!" not in body:  # one memchr; searching for "<!" is slow where every other byte is "<"
        return True
    return b"<!DOCTYPE" not in body and b"<!ENTITY" not in body


def xml_text(body: bytes) -> str:
    """An XML body as text, in the encoding its BOM, NUL pattern or declaration says (UTF-8 if none)."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[3:]
    declared = DECLARED_ENCODING.match(body.lstrip())
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    if wide(body):
        encoding = json.detect_encoding(body)
    try:
        return body.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise MalformedError(f"cannot decode the XML answer ({exc})") from None
