"""A small discrete-event contact center: agents, queues and interactions over one day.

Pure Python, no Django. Everything is a function of (seed, roster size, time zone, simulated
time): each local day is simulated on its own from local midnight, with a starting state (who is
still on a night shift) derived from the previous day's plan, so two simulators with the same
seed agree at the same instant however they were stepped.

Life of an interaction: it arrives on a queue (rate = time-of-day staffing curve x bursts),
waits (FIFO), is offered to the agent enabled for that queue who has been available longest,
is accepted (busy), wrapped up (post processing), or is abandoned if the caller runs out of
patience first. Agents log in, take breaks, work offline and log out according to a daily plan;
a planned break waits until the agent finishes what they are doing.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

AVAILABLE, OFFERED, BUSY, POST, BREAK, OFFLINE, LOGGED_OUT = 0, 1, 2, 3, 4, 5, 9
MEDIA_ID = {"phone": 1, "chat": 2, "email": 3, "vmail": 4}
# Media pattern by queue index: small rosters (the 8-queue demo) still get every kind.
MEDIA_CYCLE = ["phone", "chat", "email", "phone", "vmail", "chat", "phone", "email"]
MEDIA_LABEL = {"phone": "Phone", "chat": "Chat", "email": "Email", "vmail": "Voicemail"}
SLA_TARGET = {"phone": 20, "chat": 60, "email": 14400, "vmail": 3600}  # seconds
HANDLE_MEAN = {"phone": 240, "chat": 420, "email": 360, "vmail": 120}
WRAP_RANGE = {"phone": (20, 90), "chat": (15, 60), "email": (30, 120), "vmail": (15, 45)}
PATIENCE_MEAN = {"phone": 150.0, "chat": 240.0}  # email and voicemail never abandon
DEPARTMENTS = [
    "Sales", "Support", "Billing", "Technical", "Renewals", "Onboarding",
    "Returns", "Accounts", "Retention", "Partners", "Shipping", "Claims",
]
FIRST = [
    "John", "Cecilia", "Maria", "Ahmed", "Priya", "Liam", "Olivia", "Noah", "Emma", "Lucas",
    "Sofia", "Mateo", "Aisha", "Kenji", "Chloe", "Diego", "Fatima", "Ivan", "Grace", "Omar",
    "Hannah", "Tomas", "Yuki", "Zara", "Ben", "Nadia", "Pedro", "Ruth", "Samuel", "Elena",
]
LAST = [
    "Doe", "Lee", "Garcia", "Khan", "Patel", "Smith", "Brown", "Nguyen", "Müller", "Rossi",
    "Silva", "Kim", "O'Brien", "Novak", "Haddad", "Jensen", "Tanaka", "Dubois", "Cohen", "Okafor",
    "Walsh", "Ivanova", "Santos", "Berg", "Moreau", "Fischer", "Costa", "Ali", "Park", "Evans",
]
BREAK_CODES = {"BRK": ("11", "BRK"), "LUNCH": ("12", "LUNCH"), "RONA": ("13", "RONA")}
OFFLINE_CODES = [("21", "ADMIN"), ("22", "TRAIN"), ("23", "COACH")]
SEGMENT = 600  # arrival rates are piecewise constant over ten-minute segments
LOAD = 0.7  # offered work per logged-in agent; breaks and bursts push queues over the edge


@dataclass(frozen=True)
class QueueDef:
    """A queue as configured: fixed for the simulator's life."""

    index: int
    queue_id: str
    name: str
    media: str
    group: int


@dataclass(frozen=True)
class AgentDef:
    """An agent as configured: login id, group, and the queues they are assigned/enabled for."""

    index: int
    agent_id: str
    name: str
    group_id: str
    assigned: tuple[int, ...]
    enabled: tuple[int, ...]
    has_line2: bool


@dataclass(frozen=True)
class Roster:
    """Agents, queues and groups, derived from the seed and the requested sizes only."""

    seed: int
    agents: list[AgentDef]
    queues: list[QueueDef]
    group_ids: list[str]


@dataclass(frozen=True)
class Shift:
    """One agent's plan for one day: offsets in seconds from that day's local midnight."""

    start: int
    end: int  # may exceed 86400: a night shift runs into the next day
    breaks: tuple[tuple[int, int, str], ...]  # (at, duration, code)
    offline: tuple[tuple[int, int, int], ...]  # (at, duration, index into OFFLINE_CODES)


@dataclass(frozen=True, slots=True)
class Pause:
    """A planned break, offline spell or end of shift, waiting until the agent is idle."""

    kind: str  # "break", "offline" or "logout"
    duration: int  # seconds
    code: tuple[str, str, str] | None = None  # (item id, short code, list id) shown meanwhile


# A statistics record (an agent or a queue) under the API's own field names, as rendered.
Record = dict[str, Any]
# Event callbacks take the event's time, then the arguments it was scheduled with.
Event = tuple[float, int, int, Callable[..., None], tuple[object, ...]]


def _break(duration: int, code: str) -> Pause:
    item, short = BREAK_CODES[code]
    return Pause("break", duration, (item, short, "1"))


def _offline(duration: int, code_index: int) -> Pause:
    item, short = OFFLINE_CODES[code_index]
    return Pause("offline", duration, (item, short, "2"))


def build_roster(seed: int, n_agents: int, n_queues: int) -> Roster:
    """Make the configuration: a few groups (departments), queues per group, agents per group."""
    rng = random.Random(f"roster:{seed}")
    n_groups = max(1, min(12, round(n_agents / 25) or 1, n_queues))
    group_ids = [str(101 + g) for g in range(n_groups)]
    queues = _build_queues(n_queues, n_groups)
    by_group: list[list[int]] = [[q.index for q in queues if q.group == g] for g in range(n_groups)]
    agents = []
    used: set[str] = set()
    for i in range(n_agents):
        group = i % n_groups
        first, last = rng.choice(FIRST), rng.choice(LAST)
        agent_id = _login_id(first, last, used)
        assigned, enabled = _skills(rng, i // n_groups, by_group[group], n_queues)
        agents.append(AgentDef(i, agent_id, f"{first} {last}", group_ids[group], assigned, enabled, rng.random() < 0.1))
    return Roster(seed, agents, queues, group_ids)


def _build_queues(n_queues: int, n_groups: int) -> list[QueueDef]:
    queues = []
    names: set[str] = set()
    for i in range(n_queues):
        media = MEDIA_CYCLE[i % len(MEDIA_CYCLE)]
        group = i % n_groups
        base = f"{DEPARTMENTS[(i // len(MEDIA_CYCLE) + i) % len(DEPARTMENTS)]} {MEDIA_LABEL[media]}"
        name, k = base, 2
        while name in names:
            name, k = f"{base} {k}", k + 1
        names.add(name)
        queues.append(QueueDef(i, str(201 + i), name, media, group))
    return queues


def _login_id(first: str, last: str, used: set[str]) -> str:
    base = (first[0] + "".join(c for c in last if c.isalpha())).lower().encode("ascii", "ignore").decode() or "agent"
    login, k = base, 2
    while login in used:
        login, k = f"{base}{k}", k + 1
    used.add(login)
    return login


def _skills(rng: random.Random, nth: int, group_queues: list[int], n_queues: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A handful of the group's queues plus sometimes one elsewhere; a few assigned but disabled."""
    if not group_queues:
        group_queues = list(range(n_queues))
    k = min(len(group_queues), rng.randint(2, 5))
    # Round-robin on the first pick (the nth agent of the group), so every queue gets agents.
    first = group_queues[nth % len(group_queues)]
    chosen = [first] + [q for q in rng.sample(group_queues, k) if q != first][: k - 1]
    if n_queues > len(group_queues) and rng.random() < 0.3:
        other = rng.randrange(n_queues)
        if other not in chosen:
            chosen.append(other)
    chosen.sort()
    enabled = [q for q in chosen if q == first or rng.random() > 0.1]
    return tuple(chosen), tuple(enabled)


def plan_shift(seed: int, day: date, agent: AgentDef) -> Shift | None:
    """The agent's plan for a day (None: day off). Night shifts start late and end next morning."""
    rng = random.Random(f"shift:{seed}:{day.isoformat()}:{agent.index}")
    weekend = day.weekday() >= 5
    if rng.random() < (0.6 if weekend else 0.12):
        return None
    kind = rng.random()
    if kind < 0.2:
        start_h = rng.uniform(6.0, 8.0)
    elif kind < 0.55:
        start_h = rng.uniform(8.0, 10.0)
    elif kind < 0.7:
        start_h = rng.uniform(11.0, 13.0)
    elif kind < 0.9:
        start_h = rng.uniform(14.0, 16.0)
    else:
        start_h = rng.uniform(21.0, 23.0)
    start = int(start_h * 3600)
    length = int(rng.uniform(6.0, 9.0) * 3600)
    breaks = []
    for n, frac in enumerate((0.25, 0.5, 0.75)):
        if n != 1 and rng.random() < 0.2:
            continue
        code = "LUNCH" if n == 1 else "BRK"
        duration = rng.randint(1800, 2700) if code == "LUNCH" else rng.randint(600, 1200)
        breaks.append((start + int(length * frac) + rng.randint(-900, 900), duration, code))
    offline = []
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        offline.append((start + rng.randint(1800, max(1801, length - 1800)), rng.randint(300, 1500), rng.randrange(3)))
    return Shift(start, start + length, tuple(breaks), tuple(sorted(offline)))


def day_bounds(day: date, tz: ZoneInfo) -> tuple[float, float]:
    """Epoch seconds of local midnight at the start and end of the day (23 or 25 h on DST days)."""
    start = datetime.combine(day, time(), tz).timestamp()
    end = datetime.combine(day + timedelta(days=1), time(), tz).timestamp()
    return start, end


class Interaction:
    """One call, chat, email or voicemail."""

    __slots__ = ("queue", "arrival", "state", "handle")
    WAITING, OFFERED, TAKEN, ABANDONED = range(4)

    def __init__(self, queue: int, arrival: float, handle: float) -> None:
        self.queue = queue
        self.arrival = arrival
        self.state = Interaction.WAITING
        self.handle = handle


# Which day/half-hour time bucket each agent status feeds. Being offered counts as available
# time, so day-login-time equals the sum of the five buckets.
BUCKET = {AVAILABLE: 0, OFFERED: 0, BUSY: 1, POST: 2, BREAK: 3, OFFLINE: 4}


class AgentState:
    """What one agent is doing now and their counters for the day and the half hour."""

    __slots__ = (
        "d", "state", "since", "token", "pending", "inter", "media_id", "last_login", "code",
        "day_t", "hh_t", "day_acc", "hh_acc", "day_rej", "hh_rej", "day_hsum", "day_hn", "hh_hsum", "hh_hn",
        "line1", "line1_since",
    )

    def __init__(self, d: AgentDef, since: float) -> None:
        self.d = d
        self.state = LOGGED_OUT
        self.since = since
        self.token = 0
        self.pending: list[Pause] = []
        self.inter: Interaction | None = None
        self.media_id = 0
        self.last_login = -1
        self.code: tuple[str, str, str] | None = None  # (item id, short code, list id)
        self.day_t = [0.0] * 5
        self.hh_t = [0.0] * 5
        self.day_acc = self.hh_acc = self.day_rej = self.hh_rej = 0
        self.day_hsum = self.hh_hsum = 0.0
        self.day_hn = self.hh_hn = 0
        self.line1 = -1
        self.line1_since = since


class QueueState:
    """Waiting interactions and the day and half-hour counters of one queue."""

    __slots__ = (
        "d", "waiting", "size", "offered", "rates",
        "day_q", "day_acc", "day_ab", "day_wsum", "day_wn", "day_dsum", "day_dn", "day_ok", "day_sn",
        "hh_q", "hh_acc", "hh_ab", "hh_wsum", "hh_wn", "hh_dsum", "hh_dn", "hh_ok", "hh_sn", "hh_longest",
        "recent",
    )

    def __init__(self, d: QueueDef) -> None:
        self.d = d
        self.waiting: deque[Interaction] = deque()
        self.size = 0
        self.offered = 0
        self.rates: list[float] = []
        self.recent: deque[tuple[float, bool]] = deque()  # (finished at, within target) for sla-activity
        self.reset_day()

    def reset_day(self) -> None:
        self.day_q = self.day_acc = self.day_ab = self.day_wn = self.day_dn = self.day_ok = self.day_sn = 0
        self.day_wsum = self.day_dsum = 0.0
        self.reset_half_hour()

    def reset_half_hour(self) -> None:
        self.hh_q = self.hh_acc = self.hh_ab = self.hh_wn = self.hh_dn = self.hh_ok = self.hh_sn = 0
        self.hh_wsum = self.hh_dsum = 0.0
        self.hh_longest = -1.0


class Day:
    """One local day of the contact center, advanced event by event up to a given instant."""

    def __init__(self, roster: Roster, day: date, tz: ZoneInfo) -> None:
        self.roster = roster
        self.day = day
        self.start, self.end = day_bounds(day, tz)
        self.now = self.start
        self.hh_start = self.start
        self.rng = random.Random(f"day:{roster.seed}:{day.isoformat()}")
        self._heap: list[Event] = []
        self._seq = 0
        self.agents = [AgentState(a, self.start) for a in roster.agents]
        self.queues = [QueueState(q) for q in roster.queues]
        # Available agents per queue; the longest-available one gets the next interaction.
        self.available: list[set[int]] = [set() for _ in roster.queues]
        self._assigned = [0] * len(roster.queues)
        for a in roster.agents:
            for qi in a.assigned:
                self._assigned[qi] += 1
        self._plan_agents(tz)
        self._plan_arrivals()
        for k in range(1, math.ceil((self.end - self.start) / 1800)):
            self._at(self.start + k * 1800, self._half_hour, (), prio=0)

    # --- scheduling -------------------------------------------------------------------------

    def _at(self, when: float, fn: Callable[..., None], args: tuple[object, ...], prio: int = 1) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, prio, self._seq, fn, args))

    def advance(self, until: float) -> None:
        """Process every event up to and including `until` (never beyond the end of the day)."""
        until = min(until, self.end - 0.001)
        heap = self._heap
        while heap and heap[0][0] <= until:
            when, _, _, fn, args = heapq.heappop(heap)
            self.now = when
            fn(when, *args)
        self.now = max(self.now, until)

    def _plan_agents(self, tz: ZoneInfo) -> None:
        seed, prev = self.roster.seed, self.day - timedelta(days=1)
        prev_start, _ = day_bounds(prev, tz)
        before = self.day - timedelta(days=2)
        self._spans: list[tuple[float, float]] = []  # logged-in periods, for the arrival rates
        for a in self.agents:
            yesterday = plan_shift(seed, prev, a.d)
            if yesterday and prev_start + yesterday.end > self.start:
                # Still on last night's shift at midnight: logged in and available.
                self._carry_over(a, yesterday, prev_start)
            else:
                self._logged_out_at_midnight(a, yesterday, prev_start, before, tz)
            today = plan_shift(seed, self.day, a.d)
            if today:
                self._schedule_shift(a, today, self.start)

    def _carry_over(self, a: AgentState, shift: Shift, base: float) -> None:
        self._spans.append((self.start, min(self.end, base + shift.end)))
        a.last_login = int(base + shift.start)
        a.state, a.since, a.line1, a.line1_since = AVAILABLE, self.start, 0, self.start
        self._make_available(a, self.start)
        self._schedule_shift(a, shift, base, login=False)

    def _logged_out_at_midnight(self, a: AgentState, yesterday: Shift | None, base: float, before: date, tz: ZoneInfo) -> None:
        if yesterday:
            a.last_login = int(base + yesterday.start)
            a.since = base + yesterday.end
            return
        older = plan_shift(self.roster.seed, before, a.d)
        if older:
            older_start, _ = day_bounds(before, tz)
            a.last_login = int(older_start + older.start)
            a.since = min(older_start + older.end, self.start)
        # Otherwise: no record, so last-login-time and time-in-status are -1 ("no data").
        else:
            a.since = -1

    def _schedule_shift(self, a: AgentState, s: Shift, base: float, login: bool = True) -> None:
        def at(offset: int, fn: Callable[..., None], args: tuple[object, ...]) -> None:
            when = base + offset
            if self.start <= when < self.end:
                self._at(when, fn, args)

        if login:
            at(s.start, self._login, (a,))
            if base + s.start < self.end:
                self._spans.append((base + s.start, min(self.end, base + s.end)))
        for offset, duration, code in s.breaks:
            at(offset, self._want, (a, _break(duration, code)))
        for offset, duration, code_index in s.offline:
            at(offset, self._want, (a, _offline(duration, code_index)))
        at(s.end, self._want, (a, Pause("logout", 0)))

    def _plan_arrivals(self) -> None:
        """Per-queue arrival rates per ten-minute segment: staffing curve x capacity share x bursts."""
        n_seg = math.ceil((self.end - self.start) / SEGMENT)
        staffed = self._staffing(n_seg)
        share = [0.0] * len(self.queues)
        for a in self.roster.agents:
            for qi in a.enabled:
                share[qi] += 1.0 / len(a.enabled)
        for q in self.queues:
            media = q.d.media
            cycle = HANDLE_MEAN[media] + sum(WRAP_RANGE[media]) / 2 + 6
            bursts = self._bursts(q.d, n_seg)
            q.rates = [LOAD * staffed[k] * share[q.d.index] * bursts[k] / cycle for k in range(n_seg)]
            self._next_arrival(q, self.start)

    def _staffing(self, n_seg: int) -> list[float]:
        """Fraction of the roster logged in during each segment, from the plans (a difference array)."""
        diff = [0.0] * (n_seg + 1)
        weight = 1.0 / max(1, len(self.agents))
        for begin, end in self._spans:
            diff[max(0, int((begin - self.start) // SEGMENT))] += weight
            diff[min(n_seg, int((end - self.start) // SEGMENT))] -= weight
        out, run = [], 0.0
        for k in range(n_seg):
            run += diff[k]
            out.append(max(0.0, run))
        return out

    def _bursts(self, q: QueueDef, n_seg: int) -> list[float]:
        rng = random.Random(f"bursts:{self.roster.seed}:{self.day.isoformat()}:{q.index}")
        factors = [1.0] * n_seg
        for _ in range(rng.randint(1, 3)):
            first = rng.randint(42, 114)  # between 07:00 and 19:00
            for k in range(first, min(n_seg, first + rng.randint(1, 3))):
                factors[k] = rng.uniform(2.0, 4.0)
        return factors

    def _next_arrival(self, q: QueueState, t: float) -> None:
        """Draw the next arrival of a non-homogeneous Poisson process with piecewise-constant rate."""
        need = self.rng.expovariate(1.0)
        k = int((t - self.start) // SEGMENT)
        while k < len(q.rates):
            seg_end = self.start + (k + 1) * SEGMENT
            rate = q.rates[k]
            if rate > 0 and rate * (seg_end - t) >= need:
                self._at(t + need / rate, self._arrive, (q,), prio=2)
                return
            need -= rate * (seg_end - t)
            t, k = seg_end, k + 1

    # --- events -----------------------------------------------------------------------------

    def _half_hour(self, t: float) -> None:
        self.hh_start = t
        for a in self.agents:
            a.hh_t = [0.0] * 5
            a.hh_acc = a.hh_rej = a.hh_hn = 0
            a.hh_hsum = 0.0
        for q in self.queues:
            q.reset_half_hour()

    def _arrive(self, t: float, q: QueueState) -> None:
        media = q.d.media
        inter = Interaction(q.d.index, t, self.rng.lognormvariate(math.log(HANDLE_MEAN[media]) - 0.125, 0.5))
        q.day_q += 1
        q.hh_q += 1
        self._patience(t, inter)
        agent = self._pick_agent(q.d.index)
        if agent is not None:
            self._offer(t, agent, inter)
        else:
            q.waiting.append(inter)
            q.size += 1
        self._next_arrival(q, t)

    def _patience(self, t: float, inter: Interaction) -> None:
        """Phone callers and chatters give up after a while; emails and voicemails wait forever."""
        mean = PATIENCE_MEAN.get(self.queues[inter.queue].d.media)
        if mean:
            self._at(t + max(5.0, self.rng.expovariate(1.0 / mean)), self._abandon, (inter,))

    def _pick_agent(self, queue: int) -> AgentState | None:
        free = self.available[queue]
        if not free:
            return None
        agents = self.agents
        return agents[min(free, key=lambda i: (agents[i].since, i))]

    def _head(self, q: QueueState) -> Interaction | None:
        while q.waiting and q.waiting[0].state != Interaction.WAITING:
            q.waiting.popleft()
        return q.waiting[0] if q.waiting else None

    def _offer(self, t: float, a: AgentState, inter: Interaction) -> None:
        q = self.queues[inter.queue]
        inter.state = Interaction.OFFERED
        q.offered += 1
        self._set_state(t, a, OFFERED)
        a.inter = inter
        if q.d.media == "phone":
            self._line(t, a, 3)
        rejected = self.rng.random() < 0.03
        ring = 15.0 if rejected else (self.rng.uniform(2, 9) if q.d.media in ("phone", "chat") else 1.0)
        a.token += 1
        self._at(t + ring, self._offer_end, (a, a.token, rejected))

    def _offer_end(self, t: float, a: AgentState, token: int, rejected: bool) -> None:
        if token != a.token:
            return
        inter = a.inter
        assert inter is not None  # the offer set it, and a new token would have cancelled this end
        q = self.queues[inter.queue]
        q.offered -= 1
        if rejected:
            # Ring-no-answer: the interaction goes back to the head of its queue, the agent on break.
            a.day_rej += 1
            a.hh_rej += 1
            a.inter = None
            inter.state = Interaction.WAITING
            q.waiting.appendleft(inter)
            q.size += 1
            self._patience(t, inter)
            self._line(t, a, 0)
            a.pending.insert(0, _break(self.rng.randint(30, 90), "RONA"))
            self._free(t, a)
            other = self._pick_agent(inter.queue)
            if other is not None and self._head(q) is inter:
                q.waiting.popleft()
                q.size -= 1
                self._offer(t, other, inter)
            return
        inter.state = Interaction.TAKEN
        wait = t - inter.arrival
        within = wait <= SLA_TARGET[q.d.media]
        self._finish_wait(t, q, wait, within)
        q.day_acc += 1
        q.hh_acc += 1
        a.day_acc += 1
        a.hh_acc += 1
        a.media_id = MEDIA_ID[q.d.media]
        self._set_state(t, a, BUSY)
        if q.d.media == "phone":
            self._line(t, a, 5)
        a.token += 1
        self._at(t + inter.handle, self._busy_end, (a, a.token))

    def _finish_wait(self, t: float, q: QueueState, wait: float, within: bool) -> None:
        q.day_wsum += wait
        q.day_wn += 1
        q.hh_wsum += wait
        q.hh_wn += 1
        q.hh_longest = max(q.hh_longest, wait)
        q.day_sn += 1
        q.hh_sn += 1
        q.day_ok += within
        q.hh_ok += within
        q.recent.append((t, within))

    def _abandon(self, t: float, inter: Interaction) -> None:
        if inter.state != Interaction.WAITING:
            return
        inter.state = Interaction.ABANDONED
        q = self.queues[inter.queue]
        q.size -= 1
        q.day_ab += 1
        q.hh_ab += 1
        wait = t - inter.arrival
        if wait > SLA_TARGET[q.d.media]:
            self._finish_wait(t, q, wait, False)
        else:
            # A short abandon is neither a success nor a failure of the service level.
            q.day_wsum += wait
            q.day_wn += 1
            q.hh_wsum += wait
            q.hh_wn += 1
            q.hh_longest = max(q.hh_longest, wait)

    def _busy_end(self, t: float, a: AgentState, token: int) -> None:
        if token != a.token:
            return
        inter = a.inter
        assert inter is not None  # the accepted offer set it, and a new token would have cancelled this end
        q = self.queues[inter.queue]
        duration = t - a.since
        q.day_dsum += duration
        q.day_dn += 1
        q.hh_dsum += duration
        q.hh_dn += 1
        a.day_hsum += duration
        a.day_hn += 1
        a.hh_hsum += duration
        a.hh_hn += 1
        self._set_state(t, a, POST)
        if a.line1 == 5:
            self._line(t, a, 0)
        a.token += 1
        self._at(t + self.rng.uniform(*WRAP_RANGE[q.d.media]), self._post_end, (a, a.token))

    def _post_end(self, t: float, a: AgentState, token: int) -> None:
        if token != a.token:
            return
        a.inter = None
        self._free(t, a)

    def _login(self, t: float, a: AgentState) -> None:
        if a.state != LOGGED_OUT:
            return
        a.last_login = int(t)
        a.pending.clear()
        self._line(t, a, 0)
        self._free(t, a)

    def _want(self, t: float, a: AgentState, action: Pause) -> None:
        """A planned break, offline spell or logout: now if the agent is idle, else when they are."""
        if a.state == LOGGED_OUT:
            return
        if action.kind == "logout" and a.state in (BREAK, OFFLINE):
            a.token += 1  # cut the break short: the shift is over
            a.pending = [action]
            self._free(t, a)
            return
        a.pending.append(action)
        if a.state == AVAILABLE:
            self._free(t, a)

    def _end_pause(self, t: float, a: AgentState, token: int) -> None:
        if token == a.token:
            self._free(t, a)

    def _free(self, t: float, a: AgentState) -> None:
        """The agent has nothing to do: start the next planned pause, log out, or become available."""
        self._not_available(a)
        while a.pending:
            pause = a.pending.pop(0)
            if pause.kind == "logout":
                a.pending.clear()
                a.code = None
                self._set_state(t, a, LOGGED_OUT)
                self._line(t, a, -1)
                return
            a.code = pause.code
            self._set_state(t, a, BREAK if pause.kind == "break" else OFFLINE)
            a.token += 1
            self._at(t + pause.duration, self._end_pause, (a, a.token))
            return
        a.code = None
        self._set_state(t, a, AVAILABLE)
        self._make_available(a, t)

    def _make_available(self, a: AgentState, t: float) -> None:
        """Take the longest-waiting interaction among the agent's queues, or wait for one."""
        best: Interaction | None = None
        for qi in a.d.enabled:
            head = self._head(self.queues[qi])
            if head is not None and (best is None or head.arrival < best.arrival):
                best = head
        if best is not None:
            q = self.queues[best.queue]
            q.waiting.popleft()
            q.size -= 1
            self._offer(t, a, best)
            return
        for qi in a.d.enabled:
            self.available[qi].add(a.d.index)

    def _not_available(self, a: AgentState) -> None:
        if a.state == AVAILABLE:
            for qi in a.d.enabled:
                self.available[qi].discard(a.d.index)

    def _set_state(self, t: float, a: AgentState, state: int) -> None:
        """Close the time spent in the old state into the day and half-hour buckets."""
        if a.state == AVAILABLE and state != AVAILABLE:
            self._not_available(a)
        bucket = BUCKET.get(a.state)
        if bucket is not None:
            a.day_t[bucket] += t - a.since
            a.hh_t[bucket] += t - max(a.since, self.hh_start)
        a.state = state
        a.since = t

    def _line(self, t: float, a: AgentState, status: int) -> None:
        if a.line1 != status:
            a.line1, a.line1_since = status, t

    # --- snapshot ---------------------------------------------------------------------------

    def snapshot(self, t: float) -> tuple[list[Record], list[Record]]:
        """Agents and queues as the statistics API shows them at time t (after advance(t))."""
        agents = [self._agent_record(t, a) for a in self.agents]
        return agents, self._queue_records(t)

    def _agent_record(self, t: float, a: AgentState) -> Record:
        day_t, hh_t = list(a.day_t), list(a.hh_t)
        bucket = BUCKET.get(a.state)
        if bucket is not None:
            day_t[bucket] += t - a.since
            hh_t[bucket] += t - max(a.since, self.hh_start)
        code = a.code or ("", "", "")
        line2 = 0 if a.d.has_line2 and a.state != LOGGED_OUT else -1
        return {
            "agent-id": a.d.agent_id,
            "agent-media-id": a.media_id,
            "agent-name": a.d.name,
            "agent-status": a.state,
            "assigned-skill-count": len(a.d.assigned),
            "day-accepted-count": a.day_acc,
            "day-available-time": int(day_t[0]),
            "day-avg-processing-time": int(a.day_hsum // a.day_hn) if a.day_hn else 0,
            "day-break-time": int(day_t[3]),
            "day-login-time": int(sum(day_t)),
            "day-offline-time": int(day_t[4]),
            "day-processing-time": int(day_t[1]),
            "day-rejected-count": a.day_rej,
            "day-wrap-up-time": int(day_t[2]),
            "enabled-skill-count": len(a.d.enabled),
            "group-id": a.d.group_id,
            "last-login-time": a.last_login,
            "phone-line1-status": a.line1,
            "phone-line1-status-time": int(t - a.line1_since) if a.line1 != -1 else -1,
            "phone-line2-status": line2,
            "phone-line2-status-time": -1 if line2 == -1 else int(t - max(a.last_login, self.start)),
            "status-code-item-id": code[0],
            "status-code-item-short-code": code[1],
            "status-code-list-id": code[2],
            "thirty-min-accepted-count": a.hh_acc,
            "thirty-min-available-time": int(hh_t[0]),
            "thirty-min-avg-handling-time": int(a.hh_hsum // a.hh_hn) if a.hh_hn else 0,
            "thirty-min-break-time": int(hh_t[3]),
            "thirty-min-offline-time": int(hh_t[4]),
            "thirty-min-processing-time": int(hh_t[1]),
            "thirty-min-rejected-count": a.hh_rej,
            "thirty-min-wrap-up-time": int(hh_t[2]),
            "time-in-status": int(t - a.since) if a.since >= 0 else -1,
        }

    def _queue_records(self, t: float) -> list[Record]:
        counts = [[0] * 6 for _ in self.queues]  # busy(+offered), loggedOut, onBreak, post, wait, offline
        slot = {OFFERED: 0, BUSY: 0, LOGGED_OUT: 1, BREAK: 2, POST: 3, AVAILABLE: 4, OFFLINE: 5}
        in_progress = [0] * len(self.queues)
        for a in self.agents:
            s = slot[a.state]
            for qi in a.d.enabled:
                counts[qi][s] += 1
            if a.state in (BUSY, POST) and a.inter is not None:
                in_progress[a.inter.queue] += 1
        assigned = self._assigned
        return [self._queue_record(t, q, counts[q.d.index], in_progress[q.d.index], assigned[q.d.index]) for q in self.queues]

    def _queue_record(self, t: float, q: QueueState, c: list[int], in_progress: int, assigned: int) -> Record:
        while q.recent and q.recent[0][0] < t - 900:
            q.recent.popleft()
        head = self._head(q)
        longest = int(t - head.arrival) if head else 0
        hh_longest = max(q.hh_longest, float(longest) if head else -1.0)
        if hh_longest < 0 and q.hh_q:
            hh_longest = 0
        recent_ok = sum(1 for _, ok in q.recent if ok)
        return {
            "agent-count-busy": c[0],
            "agent-count-loggedOut": c[1],
            "agent-count-onBreak": c[2],
            "agent-count-postProcess": c[3],
            "agent-count-waitTransact": c[4],
            "agent-count-workOffline": c[5],
            "day-abandoned": q.day_ab,
            "day-accepted": q.day_acc,
            "day-avg-duration": int(q.day_dsum // q.day_dn) if q.day_dn else 0,
            "day-avg-wait-time": int(q.day_wsum // q.day_wn) if q.day_wn else 0,
            "day-queued": q.day_q,
            "day-sla-activity": _percent(q.day_ok, q.day_sn),
            "assigned-agent-count": assigned,
            "enabled-agent-count": sum(c),
            "longest-wait-time": longest,
            "media-type": q.d.media,
            "number-in-offered": q.offered,
            "number-in-progress": in_progress,
            "queue-id": q.d.queue_id,
            "queue-name": q.d.name,
            "queue-size": q.size,
            "queue-type": "inbound",
            "sla-activity": _percent(recent_ok, len(q.recent)),
            "sla-target": SLA_TARGET[q.d.media],
            "thirty-min-abandoned": q.hh_ab,
            "thirty-min-accepted": q.hh_acc,
            "thirty-min-avg-duration": int(q.hh_dsum // q.hh_dn) if q.hh_dn else 0,
            "thirty-min-avg-wait-time": int(q.hh_wsum // q.hh_wn) if q.hh_wn else 0,
            "thirty-min-longest-wait-time": int(hh_longest) if hh_longest >= 0 else -1,
            "thirty-min-queued": q.hh_q,
            "thirty-min-sla-activity": _percent(q.hh_ok, q.hh_sn),
        }


def _percent(ok: int, n: int) -> int:
    """Whole percent, or -1 ("no SLA activity") when nothing counted yet."""
    return (ok * 100) // n if n else -1


# (t, agent records, queue records, the enabled queue ids of an agent id): may turn agents busy.
Outbound = Callable[[float, list[Record], list[Record], Callable[[str], list[str]]], None]


@dataclass
class ContactCenter:
    """The simulation across days: keeps one Day and rebuilds it when time leaves that day."""

    seed: int = 1
    n_agents: int = 50
    n_queues: int = 8
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    roster: Roster = field(init=False)
    _day: Day | None = field(default=None, init=False)
    # Outbound dialling laid over the inbound simulation (simulator/campaigns.py).
    outbound: Outbound | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.roster = build_roster(self.seed, self.n_agents, self.n_queues)
        ids = [q.queue_id for q in self.roster.queues]
        self._enabled = {a.agent_id: [ids[i] for i in a.enabled] for a in self.roster.agents}

    @property
    def today(self) -> Day:
        """The Day the last at() advanced: its agents' and queues' state behind the records."""
        if self._day is None:
            raise RuntimeError("no day simulated yet: call at() first")
        return self._day

    def at(self, t: float) -> tuple[list[Record], list[Record]]:
        """Agent and queue records at epoch second t (stepping back in time replays the day)."""
        local = datetime.fromtimestamp(t, self.tz).date()
        day = self._day
        if day is None or day.day != local or t < day.now:
            day = self._day = Day(self.roster, local, self.tz)
        day.advance(t)
        agents, queues = day.snapshot(t)
        if self.outbound is not None:
            self.outbound(t, agents, queues, lambda agent_id: self._enabled.get(agent_id, []))
        return agents, queues
