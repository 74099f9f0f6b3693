"""The SQLite database and the run folder are private to their owner (0600 and 0700).

They hold the encrypted tokens, password hashes, sessions, the Redis socket and logs; made with
the usual umask (022) they were readable by every user of the machine.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from wallboard.devstack.embedded_redis import EmbeddedRedis
from wallboard.devstack.stack import Stack

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask():
    """The umask most machines run with, whatever this one's is, so the test means something."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_it_makes_the_run_folder_private(tmp_path, usual_umask):
    stack = Stack(run_dir=tmp_path / "site" / ".run")

    assert mode(stack.run_dir) == 0o700


def test_it_tightens_a_run_folder_left_open_by_an_earlier_run(tmp_path, usual_umask):
    run_dir = tmp_path / ".run"
    run_dir.mkdir(mode=0o755)

    Stack(run_dir=run_dir)

    assert mode(run_dir) == 0o700


def test_it_leaves_a_shared_sticky_folder_alone(tmp_path, usual_umask):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)

    Stack(run_dir=shared)

    assert mode(shared) == 0o1777


def test_it_writes_process_logs_for_the_owner_only(tmp_path, usual_umask):
    stack = Stack(run_dir=tmp_path / ".run")

    stack.spawn("probe", [sys.executable, "-c", "print('hello')"]).wait(60)

    assert mode(stack.run_dir / "probe.log") == 0o600


def test_it_makes_the_embedded_redis_folder_private(tmp_path, usual_umask):
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    try:
        assert mode(server.directory) == 0o700
    finally:
        server.stop()


def open_database(database: Path) -> subprocess.CompletedProcess:
    """Start Django on a SQLite file and write to it, in a process with the usual umask."""
    code = (
        "import django; django.setup(); from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('CREATE TABLE IF NOT EXISTS t (x)'); "
        "cursor.execute('INSERT INTO t VALUES (1)')"
    )
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "wallboard.settings"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )


def test_it_creates_the_sqlite_database_for_the_owner_only(tmp_path):
    database = tmp_path / "db.sqlite3"

    result = open_database(database)

    assert result.returncode == 0, result.stderr
    assert database.stat().st_size > 0
    assert mode(database) == 0o600


def test_it_tightens_a_sqlite_database_left_world_readable(tmp_path):
    database = tmp_path / "db.sqlite3"
    database.touch()
    database.chmod(0o644)

    result = open_database(database)

    assert result.returncode == 0, result.stderr
    assert mode(database) == 0o600
