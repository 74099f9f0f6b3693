"""RFC 6902 JSON Patch between two board states.

Board states are nested objects keyed by id, so an object-by-object walk gives small patches:
a changed value is one `replace`, a new agent one `add`, a gone one one `remove`. Lists are
small and rarely change, so a changed list is replaced whole. Written here rather than taken from
a library because it runs for every board every cycle and must be fast; tests check it against
the `jsonpatch` package.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress, filterfalse, repeat
from operator import is_not
from typing import Any


def escape(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


_MISSING = object()
# From this many keys on, an object is scanned for changed values in C (identity of each value
# pair) rather than key by key: a board's agents are hundreds of entries of which a few are new
# objects each cycle, and a sparkline's hour of points gains one and loses one a minute.
BULK_SCAN_FROM = 16
# Sections (/queues, /agents) and entries (a queue, a group, an agent at /<section>/<id>): the
# levels boards share (wallboard.boards.state, compute_boards).
_SHARED_DEPTHS = (1, 2)


# One JSON Patch operation, and a cycle's memo: (path, id(old), id(new)) -> (old, new, operations).
Op = dict[str, Any]
Memo = dict[tuple[str, int, int], tuple[Any, Any, list[Op]]]


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python but not in JSON: compare types too.
    return type(a) is type(b) and a == b


def _diff(old: Any, new: Any, path: str, ops: list[Op], memo: Memo | None, depth: int = 0) -> None:
    if type(old) is dict and type(new) is dict:
        shared = memo if depth in _SHARED_DEPTHS else None
        if shared is not None:
            # Boards of one tenant share sections and entries (an agent's is the same object on
            # every board that shows it): the same pair at the same path gives the same operations.
            memo_key = (path, id(old), id(new))
            done = shared.get(memo_key)
            if done is not None:
                ops += done[2]
                return
            start = len(ops)
        if len(old) >= BULK_SCAN_FROM:
            added: Iterable[str] = ()
            if len(old) == len(new) and list(old) == list(new):
                changed: Iterable[str] = compress(old, map(is_not, old.values(), new.values()))
            else:
                # Keys came and went (a sparkline's new minute): the keys gone or holding
                # another object, still found in C and still in old's order.
                changed = compress(old, map(is_not, old.values(), map(new.get, old, repeat(_MISSING))))
                added = filterfalse(old.__contains__, new)
            for key in changed:
                old_value, new_value = old[key], new.get(key, _MISSING)
                if new_value is _MISSING:
                    ops.append({"op": "remove", "path": path + "/" + escape(key)})
                elif not _same(old_value, new_value):
                    _diff(old_value, new_value, path + "/" + escape(key), ops, memo, depth + 1)
            for key in added:
                ops.append({"op": "add", "path": path + "/" + escape(key), "value": new[key]})
        else:
            for key, old_value in old.items():
                new_value = new.get(key, _MISSING)
                if new_value is _MISSING:
                    ops.append({"op": "remove", "path": path + "/" + escape(key)})
                elif old_value is not new_value and not _same(old_value, new_value):
                    _diff(old_value, new_value, path + "/" + escape(key), ops, memo, depth + 1)
            for key, new_value in new.items():
                if key not in old:
                    ops.append({"op": "add", "path": path + "/" + escape(key), "value": new_value})
        if shared is not None:
            # The pair is kept with its operations so that neither id can be reused meanwhile.
            shared[memo_key] = (old, new, ops[start:])
        return
    if not _same(old, new):
        ops.append({"op": "replace", "path": path, "value": new})


def make_patch(old: Any, new: Any, memo: Memo | None = None) -> list[Op]:
    """Return the operations that turn `old` into `new`.

    Pass the same `memo` (a dict) for every board of one cycle to diff shared entries once;
    drop it after the cycle.
    """
    ops: list[Op] = []
    _diff(old, new, "", ops, memo)
    return ops
