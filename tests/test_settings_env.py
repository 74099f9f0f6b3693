"""The environment helpers reject bad values loudly and accept good ones."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from wallboard import env


def test_it_parses_booleans(monkeypatch):
    for raw, expected in [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("off", False)]:
        monkeypatch.setenv("X_BOOL", raw)
        assert env.env_bool("X_BOOL", not expected) is expected


def test_it_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("X_BOOL", raising=False)
    assert env.env_bool("X_BOOL", True) is True
    assert env.env_int("X_INT", 7) == 7
    assert env.env_list("X_LIST", ["a"]) == ["a"]


def test_it_rejects_a_bad_boolean(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL must be a boolean"):
        env.env_bool("X_BOOL", False)


def test_it_rejects_a_bad_integer(monkeypatch):
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be an integer"):
        env.env_int("X_INT", 1)


def test_it_rejects_an_integer_out_of_range(monkeypatch):
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("X_INT", 5, minimum=1)


def test_it_rejects_a_bad_float(monkeypatch):
    monkeypatch.setenv("X_FLOAT", "nan")
    with pytest.raises(ImproperlyConfigured):
        env.env_float("X_FLOAT", 1.0, minimum=0)


def test_it_splits_lists(monkeypatch):
    monkeypatch.setenv("X_LIST", " a.example, ,b.example ")
    assert env.env_list("X_LIST", []) == ["a.example", "b.example"]


def test_it_rejects_a_url_with_the_wrong_scheme(monkeypatch):
    monkeypatch.setenv("X_URL", "http://redis:6379")
    with pytest.raises(ImproperlyConfigured, match="X_URL must be a URL"):
        env.env_url("X_URL", None, schemes=("redis", "unix"))


def test_it_rejects_an_unknown_time_zone(monkeypatch):
    monkeypatch.setenv("X_TZ", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="IANA time zone"):
        env.env_timezone("X_TZ", "UTC")


def test_it_requires_a_value(monkeypatch):
    monkeypatch.setenv("X_REQ", "  ")
    with pytest.raises(ImproperlyConfigured, match="X_REQ must be set"):
        env.env_required("X_REQ")
