"""Helpers every kind of test shares (no Django, no stack: importable from anywhere)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0, what: str = "condition", interval: float = 0.02) -> T:
    """Wait until `condition()` is truthy and return it; fail the test after `timeout` seconds.

    Synchronisation with another thread or process, not a timing assertion: the timeout only
    bounds how long a broken test hangs.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


def run_inner_pytest(folder: Path, environment: dict[str, str], reports: Path, *args: str) -> tuple[int, dict[str, dict], str]:
    """Run pytest on the test files in `folder`: (exit status, each worker's JSON report, output).

    Output goes to a file, not a pipe: a server left running would hold a pipe open, and the
    run with it.
    """
    argv = [sys.executable, "-m", "pytest", *args, "--rootdir", str(folder)]
    with open(folder / "output.txt", "w+") as output:
        done = subprocess.run(argv, cwd=folder, env=environment, stdout=output, stderr=subprocess.STDOUT, timeout=300)
        output.seek(0)
        text = output.read()
    found = {path.name: json.loads(path.read_text()) for path in reports.iterdir()}
    return done.returncode, found, text
