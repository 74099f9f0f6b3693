"""The columnar fast paths: the records of one layout converted together, field by field.

A real answer is thousands of records with the same fields in the same order, so the checks
and conversions run once per field over many records (in C where they can) rather than once
per value. Rows are taken in chunks (`CHUNK`), grouped by layout and put back in order; a
chunk's layout with an unusual value (another type, a fraction, a missing id) goes record by
record instead, where the careful way decides and explains. Tests check that all agree.

Two routes use this: `json-columns` (`records` below: a uniform JSON list straight from
orjson) and `xml-plain` (`strict_xml`); `json-records` uses it too, for the layouts that
repeat in any other JSON list.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any, TypeGuard, TypeVar

import orjson

from ..errors import MalformedError
from .fields import R, RecordType, json_ints, json_texts, no_data
from .load import as_list, unwrap
from .plans import Plan, plan_for

S = TypeVar("S")
Rows = list[tuple[Plan[R], S]]

# Rows converted together: enough to spread the per-column calls thin, and few enough that a
# chunk's values stay in the CPU cache (all 2,000 agents at once was 10 % slower than this).
CHUNK = 256
_PLAIN_TYPES = {str, int, bool, type(None)}


def records(body: bytes, rt: RecordType[R]) -> tuple[list[R] | None, bool]:
    """The usual answer, read straight through orjson and column by column.

    Returns (records, uniform): records are None unless every value was usual; uniform says
    whether all records shared one layout (the `json-columns` route) or several repeated
    (`json-records`, e.g. queues alternating `day-*` and `all-day-*`: read here too, so that
    such a body is not parsed a second time; bench/parse.py's profile had its queues at 4x the
    orjson floor, half of it the second parse).

    `load.load_json` first scans the whole body for integers orjson would read as floats; here
    that scan is not needed: the columns accept no float at all (an integer beyond 64 bits
    would have become one), so whatever they accept is exactly what `json.loads` would give.
    """
    if body.startswith(codecs.BOM_UTF8):
        return None, False
    try:
        items = as_list(unwrap(orjson.loads(body), rt.plural, rt.singular, rt.wire_key))
    except (orjson.JSONDecodeError, MalformedError):
        return None, False  # the general path reads it again and decides, with its own error
    if len(items) < 2 or set(map(type, items)) != {dict}:
        return None, False
    names = tuple(items[0])
    if not names:
        return None, False
    if not all(map(names.__eq__, map(tuple, items))):
        return _layouts(items, rt), False
    plan = plan_for(rt, names, lower=True)
    out: list[R] = []
    for start in range(0, len(items), CHUNK):
        chunk = json_columns(plan, items[start : start + CHUNK], exact=False)
        if chunk is None:
            return None, True
        out += chunk
    return out, True


class _Unusual(Exception):
    """A layout's values need the general path (which reads and decides again)."""


def _layouts(items: list[dict[str, Any]], rt: RecordType[R]) -> list[R] | None:
    """Records of several layouts, each column by column as the general path would; else None.

    The general path (`stats._json_records`) drops empty items and reads a lone record of its
    layout record by record; neither changes a record, and an empty one has no id, so here it
    is left to that path.
    """
    out: list[R] = []
    try:
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            out += by_layout([(plan_for(rt, tuple(item), lower=True), item) for item in chunk], _convert)
    except _Unusual:
        return None
    return out


def _convert(plan: Plan[R], items: list[dict[str, Any]]) -> list[R]:
    found = json_columns(plan, items, exact=False)
    if found is None:
        raise _Unusual
    return found


def json_columns(plan: Plan[R], items: list[dict[str, Any]], exact: bool) -> list[R] | None:
    """JSON records of one layout, column by column; None if a value is unusual.

    Unless the values are `exact` (read by `load.load_json`), extras must be plain too: a
    float there may be an integer orjson misread.
    """
    if not plan.fast:
        return None
    values = list(zip(*map(dict.values, items), strict=True))  # a tuple per field, in order
    texts = [json_texts(values[pos]) for pos in plan.text_pos]
    numbers = [json_ints(values[pos]) for pos in plan.number_pos]
    if not (all_read(texts) and all_read(numbers)) or None in texts[plan.slots[0]]:
        return None  # an unusual value or a record without its id: the careful way explains
    extras = None
    if plan.extra_names:
        extras = [{name: item[name] for name in plan.extra_names} for item in items]
        if not exact and not set(map(type, chain.from_iterable(map(dict.values, extras)))) <= _PLAIN_TYPES:
            return None  # nested or float extras: the general path reads them as json does
    return assemble(plan, texts, numbers, extras)


def all_read(columns: Sequence[Sequence[Any] | None]) -> TypeGuard[Sequence[Sequence[Any]]]:
    """True if every column was read the fast way (none is None)."""
    return None not in columns


def assemble(
    plan: Plan[R],
    texts: Sequence[Sequence[str | None]],
    numbers: Sequence[Sequence[int]],
    extras: list[dict[str, Any]] | None,
) -> list[R]:
    """Records from whole columns read the fast way: texts, then integers in the plan's order.

    The columnar twin of `plans.finish`; the caller has checked that every record has its id.
    """
    n: int = plan.n_ints
    columns: list[Sequence[Any]] = [*texts, *numbers[:n], *map(no_data, numbers[n:]), [None] * len(texts[0])]
    if extras is not None:
        columns.append(extras)
    return list(map(plan.rt.cls, *(columns[slot] for slot in plan.slots)))


def by_layout(rows: Rows[R, S], convert: Callable[[Plan[R], list[S]], list[R]]) -> list[R]:
    """The records of rows (a plan and its source each), in order, each layout's rows converted together."""
    by_plan: dict[Plan[R], list[int]] = {}
    for i, (plan, _) in enumerate(rows):
        by_plan.setdefault(plan, []).append(i)
    if len(by_plan) == 1:  # the usual answer: one layout
        return convert(rows[0][0], [source for _, source in rows])
    found: dict[int, R] = {}
    for plan, where in by_plan.items():
        found.update(zip(where, convert(plan, [rows[i][1] for i in where]), strict=True))
    return [found[i] for i in range(len(rows))]
