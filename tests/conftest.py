"""Test-wide fixtures: a real Redis for the whole session, one per pytest-xdist worker.

Tests that touch the channel layer, Celery or board state use a real Redis server: the one
REDIS_URL names, or a private one started here exactly as `make run` starts its own.

`make test` runs the suite in parallel (pytest-xdist, `-n`): each worker is a session of its
own and gets a Redis of its own, since tests flush it, restart it and listen to its pub/sub.
Without REDIS_URL every worker starts its private server; with REDIS_URL worker gwN uses
database number (the URL's + N) and the channel-layer prefix `asgi-gwN` on that server, as
pub/sub channels are not separated by database. The controlling process runs no test and
starts nothing. `pytest tests/test_x.py` (no -n) is one session, as before.

The database is SQLite, or PostgreSQL when DATABASE_URL names one: each worker has a test
database of its own (tests/databases.py), and processes a test starts use it (subprocess_env).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests import databases
from tests.parallel import heavy_files_first, worker_database_url, worker_number, xdist_controller, xdist_worker

_server = None
_claim: databases.Claim | None = None

# Read by tests/worker_settings.py in processes a test starts (see subprocess_env).
CHANNEL_PREFIX_VARIABLE = "WB_TEST_CHANNEL_PREFIX"


def pytest_configure(config):
    global _server, _claim
    if xdist_controller(config):
        return
    from django.conf import settings

    from wallboard.devstack.embedded_redis import EmbeddedRedis

    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"... in an xdist worker, else unset
    url = os.environ.get("REDIS_URL", "").strip()
    prefix = None
    if url and worker:
        url, prefix = worker_database_url(url, worker_number(worker)), f"asgi-{worker}"
    elif not url:
        # A short path: unix socket paths are limited to about 100 characters.
        _server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix=f"wb-redis-{worker or 'main'}-")))
        url = _server.start()
    os.environ["REDIS_URL"] = url
    from wallboard.settings import redis_settings

    for key, value in redis_settings(url).items():
        setattr(settings, key, value)
    if prefix:
        settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix
        os.environ[CHANNEL_PREFIX_VARIABLE] = prefix
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # A file, not memory: worker and beat subprocesses in integration tests share it.
        # (pytest-django adds the xdist worker's name to it: one database per worker.)
        database.setdefault("TEST", {})["NAME"] = str(Path(tempfile.mkdtemp(prefix="wb-db-")) / "test.sqlite3")
    elif database["ENGINE"] == databases.POSTGRESQL and not database.get("TEST", {}).get("NAME"):
        # A name of this run's (pytest-django adds the worker's), held while the session runs;
        # databases that killed runs left behind are dropped on the way (tests/databases.py).
        name = databases.run_database_name(database["NAME"], databases.run_id(getattr(config, "workerinput", None)))
        database.setdefault("TEST", {})["NAME"] = name
        _claim = databases.claim_session(database, f"{name}_{worker}" if worker else name)
        _claim.drop_abandoned(databases.name_prefix(database["NAME"]))
        databases.flush_by_delete()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Under xdist only: a serial run keeps pytest-django's order (database tests first).
    if xdist_worker(config):
        heavy_files_first(items)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    # After the session's fixtures are torn down, and before an xdist worker reports that it is
    # done: the controller may end a worker soon after, before pytest_unconfigure has run.
    _stop_server()


def pytest_unconfigure(config):
    _stop_server()


def _stop_server():
    global _claim
    if _server is not None:
        _server.stop()
    if _claim is not None:
        _claim.release()  # after pytest-django dropped the database (session fixtures end first)
        _claim = None


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, request):
    """pytest-django's test database, with nothing else connected to it when it is dropped."""
    yield
    if _claim is not None and not request.config.getoption("reuse_db"):
        from django.db import connection

        keep = connection.connection.info.backend_pid if connection.connection is not None else None
        _claim.disconnect_others(connection.settings_dict["NAME"], keep)


@pytest.fixture(scope="session")
def redis_server():
    """The private Redis server (None when REDIS_URL points elsewhere)."""
    return _server


@pytest.fixture
def subprocess_env(settings):
    """Environment for worker/beat/web subprocesses that share this test's database and Redis."""
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1"}
    if CHANNEL_PREFIX_VARIABLE in env:
        env["DJANGO_SETTINGS_MODULE"] = "tests.worker_settings"
    database = settings.DATABASES["default"]  # NAME: the test database's, once the test has one
    if database["ENGINE"] == databases.SQLITE:
        env["DATABASE_URL"] = f"sqlite:///{database['NAME']}"
    elif database["ENGINE"] == databases.POSTGRESQL:
        env["DATABASE_URL"] = databases.subprocess_database_url(os.environ["DATABASE_URL"], database["NAME"])
    return env


@pytest.fixture
def redis_client():
    """A client of the test Redis, emptied before the test."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    yield client
    client.close()


# Display fixtures shared by the admin tests; each module supplies its own `board`.
@pytest.fixture
def other_board(board):
    return _models().Board.objects.create(slug="sales", title="Sales", tenant=board.tenant)


@pytest.fixture
def display(board):
    display = _models().Display(name="Lobby TV")
    display.issue_token()
    display.save()
    _models().DisplayBoard.objects.create(display=display, board=board)
    return display


@pytest.fixture
def sent(monkeypatch):
    """Control messages sent to displays, instead of the channel layer."""
    calls: list[tuple] = []
    monkeypatch.setattr(_publish(), "send_display_control", lambda display_id, action, **kw: calls.append((display_id, action, kw)))
    return calls


def _models():
    # Imported when a fixture runs: pytest_configure must set up Redis before the apps load.
    from wallboard.boards import models

    return models


def _publish():
    from wallboard.live import publish

    return publish
