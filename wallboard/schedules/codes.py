"""Schedule status codes: 0 OPEN, -1 CLOSED, 1..6 CHOICE #1..#6, and the board's word for each.

The codes, their spellings on the wire and their labels are one rule, kept with the records
the 8x8 client reads (`wallboard.vcc.records`); the engine and the parser must never disagree
on what a status is. What is added here is the board's view of a code.
"""

from __future__ import annotations

from wallboard.vcc.records import CHOICES, CLOSED, CODES, OPEN, parse_status, status_label

__all__ = ["CHOICES", "CLOSED", "CODES", "OPEN", "parse_status", "status_label", "status_state"]


def status_state(code: int) -> str:
    """The board's data-state word for a code: open, closed or choice."""
    if code == OPEN:
        return "open"
    if code == CLOSED:
        return "closed"
    if code in CHOICES:
        return "choice"
    raise ValueError(f"not a schedule status: {code!r}")
