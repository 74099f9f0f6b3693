"""`make run` (manage.py runstack) brings the whole stack up, and Ctrl-C takes it all down."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wallboard.devstack.stack import BASE_DIR, business_hours_zone, free_port

pytestmark = pytest.mark.slow


def get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_it_serves_a_polled_demo_and_stops_everything_on_ctrl_c():
    run_dir = Path(tempfile.mkdtemp(prefix="wb-run-"))
    port, sim_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite:///{run_dir / 'db.sqlite3'}"
    argv = [sys.executable, "manage.py", "runstack", "--port", str(port), "--sim-port", str(sim_port),
            "--agents", "12", "--queues", "3", "--run-dir", str(run_dir)]
    proc = subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            health = get_json(f"http://127.0.0.1:{port}/healthz")
            if health and health["tenant_counts"]["ok"] == 1:
                break
            time.sleep(0.5)
        assert proc.poll() is None, "runstack exited early"
        assert health is not None, "/healthz never answered"
        assert health["status"] == "ok"
        assert health["tenant_counts"]["ok"] == 1, f"the demo tenant was not polled: {health}"
        assert (run_dir / "redis" / "redis.sock").exists(), "without REDIS_URL a private Redis runs"
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-2000:]
    assert f"http://127.0.0.1:{port}/d/" in output, "the kiosk URL is printed"
    assert "admin" in output and "password" in output, "the admin login is printed"
    assert not listening(port) and not listening(sim_port), "web and simulator stopped"
    assert not (run_dir / "redis" / "redis.sock").exists(), "the private Redis stopped"
    for pattern in (str(run_dir), f"worker-{port}@", f"--port {port}", f"--port {sim_port}"):
        leftovers = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
        assert leftovers == [], f"a process of this run is left behind ({pattern})"


def test_it_puts_the_demo_in_office_hours():
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # a Wednesday, early in Europe
    local = now.astimezone(ZoneInfo(business_hours_zone(now)))
    assert 9 <= local.hour <= 13 and local.weekday() < 5
