"""The typed fast path for JSON agent and queue lists: msgspec decodes the body into wire structs.

The columnar path (`columns.py`) pays for orjson building a dict per record and then for
checking every value's type column by column; bench/parse.py's profile had that at 2.3-2.5x
the orjson floor. Here msgspec decodes the body straight into one struct per record, typed
field by field (ids `str | int`, texts `str | int | None`, integers `int | None`), so the type
checks happen in C while reading, and no dict is built. What the decoder cannot express is
then done per column: the text rule, "-1 means no data", `all-day-*` and other aliases.

It is only a shortcut. It takes the answers real servers send (documented names exactly as
spelled, the envelopes NOTES.md lists, plain values) and gives up on anything else, so the
general paths still decide every other body, with the same records or the same refusal:

* an unknown, lower-cased or duplicate-by-alias name (`forbid_unknown_fields`; two aliases of
  one field without its documented name, where the order of the fields decides);
* a value of another type (a fraction, a boolean, a string in an integer field, a nested
  value), a record without its id, an empty record, a non-record in the list;
* anything msgspec refuses to read: a BOM, UTF-16/32, a lone surrogate, NaN, bad JSON.

msgspec reads what it accepts exactly as `json.loads` does (integers beyond 64 bits exactly,
the last of repeated keys, the same escapes); tests/test_vcc_parse_typed.py checks that this
path and the general one agree on generated bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec import UNSET

from .fields import AGENTS, INT_NO_DATA, QUEUES, TEXT, R, RecordType, json_texts, no_data

_Column = Sequence[Any]


class _Unusual(Exception):
    """A body the general paths must read (they decide, and explain if it is refused)."""


class _Decoder:
    """One record type's decoder, and how its wire struct's fields become record attributes."""

    def __init__(self, rt: RecordType[Any]):
        documented: dict[str, str] = {}  # attribute -> its documented wire name
        aliases: dict[str, list[str]] = {}  # attribute -> its aliases' wire names
        for name, field in rt.table.items():
            if field.alias:
                aliases.setdefault(field.attr, []).append(name)
            else:  # the documented spelling comes first; its lower-case twin is left to the general paths
                documented.setdefault(field.attr, name)
        self.rt = rt
        self.kinds = {field.attr: field.kind for field in rt.table.values()}
        specs: list[tuple[str, Any, Any]] = []
        self.alias_slots: dict[str, list[int]] = {}
        for i, attr in enumerate(rt.fields):
            specs.append(_spec(i, documented[attr], self.kinds[attr], first=i == 0, aliased=attr in aliases))
        for attr, names in aliases.items():
            self.alias_slots[attr] = []
            for name in names:
                self.alias_slots[attr].append(len(specs))
                specs.append(_spec(len(specs), name, self.kinds[attr], first=False, aliased=True))
        # gc=False: a wire struct holds only strings, integers and None, never a cycle.
        wire = msgspec.defstruct(f"{rt.singular}_wire", specs, forbid_unknown_fields=True, gc=False)
        some = list[wire] | wire  # type: ignore[valid-type]  # a one-element list may come as the record
        inner = msgspec.defstruct(f"{rt.plural}_inner", [("items", some, msgspec.field(name=rt.singular))],
                                  forbid_unknown_fields=True)
        envelope = msgspec.defstruct(
            f"{rt.plural}_envelope",
            [
                ("many", inner | list[wire] | msgspec.UnsetType, msgspec.field(default=UNSET, name=rt.plural)),  # type: ignore[valid-type]
                ("one", some | msgspec.UnsetType, msgspec.field(default=UNSET, name=rt.singular)),
            ],
            forbid_unknown_fields=True,
        )
        self.decoder = msgspec.json.Decoder(envelope | list[wire])  # type: ignore[valid-type]

    def items(self, body: bytes) -> list[Any]:
        """The wire structs of an answer, from the envelopes `load.unwrap` takes most often."""
        try:
            data = self.decoder.decode(body)
        except msgspec.DecodeError:
            raise _Unusual from None
        if isinstance(data, list):
            return data
        if data.many is not UNSET:  # `{"agents": ...}` wins over `{"agent": ...}`, as in unwrap
            data = data.many
            if isinstance(data, list):
                return data
            return _as_list(data.items)
        return [] if data.one is UNSET else _as_list(data.one)

    def records(self, body: bytes) -> list[Any]:
        """Records from the wire structs, column by column."""
        found = self.items(body)
        if not found:
            return []
        columns: list[_Column] = list(zip(*map(msgspec.structs.astuple, found), strict=True))
        out = [self._column(pos, attr, columns) for pos, attr in enumerate(self.rt.fields)]
        if None in out[0]:
            raise _Unusual  # a record without its id: the careful way says so
        return list(map(self.rt.cls, *out))

    def _column(self, pos: int, attr: str, columns: list[_Column]) -> _Column:
        """One attribute's values for all records, by the field rules (the wire struct starts in attribute order)."""
        values = columns[pos]
        if attr in self.alias_slots:
            values = _resolved(values, [columns[i] for i in self.alias_slots[attr]])
        kind = self.kinds[attr]
        if kind == TEXT:
            try:
                found = json_texts(values)
            except ValueError:  # str() of an integer with more digits than Python converts
                raise _Unusual from None
            if found is None:
                raise _Unusual
            return found
        if kind == INT_NO_DATA:
            return no_data(values)
        return values


def _spec(i: int, name: str, kind: int, first: bool, aliased: bool) -> tuple[str, Any, Any]:
    """A wire struct field: its Python name, type and wire name.

    Absent fields are None, as in the general paths; where an alias may stand in, absent is
    UNSET instead, so that a documented name sent as null still wins over its alias.
    """
    kind_type: Any = (str | int) if first else (str | int | None) if kind == TEXT else (int | None)
    if first:
        return (f"f{i}", kind_type, msgspec.field(name=name))
    if aliased:
        return (f"f{i}", kind_type | msgspec.UnsetType, msgspec.field(default=UNSET, name=name))
    return (f"f{i}", kind_type, msgspec.field(default=None, name=name))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resolved(documented: _Column, aliases: list[_Column]) -> _Column:
    """A field's values where its documented name wins and one alias may stand in for it.

    Two aliases of the field in one record without the documented name: the general paths
    take the later one in the record, which the structs no longer know, so they decide.
    """
    n = len(documented)
    used = [column for column in aliases if column.count(UNSET) != n]
    if not used:
        return [None if value is UNSET else value for value in documented] if UNSET in documented else documented
    if len(used) == 1:
        return [(None if a is UNSET else a) if d is UNSET else d for d, a in zip(documented, used[0], strict=True)]
    out = []
    for value, *others in zip(documented, *used, strict=True):
        if value is UNSET:
            present = [other for other in others if other is not UNSET]
            if len(present) > 1:
                raise _Unusual
            value = present[0] if present else None
        out.append(value)
    return out


_DECODERS = {rt.singular: _Decoder(rt) for rt in (AGENTS, QUEUES)}


def records(body: bytes, rt: RecordType[R]) -> list[R] | None:
    """The records of a usual JSON answer, read by msgspec; None if the general paths must decide."""
    try:
        return _DECODERS[rt.singular].records(body)
    except _Unusual:
        return None
