"""The field rules: which wire names a record has, and how a wire value becomes a field.

Every way from a body to a record (column by column, plain XML, element trees, field by field)
reads values by these rules, so each is written here once:

* a text field is stripped, and blank or absent text is no value (None); a JSON number in a
  text field (ids often are) is its digits;
* an integer field is read exactly; a fractional number stays a float (percentages), blank
  is None, and anything else is malformed;
* `-1` in the fields NOTES.md lists means "no data yet" and becomes None;
* `all-day-X` is `day-X`, `day-avg-handling-time` is `day-avg-processing-time`, names are
  also accepted in lower case, and a documented name wins over its alias whatever the order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeGuard, TypeVar

from ..errors import MalformedError
from ..records import AGENT_FIELDS, QUEUE_FIELDS, Agent, Queue

R = TypeVar("R", Agent, Queue)

TEXT, INT, INT_NO_DATA = 0, 1, 2
NO_DATA = -1


class Field(NamedTuple):
    """Where a wire name goes: the record attribute, how its value is read, alias or not."""

    attr: str
    kind: int
    alias: bool


Table = dict[str, Field]


def _table(
    attrs: Iterable[str], texts: set[str], no_data: set[str], renamed: dict[str, str], aliases: dict[str, str]
) -> Table:
    """Every accepted wire name (documented, lower case, alias, all-day-*) -> its Field."""
    table: Table = {}
    for attr in attrs:
        wire = renamed.get(attr, attr.replace("_", "-"))
        kind = TEXT if wire in texts else INT_NO_DATA if wire in no_data else INT
        table[wire] = Field(attr, kind, False)
        # Real clients match these names case-insensitively in JSON; be as lenient.
        table.setdefault(wire.lower(), Field(attr, kind, False))
    for alias, wire in aliases.items():
        table[alias] = table[wire]._replace(alias=True)
    for wire, field in list(table.items()):
        if wire.startswith("day-"):
            table.setdefault("all-" + wire, field._replace(alias=True))
    return table


@dataclass(frozen=True, slots=True)
class RecordType(Generic[R]):
    """One kind of record and how it arrives: what every route from a body to records needs."""

    singular: str  # the record's element and JSON key, and the word for it in messages
    plural: str  # the list's element and JSON key
    cls: type[R]
    fields: tuple[str, ...]  # constructor order; the id comes first
    table: Table

    @property
    def wire_key(self) -> str:
        """The id's wire name (`agent-id`)."""
        return self.fields[0].replace("_", "-")


AGENTS = RecordType(
    "agent",
    "agents",
    Agent,
    AGENT_FIELDS,
    _table(
        AGENT_FIELDS,
        texts={"agent-id", "group-id", "agent-name", "status-code-item-id", "status-code-item-short-code",
               "status-code-list-id"},
        no_data={"last-login-time", "time-in-status", "phone-line1-status-time", "phone-line2-status-time"},
        renamed={},
        aliases={"day-avg-handling-time": "day-avg-processing-time"},
    ),
)
QUEUES = RecordType(
    "queue",
    "queues",
    Queue,
    QUEUE_FIELDS,
    _table(
        QUEUE_FIELDS,
        texts={"queue-id", "queue-name", "media-type", "queue-type"},
        no_data={"day-sla-activity", "sla-activity", "thirty-min-sla-activity", "thirty-min-longest-wait-time"},
        renamed={
            "agent_count_logged_out": "agent-count-loggedOut",
            "agent_count_on_break": "agent-count-onBreak",
            "agent_count_post_process": "agent-count-postProcess",
            "agent_count_wait_transact": "agent-count-waitTransact",
            "agent_count_work_offline": "agent-count-workOffline",
        },
        aliases={},
    ),
)


# --- Text ---------------------------------------------------------------------------------------

_STR = {str}
_TEXT_TYPES = {str, int, type(None)}  # what the fast ways take in a JSON text field


def texts(values: Iterable[str | None]) -> list[str | None]:
    """Text fields as records hold them: stripped, and blank or absent text is no value.

    A whole record's or column's texts at once: this runs for every field of every record.
    """
    return [value.strip() or None if value else None for value in values]


def text(value: str | None) -> str | None:
    """One text by the same rule."""
    return texts((value,))[0]


def plain_text(value: object) -> str | None:
    """A JSON or XML leaf value as text: strings by the text rule, numbers as their digits.

    Raises TypeError for a list, an object or a boolean: no text field holds one, and each
    caller says in its own words which field was wrong.
    """
    if value is None or isinstance(value, str):
        return text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text(str(value))
    raise TypeError(type(value).__name__)


def json_texts(values: Sequence[object]) -> list[str | None] | None:
    """A JSON record's or column's text values the fast way; None if one is unusual.

    Unusual is anything but strings, integers and null: the careful way then decides.
    """
    if _all_strings(values):
        return texts(values)
    if _all_plain(values):  # ids often come as numbers
        return texts([str(value) if isinstance(value, int) else value for value in values])
    return None


def _all_strings(values: Sequence[object]) -> TypeGuard[Sequence[str]]:
    return set(map(type, values)) <= _STR


def _all_plain(values: Sequence[object]) -> TypeGuard[Sequence[str | int | None]]:
    return set(map(type, values)) <= _TEXT_TYPES


# --- Numbers ------------------------------------------------------------------------------------

_INT = {int}
_INFINITIES = (float("inf"), float("-inf"))


def ints(values: Iterable[Any]) -> list[int] | None:
    """XML integer fields (text or bytes) the fast way; None if one is not a plain integer.

    int() reads text exactly whatever its size and skips padding; an empty element, a fraction
    or garbage gives None and the careful way decides (and explains).
    """
    try:
        return list(map(int, values))
    except (TypeError, ValueError):
        return None


def json_ints(values: Sequence[object]) -> Sequence[int] | None:
    """JSON integer fields the fast way: the values if all are integers (not booleans), else None."""
    return values if _all_ints(values) else None


def _all_ints(values: Sequence[object]) -> TypeGuard[Sequence[int]]:
    return set(map(type, values)) <= _INT


def number(value: object, what: str, name: str) -> int | float | None:
    """An integer field's value, read carefully: the rule the fast ways are a shortcut of.

    Integers exactly (from JSON, or text of any size); blank is None; a fraction stays a float
    (percentages may be fractional) and an integral one becomes an int; anything else is
    malformed, with a message naming the field.
    """
    if type(value) is int:
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        stripped = value.strip()
        if not stripped:
            return None
        try:
            value = float(stripped)
        except ValueError:
            raise MalformedError(f"{what} field {name} is not a number: {stripped[:40]!r}") from None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value in _INFINITIES:
        raise MalformedError(f"{what} field {name} is not a number: {str(value)[:40]!r}")
    return int(value) if float(value).is_integer() else value


def no_data(values: Iterable[int | float | None]) -> list[int | float | None]:
    """The values of "no data yet" fields, with the -1 sentinel read as None."""
    return [None if value == NO_DATA else value for value in values]
