"""Analytics for Contact Center real-time (v5) answers -> the statistics API's normalised records.

A board must not notice which source fed it, so v5 entities become the same `Agent` and `Queue`
records as the Real Time Statistics API gives, wherever a v5 metric means what the old field
meant (../shared/api/8x8-analytics-realtime-v5.md, section 8). Every other metric is kept in
`extra` under its snake_case name: `slaPercentageTarget.today` -> `sla_percentage_target_today`,
`statusCode.rt` -> `status_code` (".rt", the current value, adds nothing to the name).

Units are normalised as the sheet assumes, and tests pin it: durations arrive in milliseconds
and become whole seconds (rounded down, as the statistics API counts them), percentages arrive as
0-1 fractions and become whole percent (rounded to nearest). Tolerated, because the vendor's own
documents disagree: a bare object where an array is expected, metrics as a list of {key, value}
or as a map, `eligibl.rt` for `eligible.rt`, queue-scoped agent keys with or without `.inQueue`,
counts as numeric strings, and the includeTotals element (id null), which is skipped.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from ..errors import MalformedError
from ..records import Agent, Queue

# Durations: the sheet states milliseconds for a few and the rest fit milliseconds (ASSUMPTION, §5).
DURATIONS = frozenset({
    "timeOnStatus", "timeOnStatusCode", "line1TimeOnStatus", "line2TimeOnStatus", "slaTimeThreshold",
    "avgDivertedTime", "avgHandlingTime", "avgOfferingTime", "avgProcessingTime", "avgWorkTime", "avgWrapUpTime",
    "interactionsAvgWaitTime", "longestOfferingTimeInQueue", "interactionsLongestWaitInQueue", "loggedInTime",
    "availableTime", "busyTime", "handlingTime", "offeringTime", "onBreakTime", "workingOfflineTime", "wrapUpTime",
    "directInboundTime", "directOutboundTime", "internalCallsTime", "averageHandlingTime", "averageHoldTime",
    "averageOfferingTime", "averageWrapUpTime", "conferenceTime", "longestHold", "longestOffering", "onHoldTime",
})
# Key spellings the documents disagree on, folded into the glossary's.
ALIASES = {"eligibl.rt": "eligible.rt"}
# status.rt strings -> the statistics API's status numbers. Available, Handling, OnBreak,
# WorkingOffline and LoggedOut are documented; the offered and wrap-up strings are not, so the
# likely spellings are accepted (compared without case, spaces, '-' and '_').
STATUS_CODES = {
    "available": 0, "offering": 1, "offered": 1, "alerting": 1, "handling": 2, "busy": 2,
    "wrapup": 3, "postprocessing": 3, "onbreak": 4, "break": 4, "workingoffline": 5, "offline": 5,
    "loggedout": 9,
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(slots=True)
class AgentGroup:
    """One agent group from /groups."""

    group_id: str
    group_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "group_id": self.group_id, "group_name": self.group_name}


# --- bodies ----------------------------------------------------------------------------------


def entities(body: bytes) -> list[dict[str, Any]]:
    """The entities of a Shape A answer: an array of {id, name, metrics}, or one bare object.

    The totals element (id null) is left out: it is no queue or agent.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedError("the Analytics answer is not JSON") from None
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedError("the Analytics answer is not a list of entities")
    return [item for item in items if not (item.get("id") is None and item.get("name") == "totals")]


def pairs_of(entity: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    """An entity's metrics as (key as it came, value), from a list of {key, value} or a map."""
    raw = entity.get("metrics")
    if raw is None:
        return ()
    if isinstance(raw, dict):
        return raw.items()
    if isinstance(raw, list):
        try:
            return [(m["key"], m.get("value")) for m in raw]
        except (TypeError, KeyError, AttributeError):
            raise MalformedError("an Analytics metric has no key") from None
    raise MalformedError("Analytics metrics are neither a list nor a map")


def _board_agent(entity: Mapping[str, Any]) -> Agent | None:
    """The poller's usual agent (status, reason code, time in status; nothing else), read
    straight; None for anything else, which the general way reads."""
    raw = entity.get("metrics")
    ident = entity.get("id")
    if type(raw) is not list or type(ident) is not str or not ident or len(raw) > 3:
        return None
    status = code = in_status = None
    seen_status = False
    for metric in raw:
        if type(metric) is not dict:
            return None
        key, value = metric.get("key"), metric.get("value")
        if key == "status.rt" and (value is None or type(value) is str):
            status, seen_status = value or None, True
        elif key == "statusCode.rt" and (value is None or type(value) is str):
            code = value or None
        elif key == "timeOnStatus.rt" and (value is None or type(value) is int):
            in_status = None if value is None else value // 1000
        else:
            return None
    name, group = entity.get("name"), entity.get("groupId")
    if not (name is None or type(name) is str) or not (group is None or type(group) is str):
        return None
    extra: dict[str, Any] = {"status": status} if seen_status else {}
    if entity.get("groupName") is not None:
        extra["group_name"] = text(entity.get("groupName"))
    return Agent(agent_id=ident, agent_name=name or None, agent_status=status_code(status), time_in_status=in_status,
                 status_code_item_short_code=code, group_id=group or None, extra=extra)


_CANONICAL: dict[str, str] = {}


def canonical(key: Any) -> str:
    """The glossary's spelling of a key: aliases folded, `.inQueue` dropped (remembered: a page
    of 1,000 agents repeats the same few keys)."""
    found = _CANONICAL.get(key) if isinstance(key, str) else None
    if found is not None:
        return found
    if not isinstance(key, str):
        raise MalformedError("an Analytics metric key is not a string")
    # Queue-scoped agent keys carry .inQueue in a queue context and not in a group one.
    found = ALIASES.get(key, key).removesuffix(".inQueue")
    if len(_CANONICAL) < 4096:
        _CANONICAL[key] = found
    return found


def metrics_of(entity: Mapping[str, Any]) -> dict[str, Any]:
    """An entity's metrics as canonical key -> value."""
    return {canonical(key): value for key, value in pairs_of(entity)}


# --- values ----------------------------------------------------------------------------------


def number(value: Any) -> float | int | None:
    """A number as it came (ints stay ints); numeric strings accepted; null stays None."""
    if type(value) is int:
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise MalformedError("a metric is not a finite number")
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else _finite(float(text))
        except ValueError:
            raise MalformedError(f"expected a number, got {value[:40]!r}") from None
    raise MalformedError(f"expected a number, got a {type(value).__name__}")


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def seconds(value: Any) -> int | None:
    """Milliseconds -> whole seconds, rounded down (the statistics API's whole seconds)."""
    ms = number(value)
    return None if ms is None else math.floor(ms / 1000)


def percent(value: Any) -> int | None:
    """A 0-1 fraction -> whole percent, rounded half up (0.8333 -> 83, 0.005 -> 1, 1.0 -> 100)."""
    fraction = number(value)
    return None if fraction is None else math.floor(fraction * 100 + 0.5)


def epoch(value: Any) -> int | None:
    """An ISO-8601 UTC timestamp ("2022-12-16T16:28:08.013Z") -> epoch seconds."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedError("a timestamp metric is not a string")
    try:
        return math.floor(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise MalformedError(f"not a timestamp: {value[:40]!r}") from None


_STATUS_SEEN: dict[str, int | None] = {}


def status_code(value: Any) -> int | None:
    """status.rt -> the statistics API's number (None for a string nobody documented)."""
    if not isinstance(value, str):
        return None
    if value in _STATUS_SEEN:
        return _STATUS_SEEN[value]
    code = STATUS_CODES.get(re.sub(r"[\s_-]", "", value).lower())
    if len(_STATUS_SEEN) < 1024:
        _STATUS_SEEN[value] = code
    return code


def text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@functools.lru_cache(maxsize=4096)
def snake_name(key: str) -> str:
    """`slaPercentage.int-30m` -> `sla_percentage_int_30m`; `.rt` adds nothing to the name."""
    base, _, period = key.partition(".")
    name = _CAMEL.sub("_", base).lower()
    period = period.replace(".", "_").replace("-", "_").lower()
    return name if period in ("", "rt") else f"{name}_{period}"


def normalised(key: str, value: Any) -> Any:
    """Any metric's value in our units: durations in seconds, percentages in percent."""
    base = key.partition(".")[0]
    if value is None:
        return None
    if base in DURATIONS:
        return seconds(value)
    if base.endswith("Percentage") or base == "slaPercentageTarget":
        return percent(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+(\.\d+)?", value.strip()):
        return number(value)
    return value


# --- records -------------------------------------------------------------------------------

Rule = tuple[str, Callable[[Any], Any]]
# record field <- (v5 key, conversion); the meaning must match (sheet §8), else it goes to extra.
QUEUE_RULES: dict[str, Rule] = {
    "queue_size": ("interactionsWaitInQueue.rt", number),
    "longest_wait_time": ("interactionsLongestWaitInQueue.rt", seconds),
    "thirty_min_longest_wait_time": ("interactionsLongestWaitInQueue.int-30m", seconds),
    # The old "current" SLA window is undefined; the last 15 minutes is the nearest (AMBIGUOUS).
    "sla_activity": ("slaPercentage.int-15m", percent),
    "day_sla_activity": ("slaPercentage.today", percent),
    "thirty_min_sla_activity": ("slaPercentage.int-30m", percent),
    "day_accepted": ("accepted.today", number),
    "thirty_min_accepted": ("accepted.int-30m", number),
    "day_abandoned": ("totalAbandoned.today", number),
    "thirty_min_abandoned": ("totalAbandoned.int-30m", number),
    "day_queued": ("entered.today", number),
    "thirty_min_queued": ("entered.int-30m", number),
    "day_avg_wait_time": ("interactionsAvgWaitTime.today", seconds),
    "thirty_min_avg_wait_time": ("interactionsAvgWaitTime.int-30m", seconds),
    "day_avg_duration": ("avgHandlingTime.today", seconds),
    "thirty_min_avg_duration": ("avgHandlingTime.int-30m", seconds),
    "enabled_agent_count": ("enabled.rt", number),
    "sla_target": ("slaTimeThreshold.today", seconds),  # the old field is the threshold in seconds
    "agent_count_wait_transact": ("availableIdle.rt", number),
    "agent_count_post_process": ("wrapUp.rt", number),
    "agent_count_on_break": ("onBreak.rt", number),
    "agent_count_work_offline": ("workingOffline.rt", number),
}
# agent_count_busy is offering + handling (the old count leaves wrap-up out; v5 busy.rt has it),
# number_in_progress is handling + wrap-up interactions: both sums below.
QUEUE_SUMS = {
    "agent_count_busy": ("offering.rt", "handling.rt"),
    "number_in_progress": ("interactionsHandling.rt", "interactionsWrapUp.rt"),
}
AGENT_RULES: dict[str, Rule] = {
    "agent_status": ("status.rt", status_code),
    "time_in_status": ("timeOnStatus.rt", seconds),
    "status_code_item_short_code": ("statusCode.rt", text),
    "last_login_time": ("lastLogin.rt", epoch),
    "day_accepted_count": ("accepted.today", number),
    "thirty_min_accepted_count": ("accepted.int-30m", number),
    "day_available_time": ("availableTime.today", seconds),
    "thirty_min_available_time": ("availableTime.int-30m", seconds),
    "day_break_time": ("onBreakTime.today", seconds),
    "thirty_min_break_time": ("onBreakTime.int-30m", seconds),
    "day_login_time": ("loggedInTime.today", seconds),
    "day_offline_time": ("workingOfflineTime.today", seconds),
    "thirty_min_offline_time": ("workingOfflineTime.int-30m", seconds),
    "day_processing_time": ("handlingTime.today", seconds),
    "thirty_min_processing_time": ("handlingTime.int-30m", seconds),
    "day_wrap_up_time": ("wrapUpTime.today", seconds),
    "thirty_min_wrap_up_time": ("wrapUpTime.int-30m", seconds),
    "day_avg_processing_time": ("averageHandlingTime.today", seconds),
    "thirty_min_avg_handling_time": ("averageHandlingTime.int-30m", seconds),
}
AGENT_SUMS = {
    "day_rejected_count": ("rejected.today", "rejectTimeout.today"),
    "thirty_min_rejected_count": ("rejected.int-30m", "rejectTimeout.int-30m"),
}
# The same rules by v5 key, so a record costs one look-up per metric that came.
_QUEUE_BY_KEY = {key: (name, convert) for name, (key, convert) in QUEUE_RULES.items()}
_AGENT_BY_KEY = {key: (name, convert) for name, (key, convert) in AGENT_RULES.items()}
_QUEUE_SUMMED = {key for pair in QUEUE_SUMS.values() for key in pair}
_AGENT_SUMMED = {key for pair in AGENT_SUMS.values() for key in pair}


def _sum(metrics: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    present = [value for key in keys if (value := number(metrics.get(key))) is not None]
    return sum(present) if present else None


def _split(
    entity: Mapping[str, Any], by_key: Mapping[str, Rule], summed: set[str], sums: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(record fields, extra) from one entity's metrics, in one pass over them.

    status.rt is kept as it came too (`status`): a string nobody documented still says something.
    """
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    parts: dict[str, Any] = {}
    for raw_key, value in pairs_of(entity):
        key = canonical(raw_key)
        rule = by_key.get(key)
        if rule is not None:
            values[rule[0]] = rule[1](value)
            if key == "status.rt":
                extra["status"] = text(value)
        elif key in summed:
            parts[key] = value
        else:
            extra[snake_name(key)] = normalised(key, value)
    for name, keys in sums.items():
        if any(key in parts for key in keys):
            values[name] = _sum(parts, keys)
    return values, extra


def _identity(entity: Mapping[str, Any]) -> tuple[str, str | None]:
    ident, name = entity.get("id"), entity.get("name")
    if not isinstance(ident, str | int) or isinstance(ident, bool) or str(ident) == "":
        raise MalformedError("an Analytics entity has no id")
    return str(ident), text(name)


def queue_record(entity: Mapping[str, Any]) -> Queue:
    """One /queues entity as the statistics API's queue record."""
    queue_id, name = _identity(entity)
    values, extra = _split(entity, _QUEUE_BY_KEY, _QUEUE_SUMMED, QUEUE_SUMS)
    return Queue(queue_id=queue_id, queue_name=name, extra=extra, **values)


def agent_record(entity: Mapping[str, Any]) -> Agent:
    """One /agents (or group/queue agents) entity as the statistics API's agent record."""
    return _board_agent(entity) or general_agent(entity)


def general_agent(entity: Mapping[str, Any]) -> Agent:
    """agent_record the general way: any metrics, any layout (the fast way must agree with it)."""
    agent_id, name = _identity(entity)
    values, extra = _split(entity, _AGENT_BY_KEY, _AGENT_SUMMED, AGENT_SUMS)
    if entity.get("groupName") is not None:
        extra["group_name"] = text(entity.get("groupName"))
    return Agent(agent_id=agent_id, agent_name=name, group_id=text(entity.get("groupId")), extra=extra, **values)


def group_record(entity: Mapping[str, Any]) -> AgentGroup:
    """One /groups entity: its id, name and (normalised) metrics."""
    group_id, name = _identity(entity)
    metrics = metrics_of(entity)
    return AgentGroup(group_id, name, {snake_name(k): normalised(k, v) for k, v in metrics.items()})


def records(body: bytes, make: Callable[[Mapping[str, Any]], Any]) -> list[Any]:
    """Every entity of one page as a record; a value of the wrong type is a malformed answer."""
    try:
        return [make(entity) for entity in entities(body)]
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedError(f"an Analytics value could not be read ({type(exc).__name__})") from None
