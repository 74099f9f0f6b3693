"""Board state in Redis: the current state, its epoch and seq, and upstream health.

Any web process serves a snapshot from here without calling 8x8. The epoch is made when a
board's state is first written; if Redis loses its memory the next write makes a new one, and
browsers that see it resync.

Layout: `wb:board:<slug>` holds epoch, seq, as_of and status; `wb:board:<slug>:data` holds the
state as JSON fragments, one field per queue, group and agent entry (plus the `board` part).
A cycle rewrites only the entries that changed, and a snapshot is the fragments joined, never
parsed and serialised again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress
from operator import is_, is_not
from typing import Any, cast

import orjson
import redis
from redis.typing import EncodableT, FieldT

from wallboard.live.redis import get_redis

SECTIONS = {"queues": b"q:", "groups": b"g:", "agents": b"a:"}
SCALAR = b"s:"
_SECTION_OF = {prefix: name for name, prefix in SECTIONS.items()}


def _key(slug: str) -> str:
    return f"wb:board:{slug}"


def _data_key(slug: str) -> str:
    return f"wb:board:{slug}:data"


def dumps(value: object) -> str:
    """Compact JSON, the one serialisation used for everything sent or stored."""
    return orjson.dumps(value).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


_NONE = object()


@dataclass
class _Section:
    """One section of a board's state as last serialised: its entries and their fragments.

    `tails` holds, per entry whose last member is an object (a queue's or a group's history,
    nine tenths of its JSON), that object and where its JSON starts in the fragment: the next
    version of the entry, changed elsewhere but holding the very same history (five cycles in
    six), reuses those bytes instead of serialising the hour of points again.
    """

    entries: dict[str, object]  # a copy: the caller's dict may be reused
    fragments: dict[str, tuple[bytes, bytes]]  # entry id -> (field name, `"id":{...}` fragment)
    tails: dict[str, tuple[object, int]]


_EMPTY = _Section({}, {}, {})

# One cycle's work shared by the serialisers of a tenant's boards (StateSerialiser.update):
# (prefix, entry id, id(entry)) -> (entry, field name, fragment, tail), and (prefix, id(new
# section)) -> the answers given for it, each (old _Section, new section, new _Section, changed,
# removed). The objects are kept so no id is reused while the memo lives; drop it after the cycle.
Memo = dict[tuple[Any, ...], tuple[Any, ...]]


def _fragment(prefix: bytes, entry_id: str, entry: object) -> tuple[bytes, bytes]:
    """An entry's field name and its `"id":{...}` JSON fragment."""
    return prefix + entry_id.encode(), orjson.dumps(entry_id) + b":" + orjson.dumps(entry)


class StateSerialiser:
    """Turns one board's states into stored fragments, re-serialising only what changed.

    Queue, group and agent entries that did not change since last cycle are the very same
    objects (see wallboard.boards.state), so their fragments are reused as they are. Keep one
    per board. After `update(state)`: `changed` and `removed` say what differs from the state
    before, and `fields()` gives every fragment (for a full rewrite).
    """

    def __init__(self) -> None:
        self.changed: dict[bytes, bytes] = {}
        self.removed: list[bytes] = []
        self._scalars: dict[bytes, bytes] = {}
        self._sections: dict[str, _Section] = {}

    def update(self, state: Mapping[str, Any], memo: Memo | None = None) -> None:
        """Serialise what changed since the last call.

        Pass the same `memo` (a dict) to every board's serialiser of one cycle: a section or an
        entry that boards share (wallboard.boards.state, compute_boards) is serialised once.
        """
        changed: dict[bytes, bytes] = {}
        removed: list[bytes] = []
        scalars: dict[bytes, bytes] = {}
        sections: dict[str, _Section] = {}
        for key, value in state.items():
            prefix = SECTIONS.get(key)
            if prefix is None or type(value) is not dict:
                name = SCALAR + key.encode()
                fragment = scalars[name] = orjson.dumps(key) + b":" + orjson.dumps(value)
                if self._scalars.get(name) != fragment:
                    changed[name] = fragment
                continue
            sections[key] = _section(prefix, self._sections.get(key, _EMPTY), value, changed, removed, memo)
        removed += [name for name in self._scalars if name not in scalars]
        removed += [name for key, old in self._sections.items() if key not in sections for name, _ in old.fragments.values()]
        self._scalars, self._sections = scalars, sections
        self.changed, self.removed = changed, removed

    def fields(self) -> dict[bytes, bytes]:
        """Every fragment of the latest state."""
        out = dict(self._scalars)
        for section in self._sections.values():
            out.update(section.fragments.values())
        return out

    def fragments(self, state: Mapping[str, Any], memo: Memo | None = None) -> dict[bytes, bytes]:
        """Update, then every fragment."""
        self.update(state, memo)
        return self.fields()


def _section(
    prefix: bytes, old: _Section, new: dict[str, object], changed: dict[bytes, bytes], removed: list[bytes], memo: Memo | None
) -> _Section:
    """One section serialised, given how it was last cycle; what changed goes into `changed` and `removed`.

    A section that boards share is done once: another board's answer for the same new section
    holds when its old one had the very same entries, which is what boards that shared the
    section last cycle (the same _Section) or were never serialised (none) have.
    """
    key = (prefix, id(new))
    done = None
    if memo is not None:
        for candidate in memo.get(key, ()):
            if candidate[0] is old or _same_entries(candidate[0].entries, old.entries):
                done = candidate
                break
    if done is None:
        mine: dict[bytes, bytes] = {}
        gone: list[bytes] = []
        done = (old, new, _serialise_section(prefix, old, new, mine, gone, memo), mine, gone)
        if memo is not None:
            memo[key] = (*memo.get(key, ()), done)
    changed.update(done[3])
    removed += done[4]
    section: _Section = done[2]
    return section


def _same_entries(a: dict[str, object], b: dict[str, object]) -> bool:
    """The same ids in the same order, each the very same object (checked in C)."""
    return len(a) == len(b) and list(a) == list(b) and all(map(is_, a.values(), b.values()))


def _serialise_section(
    prefix: bytes, old: _Section, new: dict[str, object], changed: dict[bytes, bytes], removed: list[bytes], memo: Memo | None
) -> _Section:
    """The new section's fragments, reusing last cycle's for the very same entry objects."""
    entries = old.entries
    if len(entries) == len(new) and list(entries) == list(new):
        # The same ids in the same order (the usual cycle): find the few new objects in C.
        fresh: Iterable[str] = compress(new, map(is_not, entries.values(), new.values()))
        section = _Section(dict(new), old.fragments.copy(), old.tails.copy())
    else:
        fresh = [entry_id for entry_id, entry in new.items() if entries.get(entry_id, _NONE) is not entry]
        section = _Section(dict(new), {}, {})
        for entry_id in new:
            # In the state's order: new fragments are filled in below.
            section.fragments[entry_id] = old.fragments.get(entry_id, (b"", b""))
            if entry_id in old.tails:
                section.tails[entry_id] = old.tails[entry_id]
        removed += [old.fragments[entry_id][0] for entry_id in entries if entry_id not in new]
    for entry_id in fresh:
        name, fragment, tail = _entry_fragment(prefix, entry_id, new[entry_id], memo, old)
        section.fragments[entry_id] = (name, fragment)
        changed[name] = fragment
        if tail is not None:
            section.tails[entry_id] = tail
        else:
            section.tails.pop(entry_id, None)
    return section


def _entry_fragment(
    prefix: bytes, entry_id: str, entry: object, memo: Memo | None, old: _Section
) -> tuple[bytes, bytes, tuple[object, int] | None]:
    """An entry's field name, fragment and tail (see _Section); once per cycle for a shared entry."""
    key = (prefix, entry_id, id(entry))
    done = memo.get(key) if memo is not None else None
    if done is None:
        before = old.fragments.get(entry_id)
        done = (entry, *_split_fragment(prefix, entry_id, entry, old.tails.get(entry_id), before[1] if before else b""))
        if memo is not None:
            memo[key] = done
    return done[1], done[2], done[3]


def _split_fragment(
    prefix: bytes, entry_id: str, entry: object, tail: tuple[object, int] | None, before: bytes
) -> tuple[bytes, bytes, tuple[object, int] | None]:
    """_fragment, with the entry's last member (when an object) serialised on its own.

    The bytes are exactly orjson's for the whole entry. When `tail` says the previous fragment,
    `before`, holds the very same object last, its JSON is taken from there.
    """
    if type(entry) is not dict or not entry:
        return (*_fragment(prefix, entry_id, entry), None)
    last = next(reversed(entry))
    value = entry[last]
    if type(value) is not dict or not value:
        return (*_fragment(prefix, entry_id, entry), None)
    value_json = before[tail[1]:-1] if tail is not None and tail[0] is value else orjson.dumps(value)
    rest = dict(entry)
    del rest[last]
    head = orjson.dumps(entry_id) + b":" + orjson.dumps(rest)[:-1] + (b"," if rest else b"") + orjson.dumps(last) + b":"
    return prefix + entry_id.encode(), head + value_json + b"}", (value, len(head))


def assemble(fields: dict[bytes, bytes]) -> str:
    """The state's JSON from its fragments."""
    scalars: list[bytes] = []
    sections: dict[str, list[bytes]] = {name: [] for name in SECTIONS}
    for name, fragment in fields.items():
        section = _SECTION_OF.get(name[:2])
        if section is None:
            scalars.append(fragment)
        else:
            sections[section].append(fragment)
    parts = scalars + [orjson.dumps(name) + b":{" + b",".join(items) + b"}" for name, items in sections.items()]
    return (b"{" + b",".join(parts) + b"}").decode()


def fragments_of(state: Mapping[str, Any]) -> dict[bytes, bytes]:
    """Fragments without reuse (tests, one-off writes)."""
    return StateSerialiser().fragments(state)


@dataclass
class BoardHead:
    """Everything about a stored board but the state itself."""

    epoch: str
    seq: int
    as_of: str | None
    status_json: str

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = orjson.loads(self.status_json)
        return status


@dataclass
class StoredBoard(BoardHead):
    fields: dict[bytes, bytes] = field(default_factory=dict)

    @property
    def data_json(self) -> str:
        return assemble(self.fields)

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.data_json)
        return data


def new_epoch() -> str:
    return uuid.uuid4().hex[:12]


def _head(raw: dict[bytes, bytes]) -> BoardHead | None:
    if not raw or b"epoch" not in raw or b"seq" not in raw:
        return None
    return BoardHead(
        epoch=raw[b"epoch"].decode(),
        seq=int(raw[b"seq"]),
        as_of=raw.get(b"as_of", b"").decode() or None,
        status_json=raw.get(b"status", b"{}").decode(),
    )


def load(slug: str, client: redis.Redis | None = None) -> StoredBoard | None:
    """Read a board's head and state in one transaction, or None when there is none."""
    pipe = (client or get_redis()).pipeline(transaction=True)
    pipe.hgetall(_key(slug))
    pipe.hgetall(_data_key(slug))
    raw_head, fields = pipe.execute()
    head = _head(raw_head)
    if head is None:
        return None
    return StoredBoard(head.epoch, head.seq, head.as_of, head.status_json, fields)


def load_head(slug: str, client: redis.Redis | None = None) -> BoardHead | None:
    """Just the head: enough to tell whether a cached state is still current."""
    # The client does not decode responses, so the hash comes back as bytes.
    return _head(cast(dict[bytes, bytes], (client or get_redis()).hgetall(_key(slug))))


def save(
    slug: str,
    head: BoardHead,
    fields: dict[bytes, bytes],
    removed: Iterable[bytes] = (),
    *,
    replace: bool = False,
    client: redis.Redis | None = None,
) -> None:
    """Write the head and the changed fragments in one transaction (readers never see half).

    `replace` drops every stored fragment first (a new epoch, or a writer that does not know
    what is stored); otherwise only `fields` are written and `removed` deleted.
    """
    pipe = (client or get_redis()).pipeline(transaction=True)
    if replace:
        pipe.delete(_data_key(slug))
    if fields:
        # redis types the mapping with a union key, which a dict[bytes, bytes] is not (dict keys
        # are invariant): the same dict, uncopied.
        pipe.hset(_data_key(slug), mapping=cast(Mapping[FieldT, EncodableT], fields))
    removed = list(removed)
    if removed:
        pipe.hdel(_data_key(slug), *removed)
    pipe.hset(
        _key(slug),
        mapping={"epoch": head.epoch, "seq": head.seq, "as_of": head.as_of or "", "status": head.status_json},
    )
    pipe.execute()


def delete(slug: str, client: redis.Redis | None = None) -> None:
    (client or get_redis()).delete(_key(slug), _data_key(slug))

