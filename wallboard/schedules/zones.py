"""Time zones: resolving a schedule's zone name, and local wall-clock times to instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
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


def wall_to_utc(zone: tzinfo, day: int, minute: int) -> int:
    """The first instant (UTC epoch seconds) at which the wall clock in zone reads day+minute.

    day is a proleptic Gregorian ordinal, minute counts from that day's midnight (and may run
    past 1440 into the next days). A time that exists once maps to itself; one that exists
    twice (fall-back) maps to its first occurrence; one that does not exist (spring-forward
    gap) maps to the end of the gap, the first instant the clock has passed it.
    """
    return _wall_to_utc(zone, day, minute)


@lru_cache(maxsize=65536)
def _wall_to_utc(zone: tzinfo, day: int, minute: int) -> int:
    """Cached body of wall_to_utc: many schedules in one zone share their boundaries."""
    naive = datetime.fromordinal(day) + timedelta(minutes=minute)
    # fold=0 picks the first occurrence of an ambiguous time (PEP 495).
    first = int(naive.replace(tzinfo=zone).timestamp())
    if _wall(zone, first) == naive:
        return first
    return _gap_end(zone, naive, first)


def _wall(zone: tzinfo, ts: int) -> datetime:
    """The naive wall-clock reading in zone at epoch second ts."""
    return datetime.fromtimestamp(ts, zone).replace(tzinfo=None)


def _gap_end(zone: tzinfo, naive: datetime, guess: int) -> int:
    """Find the first instant whose wall clock is at or past naive, for a time in a gap.

    The two PEP 495 readings of a missing time (fold=0 and fold=1) fall on either side of
    the transition; the wall clock is monotonic between them, so bisect on seconds.
    """
    other = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    lo, hi = sorted((guess, other))
    if _wall(zone, hi) < naive or _wall(zone, lo) >= naive:
        return hi  # Not the shape of a gap we know; never seen with tzdata, keep going.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wall(zone, mid) >= naive:
            hi = mid
        else:
            lo = mid
    return hi
