"""Time zones: resolving a schedule's zone name, and where a zone's UTC offset changes."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo


def resolve_zone(name: str | None, fallback: str) -> tuple[tzinfo, bool]:
    """Return (zone to use, True if the schedule's own zone was unusable).

    8x8 evaluates a schedule without a usable zone in the tenant's zone, so a missing or
    unknown name (the vendor's own sample says "PST8DT") falls back instead of failing.
    If even the tenant's zone is unusable, UTC is the last resort.
    """
    zone = _load(name if isinstance(name, str) else None)
    if zone is not None:
        return zone, False
    fallback_zone = _load(fallback if isinstance(fallback, str) else None)
    return (fallback_zone if fallback_zone is not None else _utc()), True


def zone_name(zone: tzinfo) -> str:
    """The name of a zone as returned by resolve_zone."""
    return getattr(zone, "key", None) or "UTC"


@lru_cache(maxsize=512)
def _load(name: str | None) -> ZoneInfo | None:
    """Load an IANA or POSIX-style zone (PST8PDT) by name, None if there is no such zone."""
    if not name:
        return None
    # A POSIX TZ value may start with ":" to mean "a file name follows".
    key = name.strip().lstrip(":").strip()
    if not key:
        return None
    try:
        return ZoneInfo(key)
    except (KeyError, ValueError, OSError, UnicodeError):
        # ZoneInfoNotFoundError is a KeyError; "../x" is a ValueError; a directory an OSError.
        return None


@lru_cache(maxsize=1)
def _utc() -> tzinfo:
    """UTC from the zone database when there is one, else the built-in fixed UTC."""
    return _load("UTC") or UTC


# Sampling step when looking for offset changes. A change is found exactly (to the second) as
# long as no zone changes its offset and back again within this step; since 1970 tzdata has no
# two changes of any kind within three hours.
_SCAN_STEP = 3 * 3600


def offset_periods(zone: tzinfo, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """((first UTC second, UTC offset in seconds), ...) for each stretch of constant offset in [start, end).

    The first entry starts at start. Within a stretch the wall clock reads utc + offset and runs
    with real time; where a new stretch begins it jumps: forward over a spring-forward gap,
    back over the repeated hour of a fall-back (or a whole day, Pacific/Apia 2011-12-30).
    """
    return _offset_periods(zone, start, end)


@lru_cache(maxsize=256)
def _offset_periods(zone: tzinfo, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """Cached body of offset_periods: every schedule in a zone asks for the same days."""
    periods = [(start, _offset(zone, start))]
    t = start
    while t < end:
        probe = min(t + _SCAN_STEP, end)
        if _offset(zone, probe) == periods[-1][1]:
            t = probe
            continue
        # The offset changed in (t, probe]: bisect to the first second of the new one, then
        # scan on from there (a second change may follow within the same step).
        lo, hi = t, probe
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset(zone, mid) == periods[-1][1]:
                lo = mid
            else:
                hi = mid
        periods.append((hi, _offset(zone, hi)))
        t = hi
    return tuple(periods)


def _offset(zone: tzinfo, ts: int) -> int:
    """The zone's UTC offset at epoch second ts, in seconds."""
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0
