"""Which database the suite runs on, and how a PostgreSQL test database is named and cleaned up.

Without DATABASE_URL the suite runs on SQLite files in temporary folders (tests/conftest.py).
With a postgres:// DATABASE_URL, pytest-django creates one test database per session and
drops it at the end: `test_<name>_r<run>` (a serial run), and with xdist the worker's name
after it (`test_<name>_r<run>_gw0`). The run part keeps two runs on one server (two checkouts,
CI beside a developer) from dropping each other's databases: pytest-django would drop a
database of the same name before creating its own.

A run that is killed cannot drop its databases. Each session therefore holds a PostgreSQL
advisory lock named after its database for as long as it runs (on a connection of its own,
which the server closes when the process dies, however it dies); a session that starts drops
every test database of this name whose lock no session holds.

A real stack a test starts (tests/stack_fixtures.py: web, worker, beat as processes of their
own) gets a database of its own on PostgreSQL, `<the session's database>_s<N>`: created for the
stack, migrated as `make run` migrates, dropped when it stops, and locked by the session in the
meantime, so the same sweep drops it when the run is killed.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

POSTGRESQL = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"

# The advisory locks' first key: ours, apart from any lock the application takes.
LOCK_CLASS = 0x5742_7444  # "WBtD"

# PostgreSQL cuts identifiers at 63 bytes: room for "test_", "_r" + 8, "_gw" + 3 digits and a
# stack's "_s" + 6 digits.
BASE_NAME_LENGTH = 32

# Django's own OPTIONS, not libpq's (the rest go to psycopg.connect as they are).
DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "pool", "assume_role"}


def run_id(workerinput: dict[str, Any] | None) -> str:
    """The same 8 hex digits in every worker of one xdist run; new ones for a serial run."""
    uid = (workerinput or {}).get("testrunuid") or uuid.uuid4().hex
    return str(uid)[:8]


def name_prefix(name: str) -> str:
    """What every test database made from the database `name` starts with."""
    return f"test_{name[:BASE_NAME_LENGTH]}_r"


def run_database_name(name: str, run: str) -> str:
    """The test database's name before pytest-django adds the xdist worker's (`_gw0`)."""
    return f"{name_prefix(name)}{run}"


def stack_database_name(session_database: str, number: int) -> str:
    """The database of a session's `number`th real stack (tests/stack_fixtures.py)."""
    return f"{session_database}_s{number}"


def subprocess_database_url(url: str, database: str) -> str:
    """DATABASE_URL with its database replaced: a process a test starts uses the test's database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def maintenance_conninfo(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """psycopg.connect() arguments for the server's `postgres` database, as Django reaches the server.

    Not the test database: a session connected to it would stop it from being dropped.
    """
    options = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items() if k not in DJANGO_ONLY_OPTIONS}
    given = {"host": settings_dict.get("HOST"), "port": settings_dict.get("PORT"),
             "user": settings_dict.get("USER"), "password": settings_dict.get("PASSWORD")}
    return {**options, **{k: v for k, v in given.items() if v}, "dbname": "postgres", "autocommit": True}


_session: Claim | None = None


def claim_session(settings_dict: dict[str, Any], database: str) -> Claim:
    """This session's Claim on its test database, found again by session_claim()."""
    global _session
    _session = Claim(settings_dict, database)
    return _session


def session_claim() -> Claim | None:
    """The session's Claim while it runs on PostgreSQL; None on SQLite (and before, and after)."""
    return _session if _session is not None and not _session.connection.closed else None


class Claim:
    """This session's hold on its test database's name, and the sweep of dead sessions' databases."""

    def __init__(self, settings_dict: dict[str, Any], database: str) -> None:
        self.database = database
        self.connection = psycopg.connect(**maintenance_conninfo(settings_dict))
        self.connection.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, database))

    def drop_abandoned(self, prefix: str) -> list[str]:
        """Drop the test databases named `prefix` + a run (+ a worker) that no running session holds.

        Only names this module makes: a database of someone else's that happens to start the
        same way is left alone.
        """
        ours = re.compile(re.escape(prefix) + r"[0-9a-f]{8}(_gw[0-9]+)?(_s[0-9]+)?")
        rows = self.connection.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)).fetchall()
        dropped = []
        for (name,) in rows:
            if name == self.database or not ours.fullmatch(name) or not self._try_lock(name):
                continue
            try:
                # FORCE (PostgreSQL 13+) ends what a killed run's processes left connected.
                force = sql.SQL(" WITH (FORCE)") if self.connection.info.server_version >= 130000 else sql.SQL("")
                self.connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force))
                dropped.append(name)
            except psycopg.Error:
                pass  # another sweeper's, or not ours to drop: left as it is
            finally:
                self.connection.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_CLASS, name))
        return dropped

    def create_database(self, name: str) -> None:
        """Create an empty database `name`, held by this session until drop_database().

        Held like the session's own: if the run is killed, the next run's sweep drops it.
        """
        self.connection.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, name))
        self.connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        """Drop a database create_database() made, ending what is still connected to it."""
        try:
            if self.connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                self.disconnect_others(name)
                self.connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        finally:
            self.connection.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_CLASS, name))

    def _try_lock(self, name: str) -> bool:
        row = self.connection.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, name)).fetchone()
        return bool(row and row[0])

    def disconnect_others(self, name: str, keep: int | None = None) -> None:
        """Close the test database `name` to new sessions and end those connected but backend `keep`.

        They are this session's own, left open: threads that polled in this process (a pool's
        thread keeps its connection, and a poll queued for later may still connect) or
        processes a test started. PostgreSQL refuses to drop a database anything is connected
        to, and pytest-django would leave it behind.
        """
        self.connection.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        self.connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            (name, keep or 0),
        )

    def release(self) -> None:
        """Let go of the name (closing the connection releases the lock)."""
        self.connection.close()


def flush_by_delete() -> None:
    """Empty the tables after a transactional test with DELETE, not TRUNCATE.

    pytest-django empties every table after each `transaction=True` test (Django's flush). On
    PostgreSQL a TRUNCATE of the project's 44 tables takes about 0.3 s (new files for each
    table), DELETE of their few rows about 0.01 s: up to half a second a test on a loaded
    machine, a minute or more over the suite. The same rows go, in the same transaction, and sequences are left
    as TRUNCATE leaves them. Django makes every foreign key DEFERRABLE INITIALLY DEFERRED, so
    the order of the DELETEs does not matter. A flush that must reset sequences or cascade to
    tables outside the list keeps Django's TRUNCATE.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False) -> list[str]:
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET CONSTRAINTS ALL DEFERRED", *(f"DELETE FROM {self.quote_name(table)}" for table in tables)]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
