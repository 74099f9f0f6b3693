"""`manage.py simulate_8x8` prints where it listens, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[1]


def test_it_serves_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_8x8", "--port", "0", "--agents", "6", "--queues", "2", "--seed", "3",
         "--tenant", "acme", "--token", "t0ken", "--start", "2026-03-04T10:00"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        output = "".join(lines)
        base_url = re.search(r"8x8 simulator at (http://127\.0\.0\.1:\d+)", output).group(1)
        assert "acme" in output and "t0ken" in output
        r = requests.get(base_url + "/api/rtstats/stats/queues.json", auth=("acme", "t0ken"), timeout=10)
        assert len(r.json()["queue"]) == 2
        state = requests.get(base_url + "/_sim/state", timeout=10).json()
        assert state["now"].startswith("2026-03-04T10:00")
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert "Stopping" in rest
        assert "Traceback" not in output + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("args", [["--agents", "0"], ["--speed", "0"], ["--tenant-tz", "Mars/Olympus"], ["--max-customers", "-1"],
                                  ["--start", "yesterday"]])
def test_it_refuses_bad_options(args):
    with pytest.raises(CommandError):
        call_command("simulate_8x8", "--port", "0", *args)
