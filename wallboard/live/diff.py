"""RFC 6902 JSON Patch between two board states.

Board states are nested objects keyed by id, so an object-by-object walk gives small patches:
a changed value is one `replace`, a new agent one `add`, a gone one one `remove`. Lists are
small and rarely change, so a changed list is replaced whole. Written here rather than taken from
a library because it runs for every board every cycle and must be fast; tests check it against
the `jsonpatch` package.
"""

from __future__ import annotations

from typing import Any


def escape(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python but not in JSON: compare types too.
    return type(a) is type(b) and a == b


def _diff(old: Any, new: Any, path: str, ops: list[dict]) -> None:
    if type(old) is dict and type(new) is dict:
        for key, old_value in old.items():
            new_value = new.get(key, _MISSING)
            if new_value is _MISSING:
                ops.append({"op": "remove", "path": path + "/" + escape(key)})
            elif old_value is not new_value and not _same(old_value, new_value):
                _diff(old_value, new_value, path + "/" + escape(key), ops)
        for key, new_value in new.items():
            if key not in old:
                ops.append({"op": "add", "path": path + "/" + escape(key), "value": new_value})
        return
    if not _same(old, new):
        ops.append({"op": "replace", "path": path, "value": new})


def make_patch(old: Any, new: Any) -> list[dict]:
    """Return the operations that turn `old` into `new`."""
    ops: list[dict] = []
    _diff(old, new, "", ops)
    return ops
