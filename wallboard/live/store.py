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
from operator import is_not
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
        # Per section: the entries last serialised (by id), and each one's field name and fragment.
        self._entries: dict[str, dict[str, object]] = {}
        self._fragments: dict[str, dict[str, tuple[bytes, bytes]]] = {}

    def update(self, state: Mapping[str, Any]) -> None:
        """Serialise what changed since the last call."""
        changed: dict[bytes, bytes] = {}
        removed: list[bytes] = []
        scalars: dict[bytes, bytes] = {}
        entries: dict[str, dict[str, object]] = {}
        fragments: dict[str, dict[str, tuple[bytes, bytes]]] = {}
        for key, value in state.items():
            prefix = SECTIONS.get(key)
            if prefix is None or type(value) is not dict:
                name = SCALAR + key.encode()
                fragment = scalars[name] = orjson.dumps(key) + b":" + orjson.dumps(value)
                if self._scalars.get(name) != fragment:
                    changed[name] = fragment
                continue
            entries[key] = dict(value)  # a copy: the caller's dict may be reused
            fragments[key] = self._section(prefix, self._entries.get(key, {}), value,
                                           self._fragments.get(key, {}), changed, removed)
        removed += [name for name in self._scalars if name not in scalars]
        removed += [name for key, old in self._fragments.items() if key not in fragments for name, _ in old.values()]
        self._scalars, self._entries, self._fragments = scalars, entries, fragments
        self.changed, self.removed = changed, removed

    @staticmethod
    def _section(
        prefix: bytes,
        old: dict[str, object],
        new: dict[str, object],
        old_fragments: dict[str, tuple[bytes, bytes]],
        changed: dict[bytes, bytes],
        removed: list[bytes],
    ) -> dict[str, tuple[bytes, bytes]]:
        """One section's fragments, given last cycle's entries and fragments."""
        if len(old) == len(new) and list(old) == list(new):
            # The same ids in the same order (the usual cycle): find the few new objects in C.
            fragments = old_fragments.copy()
            for entry_id in compress(new, map(is_not, old.values(), new.values())):
                name, fragment = fragments[entry_id] = _fragment(prefix, entry_id, new[entry_id])
                changed[name] = fragment
            return fragments
        fragments = {}
        for entry_id, entry in new.items():
            if old.get(entry_id, _NONE) is entry:
                fragments[entry_id] = old_fragments[entry_id]
            else:
                name, fragment = fragments[entry_id] = _fragment(prefix, entry_id, entry)
                changed[name] = fragment
        removed += [old_fragments[entry_id][0] for entry_id in old if entry_id not in new]
        return fragments

    def fields(self) -> dict[bytes, bytes]:
        """Every fragment of the latest state."""
        out = dict(self._scalars)
        for fragments in self._fragments.values():
            out.update(fragments.values())
        return out

    def fragments(self, state: Mapping[str, Any]) -> dict[bytes, bytes]:
        """Update, then every fragment."""
        self.update(state)
        return self.fields()


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

