"""The server messages of the board websocket (docs/protocol.md): their types and the envelope.

Every message the server sends starts with the same envelope: `type`, `board`, `epoch`, `seq`
and `as_of`. `envelope()` is the one place that makes it, and checks it with
`check_envelope()`, which tests also run over every message that really reaches a socket.
Snapshots, patches and status messages are assembled as text (the state is stored as JSON
fragments and never parsed again), so `envelope_text()` gives the envelope as the opening of
a JSON object; pending-status and control messages are small dicts.

The rule (check_envelope):
- `type` is `snapshot`, `patch`, `status` or `control`; `board` is the board's slug.
- `epoch` is the id of the board's stored state and `seq` (an int) counts from 1 within it.
  Only while no state exists yet (the "pending" status on connect, a control message before
  the first poll) is `epoch` null and `seq` 0.
- `as_of` is null or an ISO-8601 UTC time; null whenever `epoch` is.
- Each type carries exactly its own keys besides: snapshot `version`, `status`, `data`; patch
  `ops`; status `status`; control `action` (`reload` or `switch`) and, for `switch`, `url`.
- A control message repeats the board's current epoch, seq and as_of (from the store) without
  advancing seq: it goes to one display's screens, outside the board's sequence.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NotRequired, Protocol, TypedDict

import orjson

if TYPE_CHECKING:
    from wallboard.boards.state import BoardState

MessageType = Literal["snapshot", "patch", "status", "control"]
ControlAction = Literal["reload", "switch"]
MESSAGE_TYPES: tuple[MessageType, ...] = ("snapshot", "patch", "status", "control")
CONTROL_ACTIONS: tuple[ControlAction, ...] = ("reload", "switch")
ENVELOPE_KEYS = ("type", "board", "epoch", "seq", "as_of")
# The keys each type carries besides the envelope: (required, optional).
OWN_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "snapshot": (frozenset({"version", "status", "data"}), frozenset()),
    "patch": (frozenset({"ops"}), frozenset()),
    "status": (frozenset({"status"}), frozenset()),
    "control": (frozenset({"action"}), frozenset({"url"})),
}
PENDING_MESSAGE = "Waiting for the first data from 8x8."


class Status(TypedDict):
    """Upstream health, as in a `status` message and a snapshot's `status`."""

    state: str  # ok, degraded, unauthorised, unreachable, busy, malformed, unreadable_secret, disabled, pending
    since: str | None
    last_ok: str | None
    message: str


class Envelope(TypedDict):
    """What every server message starts with."""

    type: MessageType
    board: str
    epoch: str | None
    seq: int
    as_of: str | None


class SnapshotMessage(Envelope):
    version: str
    status: Status
    data: BoardState


class PatchMessage(Envelope):
    ops: list[dict[str, Any]]  # RFC 6902 operations


class StatusMessage(Envelope):
    status: Status


class ControlMessage(Envelope):
    action: ControlAction
    url: NotRequired[str]


ServerMessage = SnapshotMessage | PatchMessage | StatusMessage | ControlMessage


class Head(Protocol):
    """Where a board's sequence stands (wallboard.live.store.BoardHead)."""

    @property
    def epoch(self) -> str: ...

    @property
    def seq(self) -> int: ...

    @property
    def as_of(self) -> str | None: ...


class StoredState(Head, Protocol):
    """A stored board with its JSON parts (wallboard.live.store.StoredBoard)."""

    @property
    def status_json(self) -> str: ...

    @property
    def data_json(self) -> str: ...


class EnvelopeError(ValueError):
    """A server message that breaks the envelope rule: a bug, never sent."""


def dumps(value: object) -> str:
    """Compact JSON, as wallboard.live.store writes it."""
    return orjson.dumps(value).decode()


def envelope(kind: MessageType, board: str, head: Head | None) -> Envelope:
    """The envelope of a message about `board` at `head` (None: no state exists yet).

    Raises EnvelopeError when the result would break the rule.
    """
    message: Envelope = {
        "type": kind,
        "board": board,
        "epoch": head.epoch if head is not None else None,
        "seq": head.seq if head is not None else 0,
        "as_of": head.as_of if head is not None else None,
    }
    problems = check_envelope(message, own_keys=False)
    if problems:
        raise EnvelopeError(f"{kind} message for {board!r}: " + "; ".join(problems))
    return message


def envelope_text(kind: MessageType, board: str, head: Head) -> str:
    """The envelope as the opening of a JSON object: the message's own keys and `}` follow."""
    return dumps(envelope(kind, board, head))[:-1]


def snapshot_text(board: str, stored: StoredState, version: str) -> str:
    """A snapshot, assembled from the stored JSON without parsing it again."""
    return (
        envelope_text("snapshot", board, stored)
        + f',"version":{dumps(version)},"status":{stored.status_json},"data":{stored.data_json}}}'
    )


def patch_text(board: str, head: Head, ops: list[dict[str, Any]]) -> str:
    return envelope_text("patch", board, head) + f',"ops":{dumps(ops)}}}'


def status_text(board: str, head: Head, status_json: str) -> str:
    return envelope_text("status", board, head) + f',"status":{status_json}}}'


def pending_status(board: str) -> StatusMessage:
    """What a socket gets on connect while the board has no state yet (before the first poll)."""
    return {
        **envelope("status", board, None),
        "status": {"state": "pending", "since": None, "last_ok": None, "message": PENDING_MESSAGE},
    }


def control_message(board: str, head: Head | None, action: ControlAction, url: str | None = None) -> ControlMessage:
    """An administrator's action for one display, at the board's current head (seq not advanced)."""
    head_of = envelope("control", board, head)
    message: ControlMessage = {
        "type": "control",
        "board": head_of["board"],
        "epoch": head_of["epoch"],
        "seq": head_of["seq"],
        "as_of": head_of["as_of"],
        "action": action,
    }
    if action == "switch":
        message["url"] = url or "/kiosk/"
    return message


def _is_utc_iso(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.utcoffset() == timedelta(0)


def check_envelope(message: object, *, own_keys: bool = True) -> list[str]:
    """What is wrong with a server message by the envelope rule (module docstring); [] if nothing.

    With `own_keys`, also whether it carries exactly its type's keys besides the envelope.
    """
    if not isinstance(message, dict):
        return ["not a JSON object"]
    problems = [f"no {key!r}" for key in ENVELOPE_KEYS if key not in message]
    kind, board = message.get("type"), message.get("board")
    epoch, seq, as_of = message.get("epoch"), message.get("seq"), message.get("as_of")
    if kind not in MESSAGE_TYPES:
        problems.append(f"type {kind!r} is not one of {', '.join(MESSAGE_TYPES)}")
    if not isinstance(board, str) or not board:
        problems.append(f"board {board!r} is not a slug")
    if type(seq) is not int or seq < 0:
        problems.append(f"seq {seq!r} is not a count")
    if epoch is None:
        if seq != 0:
            problems.append(f"no epoch, but seq {seq!r} (must be 0 before the first state)")
        if as_of is not None:
            problems.append("no epoch, but an as_of")
        if kind in ("snapshot", "patch"):
            problems.append(f"a {kind} without an epoch")
    elif not isinstance(epoch, str) or not epoch:
        problems.append(f"epoch {epoch!r} is not an id")
    elif type(seq) is int and seq < 1:
        problems.append(f"seq {seq} in epoch {epoch!r} (counts from 1)")
    if as_of is not None and not _is_utc_iso(as_of):
        problems.append(f"as_of {as_of!r} is not an ISO-8601 UTC time")
    if not own_keys or kind not in OWN_KEYS:
        return problems
    required, optional = OWN_KEYS[kind]
    keys = set(message) - set(ENVELOPE_KEYS)
    problems += [f"{kind} without {key!r}" for key in sorted(required - keys)]
    problems += [f"{kind} with unexpected {key!r}" for key in sorted(keys - required - optional)]
    problems += _check_own(kind, message)
    return problems


def _check_own(kind: str, message: dict[Any, Any]) -> list[str]:
    problems: list[str] = []
    status = message.get("status")
    if kind in ("snapshot", "status") and not (isinstance(status, dict) and isinstance(status.get("state"), str)):
        problems.append(f"status {status!r} is not a health object")
    if kind == "snapshot":
        if not isinstance(message.get("data"), dict):
            problems.append("snapshot data is not an object")
        if not isinstance(message.get("version"), str):
            problems.append("snapshot version is not a string")
    elif kind == "patch" and not isinstance(message.get("ops"), list):
        problems.append("patch ops is not a list")
    elif kind == "control":
        action = message.get("action")
        if action not in CONTROL_ACTIONS:
            problems.append(f"control action {action!r} is not one of {', '.join(CONTROL_ACTIONS)}")
        url = message.get("url")
        if action == "switch" and not (isinstance(url, str) and url.startswith("/")):
            problems.append(f"switch url {url!r} is not a path")
        if action != "switch" and "url" in message:
            problems.append(f"a {action} control with a url")
    return problems
