"""The suite runs on PostgreSQL when DATABASE_URL names one, else on SQLite (tests/databases.py).

Each pytest-xdist worker gets a test database of its own, the processes a test starts use the
same one, the databases go at the end of the run (and a killed run's at the start of the next),
and `.ci/run` picks PostgreSQL when one answers on 127.0.0.1:5432 (`.ci/database` says which).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from psycopg import sql

from tests import databases
from tests.helpers import run_inner_pytest
from wallboard.devstack.stack import free_port

BASE_DIR = Path(__file__).resolve().parent.parent

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only: run the suite with a postgres:// DATABASE_URL"
)

# What a process a test starts sees of the database: which one, and the test's row.
SUBPROCESS_CHECK = """
import json, django
django.setup()
from django.contrib.auth.models import User
from django.db import connection
seen = User.objects.filter(username="written-by-the-test").exists()
User.objects.create(username="written-by-the-subprocess")
print(json.dumps({"vendor": connection.vendor, "name": str(connection.settings_dict["NAME"]), "seen": seen}))
"""

# The inner run's test: which database its worker got. A thread keeps a connection of its own
# open to the end, as a poll pool's thread does: the database must be dropped all the same.
REPORTING_TEST = '''
import json, os, threading
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection


def keep_a_connection(connected):
    User.objects.exists()
    connected.set()
    threading.Event().wait()


@pytest.mark.django_db
def test_it_reports_its_database():
    connected = threading.Event()
    threading.Thread(target=keep_a_connection, args=(connected,), daemon=True).start()
    assert connected.wait(30)
    report = {"vendor": connection.vendor, "name": str(connection.settings_dict["NAME"])}
    Path(os.environ["WB_REPORT_DIR"], os.environ.get("PYTEST_XDIST_WORKER", "main")).write_text(json.dumps(report))
'''


def postgresql_databases(prefix: str) -> list[str]:
    with psycopg.connect(**databases.maintenance_conninfo(connection.settings_dict)) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)).fetchall()
    return sorted(name for (name,) in rows)


def create_postgresql_database(name: str) -> None:
    with psycopg.connect(**databases.maintenance_conninfo(connection.settings_dict)) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_postgresql_database(name: str) -> None:
    with psycopg.connect(**databases.maintenance_conninfo(connection.settings_dict)) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def ci_database(**env: str) -> subprocess.CompletedProcess[str]:
    """Run .ci/database with `env` on top of an environment without DATABASE_URL."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("CI_POSTGRES_")}
    return subprocess.run([str(BASE_DIR / ".ci" / "database")], cwd=BASE_DIR, env={**environment, **env},
                          capture_output=True, text=True, timeout=60)


# --- the test's database, in the processes a test starts -------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_processes_a_test_starts_on_the_tests_database(subprocess_env):
    User.objects.create(username="written-by-the-test")

    done = subprocess.run([sys.executable, "-c", SUBPROCESS_CHECK], cwd=BASE_DIR, env=subprocess_env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"vendor": connection.vendor, "name": str(connection.settings_dict["NAME"]), "seen": True}
    assert User.objects.filter(username="written-by-the-subprocess").exists()


# --- one database per worker, none left behind -----------------------------------------------


@pytest.fixture
def inner(tmp_path):
    """inner(*pytest args) -> (exit status, reports by worker, output, DATABASE_URL base name)."""
    scratch = Path(tempfile.mkdtemp(prefix="wb-db-"))  # short: the workers' Redis sockets go there
    for name in ("test_first.py", "test_second.py"):
        (tmp_path / name).write_text(REPORTING_TEST)
    # The suite's conftest as a conftest (not `-p`): its fixtures then come before pytest-django's.
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    reports = tmp_path / "reports"
    reports.mkdir()
    base = f"wb_inner_{uuid.uuid4().hex[:8]}"  # its own names: the outer run's are not touched

    def run(*args: str) -> tuple[int, dict[str, dict], str, str]:
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("PYTEST_", "REDIS_URL", "WB_TEST_")) and k != "DJANGO_SETTINGS_MODULE"}
        if connection.vendor == "postgresql":
            environment["DATABASE_URL"] = databases.subprocess_database_url(os.environ["DATABASE_URL"], base)
        environment.update(PYTHONPATH=str(BASE_DIR), DJANGO_SETTINGS_MODULE="wallboard.settings", TMPDIR=str(scratch),
                           WB_REPORT_DIR=str(reports))
        status, found, text = run_inner_pytest(tmp_path, environment, reports, "-p", "no:cacheprovider", "-q",
                                               "--dist", "loadfile", *args)
        return status, found, text, base

    yield run
    shutil.rmtree(scratch, ignore_errors=True)
    if connection.vendor == "postgresql":  # only if the test failed: no later run sweeps these names
        for name in postgresql_databases(databases.name_prefix(base)):
            drop_postgresql_database(name)


@pytest.mark.slow
def test_it_gives_each_worker_a_test_database_of_its_own_and_drops_them_at_the_end(inner):
    status, reports, output, base = inner("-n", "2", "test_first.py", "test_second.py")

    assert status == 0, output
    assert set(reports) == {"gw0", "gw1"}, output
    assert {report["vendor"] for report in reports.values()} == {connection.vendor}
    names = {worker: report["name"] for worker, report in reports.items()}
    assert names["gw0"] != names["gw1"]
    for worker, name in names.items():
        assert name.endswith(f"_{worker}")
    if connection.vendor == "postgresql":
        assert all(name.startswith(databases.name_prefix(base)) for name in names.values())
        assert postgresql_databases(databases.name_prefix(base)) == [], "pytest-django dropped both"
        assert "Error when trying to teardown test databases" not in output
    else:
        assert not [name for name in names.values() if Path(name).exists()], "pytest-django removed both files"


@on_postgresql
def test_it_drops_the_databases_a_killed_run_left_and_no_running_ones():
    prefix = databases.name_prefix(f"wb_sweep_{uuid.uuid4().hex[:8]}")
    left, running, serial = f"{prefix}dead0000_gw0", f"{prefix}beef0000_gw1", f"{prefix}0123abcd"
    not_ours = f"{prefix}eports"  # starts the same way, but no run made it
    for name in (left, running, serial, not_ours):
        create_postgresql_database(name)
    alive = databases.Claim(connection.settings_dict, running)  # a session of another run, still going
    sweeper = databases.Claim(connection.settings_dict, f"{prefix}cafe0000_gw0")
    try:
        assert sorted(sweeper.drop_abandoned(prefix)) == sorted([left, serial])
        assert postgresql_databases(prefix) == sorted([running, not_ours])
    finally:
        sweeper.release()
        alive.release()
        for name in (left, running, serial, not_ours):
            drop_postgresql_database(name)


# --- .ci/run: PostgreSQL when one answers, else SQLite ----------------------------------------


def test_it_tells_ci_to_use_sqlite_when_no_postgresql_answers():
    port = free_port()

    done = ci_database(CI_POSTGRES_PORT=str(port))

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"Database for the tests: SQLite (no PostgreSQL answered on 127.0.0.1:{port})" in done.stderr


def test_it_tells_ci_to_keep_a_database_url_already_set_without_showing_its_password():
    done = ci_database(DATABASE_URL="postgres://ci:hunter2@db.example:5433/wallboard")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "postgres://ci:hunter2@db.example:5433/wallboard"
    assert "DATABASE_URL as set (postgres://ci:***@db.example:5433/wallboard)" in done.stderr
    assert "hunter2" not in done.stderr


@on_postgresql
def test_it_tells_ci_to_use_the_postgresql_that_answers():
    server = urlsplit(os.environ["DATABASE_URL"])
    host, port, user = server.hostname or "127.0.0.1", str(server.port or 5432), server.username or "postgres"

    password = {"PGPASSWORD": server.password} if server.password else {}  # libpq reads it

    done = ci_database(CI_POSTGRES_HOST=host, CI_POSTGRES_PORT=port, CI_POSTGRES_USER=user, **password)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"postgres://{user}@{host}:{port}/wallboard"
    assert f"Database for the tests: PostgreSQL at {host}:{port}" in done.stderr
