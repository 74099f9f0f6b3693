"""Board state in Redis: the current state, its epoch and seq, and upstream health.

Any web process serves a snapshot from here without calling 8x8. The epoch is made when a
board's state is first written; if Redis loses its memory the next write makes a new one, and
browsers that see it resync.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson

from wallboard.live.redis import get_redis


def _key(slug: str) -> str:
    return f"wb:board:{slug}"


def dumps(value) -> str:
    """Compact JSON, the one serialisation used for everything sent or stored."""
    return orjson.dumps(value).decode()


def loads(text: str | bytes):
    return orjson.loads(text)


@dataclass
class StoredBoard:
    epoch: str
    seq: int
    as_of: str | None
    data_json: str
    status_json: str

    @property
    def data(self) -> dict:
        return orjson.loads(self.data_json)

    @property
    def status(self) -> dict:
        return orjson.loads(self.status_json)


def new_epoch() -> str:
    return uuid.uuid4().hex[:12]


def load(slug: str, client=None) -> StoredBoard | None:
    """Read a board's state atomically, or None when there is none."""
    raw = (client or get_redis()).hgetall(_key(slug))
    if not raw or b"epoch" not in raw:
        return None
    as_of = raw.get(b"as_of", b"").decode() or None
    return StoredBoard(
        epoch=raw[b"epoch"].decode(),
        seq=int(raw[b"seq"]),
        as_of=as_of,
        data_json=raw[b"data"].decode(),
        status_json=raw.get(b"status", b"{}").decode(),
    )


def load_head(slug: str, client=None) -> tuple[str, int] | None:
    """Just the epoch and seq: enough to tell whether a cached state is still current."""
    epoch, seq = (client or get_redis()).hmget(_key(slug), "epoch", "seq")
    if epoch is None or seq is None:
        return None
    return epoch.decode(), int(seq)


def save(slug: str, board: StoredBoard, client=None) -> None:
    """Write a board's state in one step so readers never see half of it."""
    (client or get_redis()).hset(
        _key(slug),
        mapping={
            "epoch": board.epoch,
            "seq": board.seq,
            "as_of": board.as_of or "",
            "data": board.data_json,
            "status": board.status_json,
        },
    )


def delete(slug: str, client=None) -> None:
    (client or get_redis()).delete(_key(slug))


def envelope(kind: str, slug: str, board: StoredBoard) -> str:
    """The common head of every message, as a JSON fragment without the closing brace."""
    return (
        f'{{"type":{dumps(kind)},"board":{dumps(slug)},"epoch":{dumps(board.epoch)},'
        f'"seq":{board.seq},"as_of":{dumps(board.as_of)}'
    )


def snapshot_text(slug: str, board: StoredBoard, version: str) -> str:
    """A snapshot message, assembled from the stored JSON without parsing it again."""
    return (
        envelope("snapshot", slug, board)
        + f',"version":{dumps(version)},"status":{board.status_json},"data":{board.data_json}}}'
    )


def patch_text(slug: str, board: StoredBoard, ops: list[dict]) -> str:
    return envelope("patch", slug, board) + f',"ops":{dumps(ops)}}}'


def status_text(slug: str, board: StoredBoard) -> str:
    return envelope("status", slug, board) + f',"status":{board.status_json}}}'
