"""Publishing board states: the one owner of each board's epoch, seq, patch and snapshot.

The poller hands over each board's new state and its tenant's status; this module decides
whether a new epoch begins, which seq each message gets, whether a status message goes
first, and what the patch is, then stores the state (wallboard.live.store) and sends the
messages (wallboard.live.publish). Nothing else writes a board's head.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from wallboard.boards.state import BoardState
from wallboard.live import messages, store
from wallboard.live.diff import Memo, make_patch
from wallboard.live.messages import Status
from wallboard.live.publish import send_board_texts

# Parsed states this process wrote last, by slug: (epoch, seq, state). Saves reading and
# parsing the stored state every cycle; checked against Redis so another process's write is
# never missed. With it, each board's serialiser knows exactly what Redis holds.
_previous_cache: dict[str, tuple[str, int, BoardState]] = {}
_serialisers: dict[str, store.StateSerialiser] = {}


def forget_cached_boards() -> None:
    """Drop this process's parsed states and serialisers, as if it had just started.

    The next cycle reads every board back from Redis. Tests use it to play a second worker
    process taking over a board; nothing in the application needs it.
    """
    _previous_cache.clear()
    _serialisers.clear()


class BoardCycle:
    """One poll cycle's publication of a tenant's boards.

    Made before the boards are computed: it reads each board's stored head (and its state,
    unless this process wrote it last), which the new states are diffed against. Boards of
    one cycle share one make_patch memo and one serialiser memo, so a section or an entry shown
    on several boards is diffed and serialised once.
    """

    def __init__(self, slugs: Iterable[str]):
        self._stored = {slug: _load_previous(slug) for slug in slugs}
        self._memo: Memo = {}
        self._fragments: store.Memo = {}

    def previous(self, slug: str) -> BoardState | None:
        """The board's state as stored, or None when Redis has none (its next one is a new epoch)."""
        stored = self._stored[slug]
        return stored[1] if stored else None

    def publish(self, slug: str, data: BoardState, as_of: str | None, status: Status) -> list[str]:
        """Store and send the board's new state; return the texts sent."""
        stored, previous = self._stored[slug] or (None, None)
        return _publish(slug, stored, previous, data, as_of, status, self._memo, self._fragments)

    def repeat(self, slug: str, status: Status) -> list[str]:
        """Send the stored state again, with a new status: no new data this cycle.

        The patch is empty (screens know we are alive) and `as_of` keeps saying how old the
        data is. Nothing is sent for a board without a stored state: return [].
        """
        loaded = self._stored[slug]
        if loaded is None:
            return []
        stored, data = loaded
        return _publish(slug, stored, data, data, stored.as_of, status)


def _load_previous(slug: str) -> tuple[store.BoardHead, BoardState] | None:
    """The stored head and the parsed state, or None when Redis has none (a new epoch)."""
    head = store.load_head(slug)
    if head is None:
        _previous_cache.pop(slug, None)
        return None
    cached = _previous_cache.get(slug)
    if cached and cached[:2] == (head.epoch, head.seq):
        return head, cached[2]
    _previous_cache.pop(slug, None)  # someone else wrote it: our serialiser's view is stale
    stored = store.load(slug)
    if stored is None:
        return None
    data: BoardState = orjson.loads(stored.data_json)  # what StoredBoard.data does, typed
    return stored, data


def _publish(
    slug: str,
    stored: store.BoardHead | None,
    previous: BoardState | None,
    data: BoardState,
    as_of: str | None,
    status: Status,
    memo: Memo | None = None,
    fragment_memo: store.Memo | None = None,
) -> list[str]:
    """Store a board's new state and send what changed to its group; return the texts sent.

    `stored`/`previous` are what Redis holds (from _load_previous). Without a stored state a
    new epoch begins.
    """
    status_json = messages.dumps(status)
    serialiser = _serialisers.setdefault(slug, store.StateSerialiser())
    texts: list[str] = []
    if stored is None:
        head = store.BoardHead(store.new_epoch(), 1, as_of, status_json)
        # The first message of a new epoch: browsers still on the old one resync at once.
        texts.append(messages.status_text(slug, head, status_json))
        store.save(slug, head, serialiser.fragments(data, fragment_memo), replace=True)
    else:
        cached = _previous_cache.get(slug)
        known = cached is not None and cached[:2] == (stored.epoch, stored.seq)
        old = cached[2] if cached is not None and known else previous
        head = store.BoardHead(stored.epoch, stored.seq, as_of, status_json)
        if _status_changed(stored.status, status):
            head.seq += 1
            texts.append(messages.status_text(slug, head, status_json))
        ops = make_patch(old, data, memo)
        head.seq += 1
        texts.append(messages.patch_text(slug, head, ops))
        if not ops:
            store.save(slug, head, {})
        elif known:
            serialiser.update(data, fragment_memo)
            store.save(slug, head, serialiser.changed, serialiser.removed)
        else:
            store.save(slug, head, serialiser.fragments(data, fragment_memo), replace=True)
    _previous_cache[slug] = (head.epoch, head.seq, data)
    send_board_texts(slug, texts)
    return texts


def _status_changed(old: Mapping[str, Any], new: Status) -> bool:
    """Whether the status needs a message of its own: its state or its words changed."""
    return old.get("state") != new.get("state") or old.get("message") != new.get("message")
