"""Websockets through the real reverse proxy: Caddy in front of two real web processes.

docker-compose.yml puts Caddy (deploy/Caddyfile) in front of every web container. Docker does
not run here, so this runs the same Caddyfile with the caddy binary (Debian's package, which
`make test` installs as it installs chromium) on loopback ports: its upstreams are the two web
processes of a real stack (`dynamic a` asks Docker's DNS for the web containers; here the two
addresses are given), and everything else in its reverse_proxy block is as deployed (but
`stream_close_delay`, which Caddy before 2.7 does not know; Debian 12 has 2.6).

Six screens (tests/stack_fixtures.Screen, a kiosk page reduced to its protocol) open the demo
board's websocket through the proxy only. Checked: the proxy spread them over both processes;
every screen stays on one epoch with no seq gap, no resync and no patch that fails to apply;
after web process 2 is stopped (SIGTERM), its screens reconnect through the proxy (which sends
them to process 1) and every screen ends on the same seq with the same board state.

No timing is asserted: waits only bound how long a broken test hangs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers import wait_for
from tests.stack_fixtures import Screen, display_cookie, sim, start_stack
from wallboard.devstack.stack import free_port, wait_for_http

CADDY = shutil.which("caddy")
DEPLOY_CADDYFILE = Path(__file__).resolve().parent.parent / "deploy" / "Caddyfile"
SCREENS = 6
WAIT = 90  # bounds each wait for a few 10 s poll cycles on a loaded machine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CADDY is None, reason="no caddy binary: `make proxy-deps` installs Debian's caddy package"),
]


def caddy_version() -> tuple[int, int]:
    out = subprocess.run([CADDY or "caddy", "version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def proxy_config(upstream_ports: list[int], data_dir: Path) -> str:
    """deploy/Caddyfile with loopback upstreams instead of Docker's DNS, and no admin endpoint."""
    text = DEPLOY_CADDYFILE.read_text()
    upstreams = " ".join(f"127.0.0.1:{port}" for port in upstream_ports)
    text, found = re.subn(r"dynamic a \{[^}]*\}", f"to {upstreams}", text)
    assert found == 1, "deploy/Caddyfile no longer names its upstreams with `dynamic a { ... }`"
    if caddy_version() < (2, 7):
        text = re.sub(r"^\s*stream_close_delay .*$", "", text, flags=re.M)
    return f"{{\n\tadmin off\n\tauto_https off\n\tstorage file_system {data_dir}\n}}\n\n{text}"


def established_to(port: int) -> int:
    """Established TCP connections whose local end is 127.0.0.1:port (a web process's side)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if local == f"0100007F:{port:04X}" and state == "01":
            count += 1
    return count


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """(stack, proxy port): the stack's two web processes behind Caddy."""
    stack = start_stack()
    caddy = None
    try:
        stack.start_web("web-2")
        folder = tmp_path_factory.mktemp("caddy")
        port = free_port()
        config = folder / "Caddyfile"
        config.write_text(proxy_config([stack.web_port, stack.web_ports["web-2"]], folder / "data"))
        env = {**os.environ, "SITE_ADDRESS": f"http://127.0.0.1:{port}", "HOME": str(folder),
               "XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config")}
        with open(folder / "caddy.log", "wb") as log:
            caddy = subprocess.Popen([CADDY or "caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
                                     env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30, proc=caddy)
        wait_for(lambda: sim(stack, "/_sim/state")["requests"]["agents"] > 0, 90, "first poll", interval=0.5)
        yield stack, port
    finally:
        if caddy is not None:
            caddy.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                caddy.wait(10)
            if caddy.poll() is None:
                caddy.kill()
                caddy.wait()
        stack.stop()


def same_seq(screens: list[Screen]) -> bool:
    seqs = {s.seq for s in screens}
    return len(seqs) == 1 and all(not s.waiting for s in screens)


def test_it_carries_every_screen_on_one_seq_stream_through_caddy_across_a_web_restart(proxied):
    stack, port = proxied
    headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": display_cookie(stack)}
    url = f"ws://127.0.0.1:{port}/ws/boards/demo/"
    a, b = stack.web_port, stack.web_ports["web-2"]
    screens: list[Screen] = []
    try:
        for _ in range(SCREENS):
            screens.append(Screen(url, headers).start())  # one by one: least_conn alternates
        # Both processes hold screens (least_conn: three each; the proxy may also keep one idle
        # HTTP connection from the health check open).
        spread = (established_to(a), established_to(b))
        assert min(spread) >= 2, spread
        for screen in screens:
            screen.wait_patches(2, WAIT)

        stack.stop_process("web-2", signal.SIGTERM)
        wait_for(lambda: sum(s.connects for s in screens) > SCREENS, WAIT,
                 "web-2's screens reconnecting through the proxy", interval=0.2)
        for screen in screens:  # every screen live again: two more patches each
            screen.wait_patches(2, WAIT)
        wait_for(lambda: same_seq(screens), WAIT, "every screen on the same seq", interval=0.1)
        with contextlib.ExitStack() as locks:
            for screen in screens:
                locks.enter_context(screen.lock)
            states = {json.dumps(s.data, sort_keys=True) for s in screens}
            heads = {(s.epoch, s.seq) for s in screens}
    finally:
        for screen in screens:
            screen.stop()

    assert established_to(b) == 0  # web-2 is gone: its screens moved to web through the proxy
    assert sum(s.connects for s in screens) >= SCREENS + 2, [s.connects for s in screens]
    for s in screens:
        assert (s.gaps, s.resyncs, s.errors, len(s.epochs)) == (0, 0, [], 1), (s.gaps, s.resyncs, s.errors, s.epochs)
    assert len(heads) == 1 and len(states) == 1, heads
