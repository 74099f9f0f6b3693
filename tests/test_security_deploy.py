"""Production refuses settings that only look configured: the published SECRET_KEY, a wildcard
ALLOWED_HOSTS, keys that are not Fernet keys, endless timeouts; and never echoes a password.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.checks import registry
from django.core.exceptions import ImproperlyConfigured

from tests.test_access_deploy import production_env
from wallboard import env

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_KEY = "dev-only-insecure-key-5b1f0d9c7e2a4f3b8c6d1e0f9a8b7c6d5e4f3a2b1c0d"

# Fixed, not generated: parameters must be the same in every process that collects the tests.
A_GOOD_KEY = "Jq3nZ2YFh1kq9x8w3pL0m7T4bV6cR5sD2aE1fG8hI9o="


def run(args: list[str], **changes: str) -> subprocess.CompletedProcess:
    environment = {**production_env(), **changes}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def check_deploy(**changes: str) -> subprocess.CompletedProcess:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **changes)


# --- check --deploy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SECRET_KEY", DEVELOPMENT_KEY),
        ("ALLOWED_HOSTS", "*"),
        ("ALLOWED_HOSTS", "wall.example.com,*"),
        ("FIELD_ENCRYPTION_KEYS", "notakey"),
        ("FIELD_ENCRYPTION_KEYS", A_GOOD_KEY + ",notakey"),
    ],
)
def test_it_fails_the_deployment_checks_naming_the_variable(variable, value):
    result = check_deploy(**{variable: value})

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert variable in output
    if variable == "FIELD_ENCRYPTION_KEYS":
        assert "notakey" not in output  # a bad key may be a good key mistyped: never print it


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VCC_READ_TIMEOUT", "inf"),
        ("VCC_READ_TIMEOUT", "600"),
        ("VCC_CONNECT_TIMEOUT", "1e9"),
        ("VCC_CONNECT_TIMEOUT", "-inf"),
        ("WALLBOARD_ABANDONED_HOLD", "inf"),
        ("WALLBOARD_TICK_SECONDS", "nan"),
        ("WALLBOARD_UNAUTHORISED_RETRY", "infinity"),
    ],
)
def test_it_refuses_endless_or_absurd_timeouts_at_start_up(variable, value):
    result = run(["-c", "import wallboard.settings"], **{variable: value})

    assert result.returncode != 0
    assert f"{variable} must be" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "shown"),
    [
        ("DATABASE_URL", "mysql://wallboard:hunter2-Pa55@db:3306/wallboard", "mysql://wallboard:***@db:3306/wallboard"),
        ("DATABASE_URL", "postgres://wallboard:hunter2-Pa55@db:port/wallboard", "postgres://wallboard:***@db:port/wallboard"),
        ("REDIS_URL", "http://:hunter2-Pa55@redis:6379/0", "http://:***@redis:6379/0"),
    ],
)
def test_it_masks_the_password_of_a_bad_url(variable, value, shown):
    result = run(["-c", "import wallboard.settings"], **{variable: value})

    assert result.returncode != 0
    assert variable in result.stderr and shown in result.stderr
    assert "hunter2" not in result.stderr


# --- the checks themselves (for settings made any other way) -----------------------------------


def project_checks() -> list:
    from wallboard.ops import checks

    return [checks.check_secret_key, checks.check_allowed_hosts, checks.check_field_encryption_keys]


def deploy_check_ids() -> set[str]:
    return {error.id for check in project_checks() for error in check(None)}


def test_it_registers_the_checks_as_deployment_checks():
    deploy = registry.registry.get_checks(include_deployment_checks=True)
    always = registry.registry.get_checks(include_deployment_checks=False)

    for check in project_checks():
        assert check in deploy and check not in always


def test_it_passes_good_production_settings(settings):
    settings.SECRET_KEY = production_env()["SECRET_KEY"]
    settings.ALLOWED_HOSTS = ["wall.example.com", ".example.org"]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]

    assert deploy_check_ids() == set()


def test_it_flags_each_bad_setting(settings):
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    settings.ALLOWED_HOSTS = ["*"]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "notakey"]

    assert deploy_check_ids() == {"wallboard.E001", "wallboard.E002", "wallboard.E004"}
    settings.FIELD_ENCRYPTION_KEYS = []
    assert "wallboard.E003" in deploy_check_ids()


# --- the environment helpers -------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["inf", "-inf", "nan", "Infinity", "1e400"])
def test_it_refuses_non_finite_floats(monkeypatch, raw):
    monkeypatch.setenv("X_FLOAT", raw)
    with pytest.raises(ImproperlyConfigured, match="X_FLOAT must be a finite number"):
        env.env_float("X_FLOAT", 1.0, minimum=0.0, maximum=60.0)


def test_it_bounds_floats_above(monkeypatch):
    monkeypatch.setenv("X_FLOAT", "61")
    with pytest.raises(ImproperlyConfigured, match="X_FLOAT must be at most 60"):
        env.env_float("X_FLOAT", 1.0, minimum=0.0, maximum=60.0)
    monkeypatch.setenv("X_FLOAT", "60")
    assert env.env_float("X_FLOAT", 1.0, minimum=0.0, maximum=60.0) == 60.0


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgres://user:secret@host/db", "postgres://user:***@host/db"),
        ("postgres://user:se@cr/et:x@host:5432/db", "postgres://user:***@host:5432/db"),
        ("redis://:secret@redis:6379/0", "redis://:***@redis:6379/0"),
        ("postgres//user:secret@host/db", "postgres//user:***@host/db"),
        ("postgres://user@host/db", "postgres://user@host/db"),
        ("sqlite:///path/db.sqlite3", "sqlite:///path/db.sqlite3"),
    ],
)
def test_it_masks_passwords_in_urls(url, masked):
    assert env.masked_url(url) == masked
    assert "secret" not in env.masked_url(url)


def test_it_names_the_position_of_a_bad_fernet_key_not_the_key(monkeypatch):
    monkeypatch.setenv("X_KEYS", f"{Fernet.generate_key().decode()}, notakey")
    with pytest.raises(ImproperlyConfigured, match="X_KEYS: key 2 of 2 is not a Fernet key") as caught:
        env.env_fernet_keys("X_KEYS")
    assert "notakey" not in str(caught.value)


def test_it_still_starts_with_the_development_defaults():
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "-c", "import wallboard.settings as s; print(s.SECRET_KEY == s.DEVELOPMENT_SECRET_KEY)"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )
    assert result.stdout.strip() == "True", result.stderr
