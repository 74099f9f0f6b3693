"""Shared pieces of the stack benchmarks: the machine, the stack, websocket clients, /proc, Redis.

Every benchmark runs the real processes (`wallboard.devstack.stack.Stack`) on this machine and
talks to them over 127.0.0.1 only, so the figures are what a TV would see.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import resource
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallboard.settings")

from wallboard.devstack.stack import Stack  # noqa: E402

# The envelope every server message starts with (wallboard.live.messages.envelope): read without
# parsing the whole body, so a client costs little CPU even for a 500 kB snapshot.
HEAD_RE = re.compile(
    r'^\{"type":"(?P<type>\w+)","board":"[^"]*","epoch":(?:null|"(?P<epoch>[^"]*)"),"seq":(?P<seq>\d+),'
    r'"as_of":(?:null|"(?P<as_of>[^"]*)")'
)


# --- the machine -------------------------------------------------------------------------------


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    """One line that says where a figure was measured (the box is shared: load matters)."""
    return (
        f"machine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        f"load average {load_average()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def raise_open_files(limit: int = 65536) -> int:
    """Lift the soft limit on file descriptors as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(limit, hard) if hard != resource.RLIM_INFINITY else limit
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def verdict(name: str, ok: bool, detail: str) -> bool:
    print(f"  [{'met' if ok else 'MISSED'}] {name}: {detail}")
    return ok


# --- the stack ---------------------------------------------------------------------------------


def start_stack(agents: int, queues: int, *, sim_args: tuple[str, ...] = (), env: dict | None = None,
                concurrency: int = 2) -> Stack:
    """The whole stack in a short temporary folder (unix socket paths are limited to ~100 chars)."""
    run_dir = Path(tempfile.mkdtemp(prefix="wb-"))
    stack = Stack(run_dir, agents=agents, queues=queues, sim_args=sim_args, env_extra=env or {},
                  concurrency=concurrency)
    print(f"starting the stack in {run_dir} ({agents} agents, {queues} queues) ...", flush=True)
    started = time.monotonic()
    try:
        stack.start()
    except Exception:
        stack.stop()
        raise
    print(f"stack up in {time.monotonic() - started:.1f} s: web {stack.web_url}, simulator {stack.sim_url}", flush=True)
    return stack


def display_cookie(stack: Stack) -> str:
    """The `wb_display` cookie a TV gets by opening its kiosk URL."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(stack.kiosk_url, timeout=10)
    except urllib.error.HTTPError as exc:  # the 302 itself
        response = exc
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith("wb_display="):
            return header.split(";", 1)[0]
    raise RuntimeError("the kiosk URL set no wb_display cookie")


def ws_target(stack: Stack, cookie: str, slug: str = "demo") -> tuple[str, dict[str, str]]:
    """URL and headers of a board websocket, as the kiosk page opens it."""
    port = stack.web_port
    return f"ws://127.0.0.1:{port}/ws/boards/{slug}/", {"Origin": f"http://127.0.0.1:{port}", "Cookie": cookie}


def sim(stack: Stack, path: str, body: dict | None = None, method: str | None = None) -> dict:
    """Call the simulator's control endpoint."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.sim_url + path, data=data, method=method or ("POST" if data else "GET"))
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else {}


def redis_client(stack: Stack):
    return redis.Redis.from_url(stack.redis_url)


def wait_until(condition, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `condition` until it returns something truthy; raise TimeoutError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(interval)


def board_ready(stack: Stack, slug: str = "demo") -> bool:
    return bool(redis_client(stack).hget(f"wb:board:{slug}", "epoch"))


# --- /proc -------------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    """Resident set size of one process, in kB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """Direct children of a process (a prefork worker's pool processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def tree_rss_kb(pid: int) -> int:
    """RSS of a process and its children, in kB."""
    return rss_kb(pid) + sum(rss_kb(child) for child in children(pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- websocket clients -------------------------------------------------------------------------


@dataclass
class Arrival:
    kind: str
    epoch: str | None
    seq: int
    as_of: str | None
    at: float  # time.time() when the whole message had arrived
    empty: bool  # a patch with no ops
    size: int


@dataclass
class BoardClient:
    """A kiosk page reduced to its protocol: keeps epoch/seq, resyncs on a gap or a new epoch."""

    url: str
    headers: dict[str, str]
    keep: bool = True  # keep every Arrival (benchmarks that look at each message)
    arrivals: list[Arrival] = field(default_factory=list)
    epoch: str | None = None
    seq: int = 0
    gaps: int = 0
    resyncs: int = 0
    snapshots: int = 0
    messages: int = 0
    connected: bool = False
    closed_code: int | None = None
    last_status: dict | None = None
    ws: object = None

    async def run(self, stop: asyncio.Event, retry: bool = True) -> None:
        """Stay connected until `stop` is set, reconnecting like the page does after a drop."""
        while not stop.is_set():
            try:
                async with connect(self.url, additional_headers=self.headers, max_size=None, open_timeout=60,
                                   ping_interval=None, close_timeout=2, compression="deflate") as ws:
                    self.ws, self.connected = ws, True
                    await self._read(ws, stop)
            except Exception as exc:  # reconnect on anything: refused, dropped, timed out
                self.closed_code = getattr(getattr(exc, "rcvd", None), "code", None)
            self.connected = False
            if not retry or stop.is_set():
                return
            await asyncio.sleep(0.5)

    async def _read(self, ws, stop: asyncio.Event) -> None:
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({receive, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    await ws.close()
                    return
                await self.handle(ws, receive.result(), time.time())
        finally:
            stopper.cancel()

    async def handle(self, ws, text: str, at: float) -> None:
        self.messages += 1
        match = HEAD_RE.match(text)
        if match is None:
            message = json.loads(text)
            kind, epoch, seq, as_of = message["type"], message.get("epoch"), message.get("seq") or 0, message.get("as_of")
            if kind == "status":
                self.last_status = message.get("status")
        else:
            kind, epoch, seq, as_of = match["type"], match["epoch"], int(match["seq"]), match["as_of"]
            if kind == "status":
                self.last_status = json.loads(text)["status"]
            elif kind == "snapshot":
                self.last_status = _snapshot_status(text)
        if self.keep:
            self.arrivals.append(Arrival(kind, epoch, seq, as_of, at, text.endswith('"ops":[]}'), len(text)))
        if kind == "snapshot":
            self.snapshots += 1
            self.epoch, self.seq = epoch, seq
            return
        if epoch is None:
            return  # "pending": nothing stored yet
        if self.epoch is None or epoch != self.epoch:
            await self.resync(ws)
            self.epoch = epoch
            return
        if seq <= self.seq:
            return
        if seq != self.seq + 1:
            self.gaps += 1
            await self.resync(ws)
        self.seq = seq

    async def resync(self, ws) -> None:
        self.resyncs += 1
        await ws.send('{"type":"resync"}')


def _snapshot_status(text: str) -> dict | None:
    """The status object of a snapshot, which sits between "status": and ,"data":."""
    start = text.find(',"status":')
    end = text.find(',"data":', start)
    if start < 0 or end < 0:
        return None
    return json.loads(text[start + len(',"status":'):end])


async def loop_lag(stop: asyncio.Event, samples: list[float], every: float = 0.005) -> None:
    """How late this event loop wakes up: proves the clients are not the bottleneck."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(every)
        samples.append(time.perf_counter() - before - every)
