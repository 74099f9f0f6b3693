"""Test-wide fixtures: a real Redis for the whole session.

Tests that touch the channel layer, Celery or board state use a real Redis server: the one
REDIS_URL names, or a private one started here exactly as `make run` starts its own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_server = None


def pytest_configure(config):
    global _server
    from django.conf import settings

    from wallboard.devstack.embedded_redis import EmbeddedRedis

    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        # A short path: unix socket paths are limited to about 100 characters.
        _server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="wb-redis-")))
        url = _server.start()
        os.environ["REDIS_URL"] = url
    from wallboard.settings import redis_settings

    for key, value in redis_settings(url).items():
        setattr(settings, key, value)
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # A file, not memory: worker and beat subprocesses in integration tests share it.
        database.setdefault("TEST", {})["NAME"] = str(Path(tempfile.mkdtemp(prefix="wb-db-")) / "test.sqlite3")


def pytest_unconfigure(config):
    if _server is not None:
        _server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """The private Redis server (None when REDIS_URL points elsewhere)."""
    return _server


@pytest.fixture
def subprocess_env(settings):
    """Environment for worker/beat/web subprocesses that share this test's database and Redis."""
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1"}
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        env["DATABASE_URL"] = f"sqlite:///{database['NAME']}"
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
