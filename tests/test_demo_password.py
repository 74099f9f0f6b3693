"""The admin password `make run` prints is the one that works for the database it serves."""

from __future__ import annotations

import io
import re
import stat

import pytest
from django.core.management import call_command
from django.test import Client

from wallboard.devstack.management.commands import setup_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def password_file(tmp_path, monkeypatch):
    path = tmp_path / ".run" / "admin-password"
    monkeypatch.setattr(setup_demo, "PASSWORD_FILE", path)
    return path


def logs_in(password: str) -> bool:
    """Whether the admin login page accepts user admin with this password."""
    response = Client().post("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    return response.status_code == 302 and response["Location"] == "/admin/"


def run_setup_demo() -> str:
    """Run setup_demo as the stack does and return the password it printed."""
    out = io.StringIO()
    # Nothing listens on port 9: the demo board starts empty, which is all this test needs.
    call_command("setup_demo", "--base-url", "http://127.0.0.1:9", stdout=out, stderr=io.StringIO())
    match = re.search(r"user admin, password (\S+)", out.getvalue())
    assert match, out.getvalue()
    return match.group(1)


def test_it_prints_a_password_that_logs_in(password_file):
    password = run_setup_demo()
    assert logs_in(password)


def test_it_keeps_the_password_between_runs_on_the_same_database(password_file):
    assert run_setup_demo() == run_setup_demo()


def test_it_prints_a_working_password_after_a_bench_used_another_database(password_file):
    first = run_setup_demo()
    # A bench's stack ran setup_demo against its own database from the same checkout: the
    # shared file now holds that database's password, which this database never had.
    password_file.write_text("password-of-the-bench-database\n")
    printed = run_setup_demo()
    assert logs_in(printed)
    assert printed != "password-of-the-bench-database"
    assert not logs_in(first)  # reset, not a second account


def test_it_repairs_an_admin_account_that_was_deactivated(password_file, django_user_model):
    password = run_setup_demo()
    django_user_model.objects.filter(username="admin").update(is_active=False)
    printed = run_setup_demo()
    assert logs_in(printed)
    assert printed != password


def test_it_writes_the_password_for_its_owner_only(password_file):
    run_setup_demo()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(password_file.parent.stat().st_mode) == 0o700
