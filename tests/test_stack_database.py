"""A real stack a test starts writes to the suite's database engine: PostgreSQL when the suite runs on it.

The stack's processes (migrate, setup_demo, web, worker, beat) get a PostgreSQL database of their
own, made for the stack and dropped when it stops (tests/stack_fixtures.py); a run killed with
a stack up leaves it behind, and the next run's sweep drops it (tests/databases.py). On SQLite
the stack keeps its file in its run folder, as `make run` does, and these tests are skipped.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.db import connection
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tests import databases
from tests.helpers import wait_for
from tests.stack_fixtures import stack_rows, start_stack

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: on SQLite a stack keeps its SQLite file (run the suite with a postgres:// DATABASE_URL)",
)


def server() -> psycopg.Connection:
    """A connection to the server's `postgres` database, as the suite reaches it."""
    return psycopg.connect(**databases.maintenance_conninfo(connection.settings_dict))


def postgresql_databases(prefix: str) -> list[str]:
    with server() as db:
        rows = db.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)).fetchall()
    return sorted(name for (name,) in rows)


@on_postgresql
@pytest.mark.slow
def test_it_runs_a_real_stack_on_a_postgresql_database_of_its_own_and_drops_it():
    stack = start_stack()
    try:
        name = conninfo_to_dict(stack.database_url)["dbname"]
        session = databases.session_claim()
        assert session is not None
        assert name.startswith(f"{session.database}_s"), name
        assert name != connection.settings_dict["NAME"], "not the test's own database"

        # The worker polled the demo tenant (set up by setup_demo) and recorded it: in PostgreSQL.
        wait_for(lambda: stack_rows(stack, "SELECT state FROM boards_tenanthealth") == [("ok",)], 90, "the first poll")
        with psycopg.connect(stack.database_url) as db:
            assert db.info.dbname == name
            assert db.execute("SELECT count(*) FROM boards_tenant").fetchone() == (1,)
            assert db.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0
        assert not (stack.run_dir / "db.sqlite3").exists(), "no process fell back to SQLite"
    finally:
        stack.stop()

    assert postgresql_databases(name) == [], "dropped when the stack stopped"


@on_postgresql
def test_it_drops_the_stack_databases_a_killed_run_left_and_no_running_ones():
    prefix = databases.name_prefix(f"wb_stacks_{uuid.uuid4().hex[:8]}")
    alive = databases.Claim(connection.settings_dict, f"{prefix}beef0000_gw1")  # another run's session, still going
    running = databases.stack_database_name(alive.database, 1)
    left = databases.stack_database_name(f"{prefix}dead0000_gw0", 3)  # a killed run's stack: nobody holds it
    not_ours = f"{prefix}dead0000_gw0_sx"
    sweeper = None
    try:
        alive.create_database(running)
        with server() as db:
            for extra in (left, not_ours):
                db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(extra)))
        sweeper = databases.Claim(connection.settings_dict, f"{prefix}cafe0000_gw0")

        assert sweeper.drop_abandoned(prefix) == [left]
        assert postgresql_databases(prefix) == sorted([running, not_ours])
        alive.drop_database(running)
        assert postgresql_databases(prefix) == [not_ours]
    finally:
        with server() as db:
            for extra in (left, running, not_ours):
                db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(extra)))
        alive.release()
        if sweeper is not None:
            sweeper.release()
