"""The suite runs in parallel (pytest-xdist): every worker has a Redis of its own, a run that
collects nothing fails, and the longest files start first.

The isolation tests run a small pytest of their own, in a subprocess, with the suite's conftest.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.helpers import run_inner_pytest
from tests.parallel import heavy_files_first, worker_database_url
from wallboard.devstack.embedded_redis import EmbeddedRedis

BASE_DIR = Path(__file__).resolve().parent.parent

# Each test of the inner run writes down which Redis its session got.
REPORTING_TEST = '''
import json, os
from pathlib import Path

import redis
from django.conf import settings


def test_it_reports_its_redis():
    url = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(url)
    assert client.ping()
    client.set("owner", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    report = {"url": url, "settings": settings.REDIS_URL,
              "prefix": settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix"), "db": client.connection_pool.connection_kwargs.get("db", 0)}
    Path(os.environ["WB_REPORT_DIR"], os.environ.get("PYTEST_XDIST_WORKER", "main")).write_text(json.dumps(report))
'''


@dataclass
class InnerRun:
    status: int
    reports: dict[str, dict]  # worker -> what its test saw
    folders: list[str]  # the temporary folders the run made
    left_running: list[int]  # processes of the run still there after it ended
    output: str


def running_from(folder: Path) -> list[int]:
    """Processes whose command line names `folder` (the workers' Redis servers name their socket)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(folder).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # exited while we looked
    return found


@pytest.fixture
def inner(tmp_path):
    """inner(*pytest args, REDIS_URL=...) -> InnerRun."""
    # A short TMPDIR: the workers' Redis sockets go there, and socket paths are limited to ~100 chars.
    scratch = Path(tempfile.mkdtemp(prefix="wb-px-"))
    (tmp_path / "test_first.py").write_text(REPORTING_TEST)
    (tmp_path / "test_second.py").write_text(REPORTING_TEST)
    reports = tmp_path / "reports"
    reports.mkdir()

    def run(*args: str, **env: str) -> InnerRun:
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("PYTEST_", "REDIS_URL", "WB_TEST_")) and k != "DJANGO_SETTINGS_MODULE"}
        environment.update(PYTHONPATH=str(BASE_DIR), DJANGO_SETTINGS_MODULE="wallboard.settings", TMPDIR=str(scratch),
                           WB_REPORT_DIR=str(reports), **env)
        status, found, text = run_inner_pytest(tmp_path, environment, reports, "-p", "tests.conftest",
                                               "-p", "no:cacheprovider", "-q", "--dist", "loadfile",
                                               "--no-loadscope-reorder", *args)
        folders = sorted(path.name for path in scratch.iterdir())
        return InnerRun(status, found, folders, running_from(scratch), text)

    yield run
    for pid in running_from(scratch):  # only if a test failed: stop what it left behind
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(scratch, ignore_errors=True)


def test_it_gives_each_worker_a_private_redis_and_stops_it(inner):
    run = inner("-n", "2", "test_first.py", "test_second.py")

    assert run.status == 0, run.output
    assert set(run.reports) == {"gw0", "gw1"}, run.output
    assert run.reports["gw0"]["url"] != run.reports["gw1"]["url"]
    for worker, report in run.reports.items():
        assert report["url"] == report["settings"]
        assert report["url"].startswith("unix://") and f"/wb-redis-{worker}-" in report["url"]
    assert not [name for name in run.folders if name.startswith("wb-redis-main-")], "the controller started no Redis"
    assert run.left_running == [], "every worker stopped its Redis"


def test_it_gives_each_worker_its_own_database_and_channel_prefix_on_a_given_redis(inner):
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="wb-px-")))
    base = server.start() + "?db=2"
    try:
        run = inner("-n", "2", "test_first.py", "test_second.py", REDIS_URL=base)
        owners = {db: redis.Redis.from_url(worker_database_url(base, db - 2)).get("owner") for db in (2, 3)}
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)

    assert run.status == 0, run.output
    assert {worker: (report["db"], report["prefix"]) for worker, report in run.reports.items()} == {
        "gw0": (2, "asgi-gw0"), "gw1": (3, "asgi-gw1"),
    }
    assert owners == {2: b"gw0", 3: b"gw1"}, "each worker wrote to its own database"
    assert not [name for name in run.folders if name.startswith("wb-redis-")], "no private Redis beside REDIS_URL"


def test_it_runs_one_file_without_xdist_on_one_private_redis(inner):
    run = inner("test_first.py")

    assert run.status == 0, run.output
    assert list(run.reports) == ["main"]
    assert "/wb-redis-main-" in run.reports["main"]["url"] and run.reports["main"]["prefix"] is None
    assert run.left_running == []


def test_it_fails_a_parallel_run_that_collects_nothing_and_leaves_no_server(inner):
    run = inner("-n", "2", "-k", "no_such_test", "test_first.py", "test_second.py")

    assert run.status == pytest.ExitCode.NO_TESTS_COLLECTED, run.output
    assert run.reports == {}
    assert run.left_running == [], "a worker ended before it stopped its Redis"


@pytest.mark.parametrize(("url", "offset", "expected"), [
    ("redis://redis:6379", 0, "redis://redis:6379/0"),
    ("redis://:secret@redis:6379/2", 3, "redis://:secret@redis:6379/5"),
    ("redis://redis/2?db=5&socket_timeout=3", 1, "redis://redis/6?socket_timeout=3"),
    ("rediss://user:secret@redis:6380/1", 2, "rediss://user:secret@redis:6380/3"),
    ("unix:///run/redis.sock", 1, "unix:///run/redis.sock?db=1"),
    ("unix:///run/redis.sock?db=4", 2, "unix:///run/redis.sock?db=6"),
])
def test_it_moves_the_database_number_by_the_worker_number(url, offset, expected):
    assert worker_database_url(url, offset) == expected


class Item:
    """What heavy_files_first reads of a test item."""

    def __init__(self, path: str, name: str, slow: bool = False):
        self.location = (path, 0, name)
        self.slow = slow

    def get_closest_marker(self, name: str):
        return object() if name == "slow" and self.slow else None


def test_it_puts_files_with_more_slow_tests_first_and_keeps_the_order_within_files():
    items = [
        Item("tests/test_a.py", "a1"),
        Item("tests/test_b.py", "b1", slow=True),
        Item("tests/test_c.py", "c1", slow=True),
        Item("tests/test_a.py", "a2"),
        Item("tests/test_c.py", "c2"),
        Item("tests/test_c.py", "c3", slow=True),
    ]

    heavy_files_first(items)

    assert [item.location[2] for item in items] == ["c1", "c2", "c3", "b1", "a1", "a2"]


def test_it_gives_a_process_the_test_starts_the_workers_channel_prefix():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.worker_settings", "WB_TEST_CHANNEL_PREFIX": "asgi-gw5"}
    code = "import django; django.setup(); from django.conf import settings as s; print(s.CHANNEL_LAYERS['default']['CONFIG'])"

    done = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=environment, capture_output=True, text=True,
                          timeout=120)

    assert done.returncode == 0, done.stderr
    assert "'prefix': 'asgi-gw5'" in done.stdout
