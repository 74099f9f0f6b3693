"""Per-layout plans: the field decisions for one record layout, made once and then reused.

Every record in an answer has the same fields in the same order, so which attribute each
field fills, how it is read, and which of two spellings wins are decided once per layout
(its field names in order), and each record is then converted with a few C-level calls. The
careful way, field by field with a message for the first bad value, follows the same plan, so
both ways resolve names and aliases alike by construction; the fast ways only hand over to it
when a value is unusual, and tests check that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, Generic

from ..errors import MalformedError
from .fields import (
    INT,
    INT_NO_DATA,
    TEXT,
    R,
    RecordType,
    ints,
    json_ints,
    json_texts,
    no_data,
    number,
    plain_text,
    texts,
)

Getter = Callable[[Sequence[Any]], tuple[Any, ...]]


class Plan(Generic[R]):
    """How records of one layout become constructor arguments.

    A record's values are converted into one list, [texts..., integers..., "no data"
    integers..., None, extra], and `reorder` picks from it in the record class's field order;
    a field the layout lacks points at the None, and `extra` (the unknown fields, if any) comes
    last, as in the record classes.
    """

    __slots__ = (
        "rt", "names", "text_pos", "number_pos", "n_ints", "texts_of", "numbers_of", "extras_of",
        "extra_names", "slots", "reorder", "checked", "fast",
    )  # fmt: skip

    rt: RecordType[R]
    names: tuple[str, ...]
    text_pos: list[int]  # positions in the layout of the text fields
    number_pos: list[int]  # ... of the integer fields, those where -1 means no data last
    n_ints: int  # how many of number_pos are plain integer fields
    texts_of: Getter  # a record's values -> its text values, in text_pos order
    numbers_of: Getter  # ... its integer values, in number_pos order
    extras_of: Getter  # ... its unknown fields' values, in extra_names order
    extra_names: tuple[str, ...]
    slots: list[int]  # per record attribute, its index in the converted list
    reorder: Getter
    checked: tuple[tuple[int, int], ...]  # (position, kind) the careful way reads, in order
    fast: bool

    def __init__(self, rt: RecordType[R], names: tuple[str, ...], lower: bool):
        chosen: dict[str, tuple[int, int]] = {}  # attribute -> (position, kind)
        checked: list[tuple[int, int]] = []
        extra: list[tuple[str, int]] = []
        documented: set[str] = set()  # attributes whose documented name is present
        aliases: list[tuple[str, int]] = []  # (attribute, position) of each alias read
        for pos, name in enumerate(names):
            field = rt.table.get(name) or (rt.table.get(name.lower()) if lower else None)
            if field is None:
                extra.append((name, pos))
            elif not (field.alias and field.attr in documented):  # the documented name wins
                chosen[field.attr] = (pos, field.kind)
                checked.append((pos, field.kind))
                if field.alias:
                    aliases.append((field.attr, pos))
                else:
                    documented.add(field.attr)
        # An alias before its documented name is shadowed too: the fast ways never read it, so
        # the careful way must not refuse a record for it either (wherever it stands).
        shadowed = {pos for attr, pos in aliases if attr in documented}
        checked = [(pos, kind) for pos, kind in checked if pos not in shadowed]
        groups = [[(attr, pos) for attr, (pos, k) in chosen.items() if k == kind] for kind in (TEXT, INT, INT_NO_DATA)]
        texts, ints, nodata = ([pos for _, pos in group] for group in groups)
        self.rt = rt
        self.names = names
        self.text_pos, self.number_pos, self.n_ints = texts, ints + nodata, len(ints)
        self.texts_of = _getter(self.text_pos)
        self.numbers_of = _getter(self.number_pos)
        self.extra_names = tuple(name for name, _ in extra)
        self.extras_of = _getter([pos for _, pos in extra])
        slot = {attr: i for i, (attr, _) in enumerate(groups[0] + groups[1] + groups[2])}
        # Missing fields point at the None after the converted values, `extra` at the dict after that.
        self.slots = [slot.get(attr, len(slot)) for attr in rt.fields] + ([len(slot) + 1] if extra else [])
        self.reorder = _getter(self.slots)
        self.checked = tuple(checked)  # known fields, but not the aliases a documented name shadows
        # The id is the first field of every record class; without it the careful way explains.
        # Repeated names go the careful way too: it reads (and may refuse) every one of them.
        self.fast = rt.fields[0] in chosen and len(set(names)) == len(names)


def _getter(positions: list[int]) -> Getter:
    """itemgetter that always returns a tuple, even for zero or one position."""
    if len(positions) > 1:
        return itemgetter(*positions)
    if positions:
        only = positions[0]
        return lambda values: (values[only],)
    return lambda values: ()


_PLANS: dict[tuple[str, bool, tuple[str, ...]], Plan[Any]] = {}


def plan_for(rt: RecordType[R], names: tuple[str, ...], lower: bool) -> Plan[R]:
    """The plan for records with these field names; `lower` also matches names case-insensitively (JSON)."""
    key = (rt.singular, lower, names)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= 256:  # odd answers with many layouts must not grow this for ever
            _PLANS.clear()
        plan = _PLANS[key] = Plan(rt, names, lower)
    return plan


def finish(
    plan: Plan[R], texts: list[str | None], numbers: Sequence[int | float | None], extras: Sequence[Any]
) -> R | None:
    """The record from its converted values, in the plan's order; None if it has no id."""
    n: int = plan.n_ints
    values: list[Any] = [*texts, *numbers[:n], *no_data(numbers[n:]), None]
    if plan.extra_names:
        values.append(dict(zip(plan.extra_names, extras, strict=True)))
    args = plan.reorder(values)
    return plan.rt.cls(*args) if args[0] is not None else None


def fast_xml(
    plan: Plan[R], values: Sequence[Any], extras: Sequence[Any], decode: Callable[[Sequence[Any]], Iterable[str | None]]
) -> R | None:
    """An XML record (its leaf texts in layout order) the fast way; None if anything is unusual.

    `decode` turns the text fields' values into text: the plain path matches bytes.
    """
    if not plan.fast:
        return None
    numbers = ints(plan.numbers_of(values))
    if numbers is None:
        return None
    return finish(plan, texts(decode(plan.texts_of(values))), numbers, extras)


def fast_json(plan: Plan[R], values: Sequence[Any]) -> R | None:
    """A JSON record (its values in layout order) the fast way; None if anything is unusual."""
    if not plan.fast:
        return None
    numbers = json_ints(plan.numbers_of(values))
    if numbers is None:
        return None
    texts = json_texts(plan.texts_of(values))
    if texts is None:
        return None
    return finish(plan, texts, numbers, plan.extras_of(values))


def careful(plan: Plan[R], values: Sequence[Any], extras: Sequence[Any]) -> R:
    """A record field by field: every known value read in order, the first bad one refused by name.

    `values` are leaf texts (XML) or JSON values in layout order; `extras` the unknown fields'
    values, as the record keeps them.
    """
    what = plan.rt.singular
    read: dict[int, Any] = {}
    for pos, kind in plan.checked:
        value = values[pos]
        if kind == TEXT:
            try:
                read[pos] = plain_text(value)
            except TypeError:
                raise MalformedError(f"{what} field {plan.names[pos]} is not a plain value") from None
        else:
            read[pos] = number(value, what, plan.names[pos])
    record = finish(plan, [read[pos] for pos in plan.text_pos], [read[pos] for pos in plan.number_pos], extras)
    if record is None:
        raise MalformedError(f"a {what} without its {plan.rt.wire_key}")
    return record
