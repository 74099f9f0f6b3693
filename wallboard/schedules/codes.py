"""Schedule status codes: 0 OPEN, -1 CLOSED, 1..6 CHOICE #1..#6.

The vendor's document names the CHOICE states without numbers; docs/api-shapes.md fixes them
as 1..6 and lists the spellings seen on the wire, which `parse_status` accepts.
"""

from __future__ import annotations

import re

OPEN = 0
CLOSED = -1
CHOICES = range(1, 7)
CODES = frozenset((OPEN, CLOSED, *CHOICES))

# "CHOICE #3", "Choice #3", "CHOICE3", "choice 3": case and spacing vary between sources.
_CHOICE = re.compile(r"choice\s*#?\s*([1-6])", re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?\d+")
_WORDS = {"OPEN": OPEN, "CLOSED": CLOSED}


def parse_status(value: object) -> int:
    """Normalise a status as it arrives (number or string) to its integer code.

    Raises ValueError for anything that is not one of the documented spellings, so a
    garbage status is rejected where it is read instead of showing up as a wrong colour.
    """
    if isinstance(value, bool):
        # bool is an int subclass; True is not a status.
        raise ValueError(f"not a schedule status: {value!r}")
    if isinstance(value, int):
        return _checked(value, value)
    if isinstance(value, float) and value.is_integer():
        return _checked(int(value), value)
    if isinstance(value, str):
        return _parse_text(value)
    raise ValueError(f"not a schedule status: {value!r}")


def _parse_text(value: str) -> int:
    """Parse the string spellings: words, CHOICE forms, and numbers in quotes."""
    text = value.strip()
    word = _WORDS.get(text.upper())
    if word is not None:
        return word
    match = _CHOICE.fullmatch(text)
    if match:
        return int(match.group(1))
    if _INTEGER.fullmatch(text):
        return _checked(int(text), value)
    raise ValueError(f"not a schedule status: {value!r}")


def _checked(code: int, original: object) -> int:
    """Return code if it is a known status."""
    if code not in CODES:
        raise ValueError(f"not a schedule status: {original!r}")
    return code


def status_label(code: int) -> str:
    """The label 8x8 uses for a code: OPEN, CLOSED or CHOICE #N."""
    code = _checked(code, code)
    if code == OPEN:
        return "OPEN"
    if code == CLOSED:
        return "CLOSED"
    return f"CHOICE #{code}"


def status_state(code: int) -> str:
    """The board's data-state word for a code: open, closed or choice."""
    code = _checked(code, code)
    if code == OPEN:
        return "open"
    if code == CLOSED:
        return "closed"
    return "choice"
